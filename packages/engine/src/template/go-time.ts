// Go's time.Time.Format for a UTC instant, following time/format.go: the
// same layout tokens recognised in the same order (nextStdChunk), so any
// layout string Vault accepts formats the same way here.

const LONG_MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

type Std =
  | { kind: "longMonth" | "month" | "numMonth" | "zeroMonth" }
  | { kind: "longWeekDay" | "weekDay" }
  | { kind: "day" | "underDay" | "zeroDay" | "underYearDay" | "zeroYearDay" }
  | { kind: "hour" | "hour12" | "zeroHour12" | "minute" | "zeroMinute" | "second" | "zeroSecond" }
  | { kind: "longYear" | "year" }
  | { kind: "PM" | "pm" | "TZ" }
  | { kind: "numTZ"; colon: boolean; seconds: boolean; short: boolean; iso: boolean }
  | { kind: "frac"; trim: boolean; digits: number; separator: string };

interface Chunk {
  prefix: string;
  std: Std | null;
  suffix: string;
}

function startsWithLowerCase(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 0x61 && c <= 0x7a;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

const ZERO_TOKENS: Record<string, Std["kind"]> = {
  "1": "zeroMonth",
  "2": "zeroDay",
  "3": "zeroHour12",
  "4": "zeroMinute",
  "5": "zeroSecond",
  "6": "year",
};

/** time.nextStdChunk. */
function nextStdChunk(layout: string): Chunk {
  const chunk = (i: number, std: Std, len: number): Chunk => ({
    prefix: layout.slice(0, i),
    std,
    suffix: layout.slice(i + len),
  });
  const tz = (i: number, len: number, iso: boolean, colon: boolean, seconds: boolean, short: boolean): Chunk =>
    chunk(i, { kind: "numTZ", iso, colon, seconds, short }, len);
  for (let i = 0; i < layout.length; i++) {
    const rest = layout.slice(i);
    switch (layout[i]) {
      case "J":
        if (rest.startsWith("Jan")) {
          if (rest.startsWith("January")) return chunk(i, { kind: "longMonth" }, 7);
          if (!startsWithLowerCase(rest.slice(3))) return chunk(i, { kind: "month" }, 3);
        }
        break;
      case "M":
        if (rest.startsWith("Mon")) {
          if (rest.startsWith("Monday")) return chunk(i, { kind: "longWeekDay" }, 6);
          if (!startsWithLowerCase(rest.slice(3))) return chunk(i, { kind: "weekDay" }, 3);
        }
        if (rest.startsWith("MST")) return chunk(i, { kind: "TZ" }, 3);
        break;
      case "0": {
        const next = layout[i + 1];
        if (next !== undefined && next >= "1" && next <= "6") {
          return chunk(i, { kind: ZERO_TOKENS[next] } as Std, 2);
        }
        if (rest.startsWith("002")) return chunk(i, { kind: "zeroYearDay" }, 3);
        break;
      }
      case "1":
        if (layout[i + 1] === "5") return chunk(i, { kind: "hour" }, 2);
        return chunk(i, { kind: "numMonth" }, 1);
      case "2":
        if (rest.startsWith("2006")) return chunk(i, { kind: "longYear" }, 4);
        return chunk(i, { kind: "day" }, 1);
      case "_":
        if (layout[i + 1] === "2") {
          // _2006 is a literal _ followed by the long year.
          if (rest.startsWith("_2006")) return { prefix: layout.slice(0, i + 1), std: { kind: "longYear" }, suffix: layout.slice(i + 5) };
          return chunk(i, { kind: "underDay" }, 2);
        }
        if (rest.startsWith("__2")) return chunk(i, { kind: "underYearDay" }, 3);
        break;
      case "3":
        return chunk(i, { kind: "hour12" }, 1);
      case "4":
        return chunk(i, { kind: "minute" }, 1);
      case "5":
        return chunk(i, { kind: "second" }, 1);
      case "P":
        if (layout[i + 1] === "M") return chunk(i, { kind: "PM" }, 2);
        break;
      case "p":
        if (layout[i + 1] === "m") return chunk(i, { kind: "pm" }, 2);
        break;
      case "-":
        if (rest.startsWith("-070000")) return tz(i, 7, false, false, true, false);
        if (rest.startsWith("-07:00:00")) return tz(i, 9, false, true, true, false);
        if (rest.startsWith("-0700")) return tz(i, 5, false, false, false, false);
        if (rest.startsWith("-07:00")) return tz(i, 6, false, true, false, false);
        if (rest.startsWith("-07")) return tz(i, 3, false, false, false, true);
        break;
      case "Z":
        if (rest.startsWith("Z070000")) return tz(i, 7, true, false, true, false);
        if (rest.startsWith("Z07:00:00")) return tz(i, 9, true, true, true, false);
        if (rest.startsWith("Z0700")) return tz(i, 5, true, false, false, false);
        if (rest.startsWith("Z07:00")) return tz(i, 6, true, true, false, false);
        if (rest.startsWith("Z07")) return tz(i, 3, true, false, false, true);
        break;
      case ".":
      case ",": {
        const ch = layout[i + 1];
        if (ch === "0" || ch === "9") {
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            const std: Std = { kind: "frac", trim: ch === "9", digits: (j - (i + 1)) & 0xfff, separator: layout[i] ?? "." };
            return { prefix: layout.slice(0, i), std, suffix: layout.slice(j) };
          }
        }
        break;
      }
    }
  }
  return { prefix: layout, std: null, suffix: "" };
}

/** time's appendInt: decimal with zero padding to width, sign first. */
function appendInt(x: number, width: number): string {
  const negative = x < 0;
  const digits = String(Math.abs(x));
  return (negative ? "-" : "") + digits.padStart(width, "0");
}

function appendNano(nanos: number, trim: boolean, n: number, separator: string): string {
  if (trim && (n === 0 || nanos === 0)) return "";
  let s = separator + String(nanos).padStart(9, "0");
  if (n < 9) s = s.slice(0, s.length - 9 + n);
  if (trim) {
    s = s.replace(/0+$/, "");
    if (s === separator) s = "";
  }
  return s;
}

/**
 * Formats an instant, given as Unix milliseconds plus extra nanoseconds
 * (0-999999), with a Go layout, in UTC. The layout and result are byte
 * strings; layout tokens are all ASCII, so other bytes pass through.
 */
export function formatGoTime(layout: string, unixMillis: number, extraNanos = 0): string {
  const date = new Date(unixMillis);
  const millis = ((unixMillis % 1000) + 1000) % 1000;
  const nanos = millis * 1_000_000 + extraNanos;
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth(); // 0-based
  const day = date.getUTCDate();
  const weekday = date.getUTCDay();
  const hour = date.getUTCHours();
  const minute = date.getUTCMinutes();
  const second = date.getUTCSeconds();
  const yday = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;

  let out = "";
  let rest = layout;
  while (rest !== "") {
    const { prefix, std, suffix } = nextStdChunk(rest);
    out += prefix;
    if (std === null) break;
    rest = suffix;
    switch (std.kind) {
      case "year":
        out += appendInt(Math.abs(year) % 100, 2);
        break;
      case "longYear":
        out += appendInt(year, 4);
        break;
      case "month":
        out += (LONG_MONTHS[month] ?? "").slice(0, 3);
        break;
      case "longMonth":
        out += LONG_MONTHS[month] ?? "";
        break;
      case "numMonth":
        out += appendInt(month + 1, 0);
        break;
      case "zeroMonth":
        out += appendInt(month + 1, 2);
        break;
      case "weekDay":
        out += (LONG_DAYS[weekday] ?? "").slice(0, 3);
        break;
      case "longWeekDay":
        out += LONG_DAYS[weekday] ?? "";
        break;
      case "day":
        out += appendInt(day, 0);
        break;
      case "underDay":
        out += (day < 10 ? " " : "") + appendInt(day, 0);
        break;
      case "zeroDay":
        out += appendInt(day, 2);
        break;
      case "underYearDay":
        out += (yday < 100 ? (yday < 10 ? "  " : " ") : "") + appendInt(yday, 0);
        break;
      case "zeroYearDay":
        out += appendInt(yday, 3);
        break;
      case "hour":
        out += appendInt(hour, 2);
        break;
      case "hour12":
        out += appendInt(hour % 12 === 0 ? 12 : hour % 12, 0);
        break;
      case "zeroHour12":
        out += appendInt(hour % 12 === 0 ? 12 : hour % 12, 2);
        break;
      case "minute":
        out += appendInt(minute, 0);
        break;
      case "zeroMinute":
        out += appendInt(minute, 2);
        break;
      case "second":
        out += appendInt(second, 0);
        break;
      case "zeroSecond":
        out += appendInt(second, 2);
        break;
      case "PM":
        out += hour >= 12 ? "PM" : "AM";
        break;
      case "pm":
        out += hour >= 12 ? "pm" : "am";
        break;
      case "TZ":
        out += "UTC";
        break;
      case "numTZ":
        // The offset is always zero: ISO forms print Z, numeric ones +00...
        if (std.iso) {
          out += "Z";
          break;
        }
        out += "+00";
        if (std.colon) out += ":";
        if (!std.short) out += "00";
        if (std.seconds) out += (std.colon ? ":" : "") + "00";
        break;
      case "frac":
        out += appendNano(nanos, std.trim, std.digits, std.separator);
        break;
    }
  }
  return out;
}
