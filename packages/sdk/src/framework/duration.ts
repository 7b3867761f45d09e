// Durations as Vault accepts them (parseutil.ParseDurationSecond): a number is
// seconds; a string is seconds, or a Go duration ("1h30m", "90s", "1.5h"),
// or days with a "d" suffix. The result is whole seconds, rounded down.

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

export function parseDurationSeconds(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) ? Math.trunc(raw) : undefined;
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw !== "string") return undefined;
  const s = raw.trim();
  if (s === "") return 0;
  if (/^[+-]?\d+$/.test(s)) return Number.parseInt(s, 10);
  if (/^[+-]?\d+d$/.test(s)) return Number.parseInt(s, 10) * 86400;
  const m = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return undefined;
  let total = 0;
  for (const part of s.replace(/^[+-]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_SECONDS[part[2] ?? "s"] ?? 1);
  }
  const seconds = Math.trunc(total + 1e-9);
  return m[1] === "-" ? -seconds : seconds;
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
