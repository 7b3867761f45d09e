// Field types and their coercion, following the Go SDK's sdk/framework: a
// request's raw JSON value is weakly converted to the declared type, and a
// value that cannot be converted is a 400 naming the field and the type.
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

function toInteger(raw: unknown): bigint | undefined {
  if (typeof raw === "bigint") return raw;
  if (typeof raw === "number") return Number.isFinite(raw) ? BigInt(Math.trunc(raw)) : undefined;
  if (typeof raw === "boolean") return raw ? 1n : 0n;
  if (typeof raw === "string") {
    const s = raw.trim();
    if (s === "") return 0n;
    // Go's strconv.ParseInt with base 0 accepts 0x, 0o and 0b prefixes.
    if (/^[+-]?(0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+|\d+)$/i.test(s)) {
      const neg = s.startsWith("-");
      const body = s.replace(/^[+-]/, "").replace(/_/g, "");
      const v = BigInt(/^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body);
      return neg ? -v : v;
    }
    if (/^[+-]?\d+(\.\d*)?(e[+-]?\d+)?$/i.test(s)) {
      const f = Number(s);
      if (Number.isInteger(f)) return BigInt(f);
    }
    return undefined;
  }
  return undefined;
}

function toStringList(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) {
    const out: string[] = [];
    for (const item of raw) {
      const s = scalarToString(item);
      if (s === undefined) return undefined;
      out.push(s);
    }
    return out;
  }
  const s = scalarToString(raw);
  return s === undefined ? undefined : [s];
}

function scalarToString(raw: unknown): string | undefined {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" || typeof raw === "bigint") return String(raw);
  if (typeof raw === "boolean") return raw ? "1" : "0";
  return undefined;
}

function parseKvPairs(field: string, list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const idx = item.indexOf("=");
    if (idx <= 0) throw new FieldError(field, "kv-pairs", `"${item.slice(0, 64)}" is not a key=value pair`);
    out[item.slice(0, idx).trim()] = item.slice(idx + 1).trim();
  }
  return out;
}

/** Converts one raw value; throws FieldError naming the field. */
export function coerceField(name: string, schema: FieldSchema, raw: unknown): FieldValue {
  const fail = (detail?: string): never => {
    throw new FieldError(name, schema.type, detail);
  };
  switch (schema.type) {
    case "string": {
      return scalarToString(raw) ?? fail();
    }
    case "lowercase-string": {
      return (scalarToString(raw) ?? fail()).toLowerCase();
    }
    case "name-string": {
      const s = scalarToString(raw) ?? fail();
      if (!/^\w(([\w-.]+)?\w)?$/.test(s)) fail("must start and end with a letter or digit and contain only letters, digits, '-', '_' and '.'");
      return s;
    }
    case "int":
    case "int64": {
      const v = toInteger(raw) ?? fail();
      if (v < INT_MIN || v > INT_MAX) fail("out of range");
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "number" || typeof raw === "bigint") return Number(raw) !== 0;
      if (typeof raw === "string") {
        const s = raw.trim();
        if (s === "") return false;
        if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
        if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
      }
      return fail();
    }
    case "float": {
      if (typeof raw === "number") return raw;
      if (typeof raw === "bigint") return Number(raw);
      if (typeof raw === "boolean") return raw ? 1 : 0;
      if (typeof raw === "string") {
        if (raw.trim() === "") return 0;
        const f = Number(raw.trim());
        if (!Number.isNaN(f)) return f;
      }
      return fail();
    }
    case "duration": {
      const seconds = parseDurationSeconds(raw);
      if (seconds === undefined) fail('a number of seconds or a duration such as "90m" or "1h30m"');
      return seconds as number;
    }
    case "comma-string-slice": {
      if (typeof raw === "string") {
        if (raw.trim() === "") return [];
        return raw.split(",").map((s) => s.trim());
      }
      return (toStringList(raw) ?? fail()).map((s) => s.trim());
    }
    case "string-slice": {
      if (typeof raw === "string") return raw === "" ? [] : [raw];
      return toStringList(raw) ?? fail();
    }
    case "kv-pairs": {
      if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(raw)) out[k] = scalarToString(v) ?? fail(`value of "${k}" is not a string`);
        return out;
      }
      const list = typeof raw === "string" ? (raw === "" ? [] : raw.split(",")) : toStringList(raw);
      return parseKvPairs(name, list ?? fail());
    }
    case "map": {
      if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) return raw as Record<string, unknown>;
      return fail();
    }
    case "header": {
      if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(raw)) out[k] = toStringList(v) ?? fail();
        return out;
      }
      return fail();
    }
    case "time": {
      if (typeof raw === "number" || typeof raw === "bigint") return new Date(Number(raw) * 1000);
      if (typeof raw === "string") {
        const s = raw.trim();
        if (/^\d+$/.test(s)) return new Date(Number(s) * 1000);
        if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
          const d = new Date(s);
          if (!Number.isNaN(d.getTime())) return d;
        }
      }
      return fail("an RFC 3339 timestamp or seconds since the epoch");
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
