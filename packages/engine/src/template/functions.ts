// The functions a username template can call: Vault's set from
// sdk/helper/template (funcs.go and NewTemplate's function map) with the
// same argument order, types and errors, plus the Go text/template builtins
// print, printf, println and len. Strings are byte strings (go-bytes.ts).

import { createHash, randomBytes } from "node:crypto";
import { bytesToBuffer, changeCase, decodeRune, toBytes } from "./go-bytes.ts";
import { sprint, sprintf, sprintln } from "./go-fmt.ts";
import { formatGoTime } from "./go-time.ts";
import { type Value, int, str } from "./values.ts";

export type ParamType = "int" | "string" | "any" | "value";

/** What a call can read besides its arguments. Nothing else is reachable. */
export interface CallContext {
  /** Unix milliseconds of "now". */
  readonly nowMillis: number;
  readonly random: (length: number) => string;
  readonly uuid: () => string;
  /** Largest value (bytes) a function may build. */
  readonly maxValueBytes: number;
  /** Largest length `random` accepts. */
  readonly maxRandomLength: number;
}

/** A failure inside a function; rendered as "error calling NAME: message". */
export class CallError extends Error {}

export interface FunctionSpec {
  /** Fixed parameters, in order. "value" is Go's reflect.Value (len's). */
  readonly params: readonly ParamType[];
  /** Element type of a trailing variadic parameter. */
  readonly variadic?: ParamType;
  readonly call: (args: readonly Value[], ctx: CallContext) => Value;
}

function s(v: Value | undefined): string {
  if (v?.kind !== "string") throw new Error("internal: string argument expected");
  return v.s;
}

function n(v: Value | undefined): bigint {
  if (v?.kind !== "int") throw new Error("internal: int argument expected");
  return v.n;
}

function sha256Hex(bytes: string): string {
  return createHash("sha256").update(bytesToBuffer(bytes)).digest("hex");
}

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** go-secure-stdlib/base62.Random: crypto/rand bytes, rejection-sampled to 62 symbols. */
export function defaultRandom(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length + Math.floor(length / 4))) {
      if (b < 62 * 4) {
        out += BASE62[b % 62];
        if (out.length === length) break;
      }
    }
  }
  return out;
}

/** go-uuid.GenerateUUID: 16 random bytes as 8-4-4-4-12 lowercase hex (no version bits). */
export function defaultUuid(): string {
  const h = randomBytes(16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** strings.ReplaceAll on byte strings, including Go's empty-`old` rule. */
function replaceAll(subject: string, old: string, replacement: string, limit: number): string {
  if (old === replacement) return subject;
  let count = 0;
  if (old.length === 0) {
    for (let i = 0; i < subject.length; count++) i += decodeRune(subject, i)[1];
    count++;
  } else {
    for (let i = subject.indexOf(old); i >= 0; i = subject.indexOf(old, i + old.length)) count++;
  }
  if (count === 0) return subject;
  const size = subject.length + count * (replacement.length - old.length);
  if (size > limit) throw new CallError(`result would be ${size} bytes, over the ${limit}-byte limit`);
  if (old.length > 0) return subject.split(old).join(replacement);
  let out = replacement;
  for (let i = 0; i < subject.length; ) {
    const width = decodeRune(subject, i)[1];
    out += subject.slice(i, i + width) + replacement;
    i += width;
  }
  return out;
}

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  [
    "random",
    {
      params: ["int"],
      call: ([length], ctx) => {
        const count = n(length);
        // Go's make() panics on a negative size; Vault reports the panic as an error.
        if (count < 0n) throw new CallError(`length must not be negative but was ${count}`);
        if (count > BigInt(ctx.maxRandomLength)) {
          throw new CallError(`length ${count} is over the limit of ${ctx.maxRandomLength}`);
        }
        const value = ctx.random(Number(count));
        if (typeof value !== "string" || value.length !== Number(count)) {
          throw new CallError("the random source returned a value of the wrong length");
        }
        return str(toBytes(value));
      },
    },
  ],
  [
    "truncate",
    {
      params: ["int", "string"],
      call: ([maxLen, value]) => {
        const max = n(maxLen);
        if (max <= 0n) throw new CallError(`max length must be > 0 but was ${max}`);
        const text = s(value);
        return BigInt(text.length) > max ? str(text.slice(0, Number(max))) : str(text);
      },
    },
  ],
  [
    "truncate_sha256",
    {
      params: ["int", "string"],
      call: ([maxLen, value]) => {
        const max = n(maxLen);
        if (max <= 8n) throw new CallError(`max length must be > 8 but was ${max}`);
        const text = s(value);
        if (BigInt(text.length) <= max) return str(text);
        const cut = Number(max) - 8;
        return str(text.slice(0, cut) + sha256Hex(text.slice(cut)).slice(0, 8));
      },
    },
  ],
  ["uppercase", { params: ["string"], call: ([value]) => str(changeCase(s(value), true)) }],
  ["lowercase", { params: ["string"], call: ([value]) => str(changeCase(s(value), false)) }],
  [
    "replace",
    {
      params: ["string", "string", "string"],
      call: ([find, replacement, value], ctx) => str(replaceAll(s(value), s(find), s(replacement), ctx.maxValueBytes)),
    },
  ],
  ["sha256", { params: ["string"], call: ([value]) => str(sha256Hex(s(value))) }],
  ["base64", { params: ["string"], call: ([value]) => str(bytesToBuffer(s(value)).toString("base64")) }],
  ["unix_time", { params: [], call: (_args, ctx) => str(String(Math.floor(ctx.nowMillis / 1000))) }],
  ["unix_time_millis", { params: [], call: (_args, ctx) => str(String(ctx.nowMillis)) }],
  ["timestamp", { params: ["string"], call: ([layout], ctx) => str(formatGoTime(s(layout), ctx.nowMillis)) }],
  [
    "uuid",
    {
      params: [],
      call: (_args, ctx) => {
        const value = ctx.uuid();
        if (typeof value !== "string") throw new CallError("the uuid source returned a non-string");
        return str(toBytes(value));
      },
    },
  ],
  // Go text/template builtins.
  ["print", { params: [], variadic: "any", call: (args, ctx) => str(sprint(args, ctx.maxValueBytes)) }],
  [
    "printf",
    {
      params: ["string"],
      variadic: "any",
      call: ([format, ...args], ctx) => str(sprintf(s(format), args, ctx.maxValueBytes)),
    },
  ],
  ["println", { params: [], variadic: "any", call: (args, ctx) => str(sprintln(args, ctx.maxValueBytes)) }],
  [
    "len",
    {
      params: ["value"],
      call: ([item]) => {
        if (item?.kind === "string") return int(BigInt(item.s.length));
        if (item?.kind === "map") return int(BigInt(item.m.size));
        if (item === undefined || item.kind === "nil" || item.kind === "invalid") {
          throw new CallError("len of nil or missing value");
        }
        throw new CallError(`len of type ${item.kind === "float" ? "float64" : item.kind}`);
      },
    },
  ],
]);

/** Go text/template builtins this engine deliberately leaves out. */
export const UNSUPPORTED_BUILTINS: ReadonlySet<string> = new Set([
  "and",
  "call",
  "eq",
  "ge",
  "gt",
  "html",
  "index",
  "js",
  "le",
  "lt",
  "ne",
  "not",
  "or",
  "slice",
  "urlquery",
]);
