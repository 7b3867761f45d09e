// Field types and their coercion, following the Go SDK's sdk/framework as an
// external plugin sees it: Vault sends request data over gRPC as JSON and the
// plugin side decodes it with plain json.Unmarshal, so numbers are float64;
// FieldData then converts each value with mapstructure's weak decoding or
// parseutil. test/go-coercion.test.ts runs a table of values through Go itself.
// A value that cannot be converted is a 400 naming the field and the type,
// never the value, which may be a secret.
import { LogicalError } from "../logical/errors.ts";
import { parseDurationSeconds } from "./duration.ts";

export type FieldType =
  | "string"
  | "int"
  | "int64"
  | "bool"
  | "float"
  | "duration"
  | "comma-string-slice"
  | "string-slice"
  | "kv-pairs"
  | "map"
  | "lowercase-string"
  | "name-string"
  | "time"
  | "header";

export interface FieldSchema {
  type: FieldType;
  description?: string;
  default?: unknown;
  required?: boolean;
  allowedValues?: readonly unknown[];
  /** Hidden from OpenAPI clients' displays and always masked in the UI. */
  sensitive?: boolean;
  displayName?: string;
  displayGroup?: string;
  /** Present only to accept an old name; not advertised in OpenAPI. */
  deprecated?: boolean;
}

export type FieldValue = string | number | bigint | boolean | string[] | Record<string, unknown> | Date | null;

const TYPE_NAMES: Record<FieldType, string> = {
  string: "string",
  int: "int",
  int64: "int64",
  bool: "bool",
  float: "float",
  duration: "duration",
  "comma-string-slice": "comma-separated string list",
  "string-slice": "string list",
  "kv-pairs": "key/value pairs",
  map: "map",
  "lowercase-string": "lowercase string",
  "name-string": "name string",
  time: "time",
  header: "header",
};

export class FieldError extends LogicalError {
  readonly field: string;
  constructor(field: string, type: FieldType, detail?: string) {
    super("invalid-request", `error converting input for field "${field}": expected ${TYPE_NAMES[type]}${detail ? `: ${detail}` : ""}`);
    this.field = field;
  }
}

const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 63n - 1n;

type PlainObject = Record<string, unknown>;

const isPlainObject = (v: unknown): v is PlainObject => v !== null && typeof v === "object" && !Array.isArray(v);

// Keys such as "__proto__" arrive from JSON as ordinary keys and must stay so.
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** strconv.FormatFloat(f, 'f', -1, 64): the shortest digits, never an exponent. */
function formatGoFloat(n: number): string {
  if (Object.is(n, -0)) return "-0";
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const sign = m[1] ?? "";
  const digits = (m[2] ?? "") + (m[3] ?? "");
  const point = 1 + Number(m[4]);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * mapstructure's weak decoding into a Go string. A JSON null is Go's nil,
 * which leaves the zero string. Integers beyond 2^53 keep all their digits;
 * see parseJson.
 */
function weakString(raw: unknown): string | undefined {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number") return formatGoFloat(raw);
  if (typeof raw === "bigint") return raw.toString();
  if (typeof raw === "boolean") return raw ? "1" : "0";
  if (raw === null) return "";
  return undefined;
}

/** Weak decoding into []string: a scalar becomes a one-item list, an empty object an empty one. */
function weakStringList(raw: unknown): string[] | undefined {
  if (raw === null) return [];
  if (Array.isArray(raw)) {
    const out: string[] = [];
    for (const item of raw) {
      const s = weakString(item);
      if (s === undefined) return undefined;
      out.push(s);
    }
    return out;
  }
  if (isPlainObject(raw)) return Object.keys(raw).length === 0 ? [] : undefined;
  const s = weakString(raw);
  return s === undefined ? undefined : [s];
}

/**
 * Weak decoding into a Go map: an object, or a list of objects merged in
 * order (an empty list is an empty map).
 */
function weakMaps(raw: unknown): PlainObject[] | undefined {
  if (isPlainObject(raw)) return [raw];
  if (Array.isArray(raw) && raw.every(isPlainObject)) return raw;
  return undefined;
}

function weakStringMap(raw: unknown): Record<string, string> | undefined {
  const maps = weakMaps(raw);
  if (!maps) return undefined;
  const out: Record<string, string> = {};
  for (const map of maps) {
    for (const [k, v] of Object.entries(map)) {
      const s = weakString(v);
      if (s === undefined) return undefined;
      setOwn(out, k, s);
    }
  }
  return out;
}

// underscoreOK from Go's strconv: an underscore only ever separates digits,
// and only where a base prefix makes underscores legal at all.
function underscoreOK(text: string): boolean {
  let s = text;
  let saw = "^";
  let i = 0;
  if (s[0] === "-" || s[0] === "+") s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1] ?? " ")) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? "";
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** strconv.ParseInt(s, 0, 64): Go integer literal syntax, no surrounding space. */
function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "") return undefined;
  const unsigned = s;
  let base = 10;
  if (s[0] === "0") {
    const prefix = s.length >= 3 ? (s[1] ?? "").toLowerCase() : "";
    base = prefix === "b" ? 2 : prefix === "x" ? 16 : 8;
    s = s.slice(prefix === "b" || prefix === "o" || prefix === "x" ? 2 : 1);
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    const d = Number.parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    n = n * BigInt(base) + BigInt(d);
  }
  if (underscores && !underscoreOK(unsigned)) return undefined;
  const v = neg ? -n : n;
  return v >= INT_MIN && v <= INT_MAX ? v : undefined;
}

// A hexadecimal float's value, rounded to nearest-even once, as Go does, even
// where the result is subnormal.
function hexFloatValue(mantissa: bigint, exp2: number): number {
  if (mantissa === 0n) return 0;
  const top = mantissa.toString(2).length - 1 + exp2;
  const ulp = Math.max(top - 52, -1074);
  const shift = ulp - exp2;
  if (shift <= 0) return Number(mantissa) * 2 ** exp2;
  const unit = 1n << BigInt(shift);
  let q = mantissa >> BigInt(shift);
  const rest = mantissa - (q << BigInt(shift));
  const half = unit >> 1n;
  if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  // q has at most 53 bits and 2 ** ulp is exact down to 2 ** -1074, so the
  // product is exact: the only rounding was the one above.
  return Number(q) * 2 ** ulp;
}

/** strconv.ParseFloat(s, 64), rejecting what Go rejects, overflow included. */
function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  // A port of readFloat: which strings are well formed.
  let i = 0;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  let hex = false;
  if (i + 2 < s.length && s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    hex = true;
    i += 2;
  }
  const digitsStart = i;
  let sawdot = false;
  let sawdigits = false;
  let underscores = false;
  let mantissa = 0n;
  let fractionDigits = 0;
  for (; i < s.length; i++) {
    const c = s[i] ?? "";
    if (c === "_") {
      underscores = true;
    } else if (c === ".") {
      if (sawdot) break;
      sawdot = true;
    } else if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      sawdigits = true;
      if (hex) {
        mantissa = mantissa * 16n + BigInt(Number.parseInt(c, 16));
        if (sawdot) fractionDigits++;
      }
    } else {
      break;
    }
  }
  if (!sawdigits) return undefined;
  const mantissaEnd = i;
  let exp = 0;
  if (s[i] === (hex ? "p" : "e") || s[i] === (hex ? "P" : "E")) {
    i++;
    let esign = 1;
    if (s[i] === "+" || s[i] === "-") {
      esign = s[i] === "-" ? -1 : 1;
      i++;
    }
    const c = s[i];
    if (c === undefined || c < "0" || c > "9") return undefined;
    for (; i < s.length; i++) {
      const d = s[i] ?? "";
      if (d === "_") {
        underscores = true;
      } else if (d >= "0" && d <= "9") {
        if (exp < 10000) exp = exp * 10 + Number(d);
      } else {
        break;
      }
    }
    exp *= esign;
  } else if (hex) {
    return undefined;
  }
  if (i !== s.length) return undefined;
  if (underscores && !underscoreOK(s)) return undefined;
  let f: number;
  if (hex) {
    f = hexFloatValue(mantissa, exp - 4 * fractionDigits);
  } else {
    // JavaScript's own decimal conversion is correctly rounded, as Go's is.
    f = Math.abs(Number(`${s.slice(digitsStart, mantissaEnd).replace(/_/g, "")}e${exp}`));
  }
  // Go reports overflow as a range error; underflow quietly becomes zero.
  if (!Number.isFinite(f)) return undefined;
  return neg ? -f : f;
}

// strconv.ParseBool's spellings; anything else, surrounding space included, is an error.
const GO_TRUE: ReadonlySet<string> = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE: ReadonlySet<string> = new Set(["0", "f", "F", "FALSE", "false", "False"]);

// unicode.IsSpace, which strings.TrimSpace uses: unlike String.prototype.trim
// it includes U+0085 and excludes U+FEFF.
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g");
const goTrimSpace = (s: string): string => s.replace(GO_TRIM, "");

/**
 * strings.ToLower: simple case mapping one code point at a time, so there is
 * no final-sigma rule and U+0130 becomes a plain "i".
 */
function goToLower(s: string): string {
  if (!/[^\x00-\x7f]/.test(s)) return s.toLowerCase();
  let out = "";
  for (const ch of s) out += ch === "\u0130" ? "i" : ch.toLowerCase();
  return out;
}

/** textproto.CanonicalMIMEHeaderKey, which http.Header.Add applies. */
function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  let out = "";
  let upper = true;
  for (const c of key) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === "-";
  }
  return out;
}

/** base64.StdEncoding.DecodeString: padding required; CR and LF are skipped. */
function decodeStdBase64(s: string): Buffer | undefined {
  const t = s.replace(/[\r\n]/g, "");
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t)) return undefined;
  return Buffer.from(t, "base64");
}

// A JSON number in a header given as a JSON string: Go decodes that string
// with UseNumber, so the number's own text becomes the header value.
class NumberText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

type ReviverContext = { source?: string };

/**
 * jsonutil.DecodeJSON into a map: the first JSON value of the text must be an
 * object (or null, an empty map); a json.Decoder ignores whatever follows an
 * object.
 */
function decodeJsonObject(text: string): PlainObject | undefined {
  // Text starting with a compression canary is decompressed by Go first;
  // compressed headers are not supported, and no JSON starts with one.
  if (text === "" || "GLS4".includes(text[0] ?? "")) return undefined;
  const start = text.search(/[^ \t\n\r]/);
  if (start < 0) return undefined;
  let end = text.length;
  if (text[start] === "{") {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') {
        inString = true;
      } else if (c === "{" || c === "[") {
        depth++;
      } else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) {
          end = i + 1;
          break;
        }
      }
    }
  } else if (/^null(?:[ \t\n\r]|$)/.test(text.slice(start))) {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end), ((_key: string, v: unknown, context?: ReviverContext) =>
      typeof v === "number" ? new NumberText(context?.source ?? String(v)) : v) as (key: string, value: unknown) => unknown);
  } catch {
    return undefined;
  }
  return isPlainObject(value) ? value : undefined;
}

/** The toHeader closure of FieldData's TypeHeader case. */
function toHeader(maps: PlainObject[]): Record<string, string[]> | undefined {
  const merged: PlainObject = {};
  for (const map of maps) for (const [k, v] of Object.entries(map)) setOwn(merged, k, v);
  const out: Record<string, string[]> = {};
  const add = (key: string, value: string) => {
    const k = canonicalHeaderKey(key);
    const list = Object.hasOwn(out, k) ? out[k] : undefined;
    if (list) list.push(value);
    else setOwn(out, k, [value]);
  };
  const text = (v: unknown): string | undefined =>
    typeof v === "string" ? v : v instanceof NumberText ? v.text : undefined;
  for (const [key, value] of Object.entries(merged)) {
    if (Array.isArray(value)) {
      // Every value must already be a string; an empty list adds nothing.
      for (const item of value) {
        const s = text(item);
        if (s === undefined) return undefined;
        add(key, s);
      }
    } else {
      const s = text(value);
      if (s === undefined) return undefined;
      add(key, s);
    }
  }
  return out;
}

/**
 * A header arrives as an object (or list of objects) from the API, as a JSON
 * string (plain or base64) in a header, or as "Name:value" strings from the
 * CLI. Values are never weakly converted: a bare number is an error.
 */
function parseHeader(raw: unknown): Record<string, string[]> | undefined {
  const maps = weakMaps(raw);
  if (maps) return toHeader(maps);
  if (typeof raw === "string") {
    const bytes = decodeStdBase64(raw);
    const obj = decodeJsonObject(bytes ? bytes.toString("utf8") : raw);
    return obj ? toHeader([obj]) : undefined;
  }
  const list = raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  const out: Record<string, string[]> = {};
  for (const item of list) {
    if (typeof item !== "string") return undefined;
    const idx = item.indexOf(":");
    if (idx <= 0) return undefined;
    const k = canonicalHeaderKey(item.slice(0, idx));
    const existing = Object.hasOwn(out, k) ? out[k] : undefined;
    if (existing) existing.push(item.slice(idx + 1));
    else setOwn(out, k, [item.slice(idx + 1)]);
  }
  return out;
}

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// JavaScript's Date reaches 8.64e15 ms either side of the epoch.
const MAX_DATE_SECONDS = 8.64e12;

/**
 * parseutil.ParseAbsoluteTime for a string: RFC 3339 as Go's time.Parse reads
 * it (a one-digit hour, a comma before the fraction and a zone offset of up
 * to 24:60 all pass), else whole seconds since the epoch. A JSON number is
 * float64 in a Go plugin, which that function rejects, so numbers are
 * rejected here as well.
 */
function parseGoTime(s: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (m) {
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
    const days = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
    if (day < 1 || day > days) return undefined;
    const offsetHours = Number(m[9] ?? 0);
    const offsetMinutes = Number(m[10] ?? 0);
    if (offsetHours > 24 || offsetMinutes > 60) return undefined;
    const offset = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60;
    const ms = Number(((m[7] ?? "") + "000").slice(0, 3));
    const d = new Date(0);
    // setUTCFullYear, unlike Date.UTC, leaves the years 0 to 99 alone.
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, minute, second - offset, ms);
    return d;
  }
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const seconds = BigInt(s);
  if (seconds < INT_MIN || seconds > INT_MAX) return undefined;
  // Go accepts any int64 of seconds; a Date cannot hold most of them.
  if (seconds > BigInt(MAX_DATE_SECONDS) || seconds < -BigInt(MAX_DATE_SECONDS)) return undefined;
  return new Date(Number(seconds) * 1000);
}

/** Converts one raw value; throws FieldError naming the field. */
export function coerceField(name: string, schema: FieldSchema, raw: unknown): FieldValue {
  const fail = (detail?: string): never => {
    throw new FieldError(name, schema.type, detail);
  };
  switch (schema.type) {
    case "string": {
      return weakString(raw) ?? fail();
    }
    case "lowercase-string": {
      return goToLower(weakString(raw) ?? fail());
    }
    case "name-string": {
      const s = weakString(raw) ?? fail();
      if (!/^\w(([\w-.]+)?\w)?$/.test(s)) fail("must start and end with a letter or digit and contain only letters, digits, '-', '_' and '.'");
      return s;
    }
    case "int":
    case "int64": {
      let v: bigint | undefined;
      if (typeof raw === "string") v = parseGoInt(raw === "" ? "0" : raw);
      else if (typeof raw === "bigint") v = raw;
      else if (typeof raw === "boolean") v = raw ? 1n : 0n;
      else if (raw === null) v = 0n;
      // int64(float64) truncates; beyond int64 Go's result depends on the
      // CPU, so such a number is refused instead.
      else if (typeof raw === "number" && Math.abs(raw) < 2 ** 63) v = BigInt(Math.trunc(raw));
      else if (typeof raw === "number" && raw === -(2 ** 63)) v = INT_MIN;
      if (v === undefined) return fail();
      if (v < INT_MIN || v > INT_MAX) fail("out of range");
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "number") return raw !== 0;
      if (typeof raw === "bigint") return raw !== 0n;
      if (raw === null) return false;
      if (typeof raw === "string") {
        if (GO_TRUE.has(raw)) return true;
        if (GO_FALSE.has(raw) || raw === "") return false;
      }
      return fail();
    }
    case "float": {
      if (typeof raw === "number") return raw;
      if (typeof raw === "bigint") return Number(raw);
      if (typeof raw === "boolean") return raw ? 1 : 0;
      if (raw === null) return 0;
      if (typeof raw === "string") return parseGoFloat(raw === "" ? "0" : raw) ?? fail();
      return fail();
    }
    case "duration": {
      if (raw === null) return 0;
      const seconds = parseDurationSeconds(raw);
      if (seconds === undefined) return fail('a number of seconds or a duration such as "90m" or "1h30m"');
      // TypeDurationSecond refuses a negative result (only the signed type allows one).
      if (seconds < 0) fail("must not be negative");
      return seconds;
    }
    case "comma-string-slice": {
      if (typeof raw === "string") return raw === "" ? [] : raw.split(",").map(goTrimSpace);
      return (weakStringList(raw) ?? fail()).map(goTrimSpace);
    }
    case "string-slice": {
      if (raw === "") return [];
      return (weakStringList(raw) ?? fail()).map(goTrimSpace);
    }
    case "kv-pairs": {
      if (raw === null) return {};
      const map = weakStringMap(raw);
      if (map) return map;
      // Otherwise a list of "key=value" strings, split at the first "=" and
      // not trimmed; a lone string is a one-item list, never split on commas.
      const out: Record<string, string> = {};
      for (const item of weakStringList(raw) ?? fail()) {
        const idx = item.indexOf("=");
        if (idx <= 0) fail("each item must be key=value with a non-empty key");
        setOwn(out, item.slice(0, idx), item.slice(idx + 1));
      }
      return out;
    }
    case "map": {
      if (raw === null) return {};
      const maps = weakMaps(raw) ?? fail();
      if (maps.length === 1 && maps[0] === raw) return raw as PlainObject;
      const out: PlainObject = {};
      for (const map of maps) for (const [k, v] of Object.entries(map)) setOwn(out, k, v);
      return out;
    }
    case "header": {
      return parseHeader(raw) ?? fail();
    }
    case "time": {
      if (raw === null) return zeroValue("time");
      // A Date only ever comes from a schema default written in TypeScript.
      if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? fail() : raw;
      if (typeof raw !== "string") return fail("an RFC 3339 timestamp or a string of seconds since the epoch");
      return parseGoTime(raw) ?? fail("an RFC 3339 timestamp or a string of seconds since the epoch");
    }
  }
}

/** The zero value Go returns for a field that is absent and has no default. */
export function zeroValue(type: FieldType): FieldValue {
  switch (type) {
    case "string":
    case "lowercase-string":
    case "name-string":
      return "";
    case "int":
    case "int64":
    case "float":
    case "duration":
      return 0;
    case "bool":
      return false;
    case "comma-string-slice":
    case "string-slice":
      return [];
    case "kv-pairs":
    case "map":
    case "header":
      return {};
    case "time":
      return new Date(0);
  }
}
