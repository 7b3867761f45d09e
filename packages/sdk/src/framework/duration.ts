// Durations as Vault accepts them (parseutil.ParseDurationSecond, then
// int(d.Seconds())): a number is seconds, truncated toward zero; a string is
// whole seconds in base 10, or whole days with a "d" suffix, or a Go duration
// ("1h30m", "90s", "1.5h"). Arithmetic is in int64 nanoseconds as in Go, so a
// value Go rejects as overflowing is rejected here too.

const NS_PER_SECOND = 1_000_000_000n;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const TWO_63 = 2n ** 63n;

// time.ParseDuration's unit table; both micro signs are accepted.
const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** strconv.ParseInt(s, 10, 64): an optional sign and ASCII digits, nothing else. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
}

// parseutil's overflowMul: the product must fit in an int64 Duration.
function durationProduct(a: bigint, b: bigint): bigint | undefined {
  const x = a * b;
  return x >= INT64_MIN && x <= INT64_MAX ? x : undefined;
}

/** A port of Go's time.ParseDuration, returning nanoseconds. */
export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") return undefined;
  let d = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) return undefined;
    let i = 0;
    let v = 0n;
    for (; isDigit(s[i]); i++) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO_63) return undefined;
    }
    const pre = i > 0;
    s = s.slice(i);
    // Digits of the fraction past int64's reach are dropped, as Go does.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; isDigit(s[j]); j++) {
        if (overflow) continue;
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > TWO_63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) return undefined;
    let u = 0;
    while (u < s.length && s[u] !== "." && !isDigit(s[u])) u++;
    const unit = UNIT_NANOS[s.slice(0, u)];
    if (u === 0 || unit === undefined) return undefined;
    s = s.slice(u);
    if (v > TWO_63 / unit) return undefined;
    v *= unit;
    if (f > 0n) {
      // Go adds the fraction through float64, which decides the last nanosecond.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO_63) return undefined;
    }
    d += v;
    if (d > TWO_63) return undefined;
  }
  if (neg) return -d;
  return d > INT64_MAX ? undefined : d;
}

function nanosToSeconds(d: bigint): number {
  // time.Duration.Seconds() as float64, then int(): the same float rounding
  // applies, so a fraction just under a whole second can round up as in Go.
  const seconds = Math.trunc(Number(d / NS_PER_SECOND) + Number(d % NS_PER_SECOND) / 1e9);
  return seconds + 0; // no negative zero
}

/**
 * Whole seconds from a request value, signed, or undefined when Go's
 * parseutil.ParseDurationSecond would reject it.
 */
export function parseDurationSeconds(raw: unknown): number | undefined {
  if (typeof raw === "bigint") raw = Number(raw);
  if (typeof raw === "number") {
    // time.Duration(float64) truncates; a value beyond int64 overflows the
    // multiplication by a second, as does any value Go cannot convert.
    if (!Number.isFinite(raw) || Math.abs(raw) >= 2 ** 63) return undefined;
    const d = durationProduct(BigInt(Math.trunc(raw)), NS_PER_SECOND);
    return d === undefined ? undefined : nanosToSeconds(d);
  }
  if (typeof raw !== "string") return undefined;
  if (raw === "") return 0;
  const whole = parseInt64(raw);
  let d: bigint | undefined;
  if (whole !== undefined) {
    d = durationProduct(whole, NS_PER_SECOND);
  } else if (raw.endsWith("d")) {
    // A "d" suffix is only ever whole days; "1.5d" is not a Go duration either.
    const days = parseInt64(raw.slice(0, -1));
    d = days === undefined ? undefined : durationProduct(days, 86_400n * NS_PER_SECOND);
  } else {
    d = parseGoDuration(raw);
  }
  return d === undefined ? undefined : nanosToSeconds(d);
}

/** Formats whole seconds as Go's time.Duration.String() would. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const sign = seconds < 0 ? "-" : "";
  let rest = Math.abs(seconds);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}
