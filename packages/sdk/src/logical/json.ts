// JSON that keeps integers beyond 2^53 exact. Requests arrive as JSON text from
// Go, where an int64 field can hold any 64-bit value; JSON.parse alone would
// round it. Unsafe integers become bigint, and serialize back as raw digits.

declare global {
  interface JSON {
    rawJSON(text: string): unknown;
  }
}

type ReviverContext = { source?: string };

function reviveBigInts(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

// An integer past 2^53 has at least 16 digits. Only text holding such a run
// needs the reviver, which also makes JSON.parse recursive: about 3,000
// levels of nesting exhaust the stack with it, none without it (Go accepts
// 10,000).
const LONG_DIGITS = /\d{16}/;

export function parseJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(text, reviveBigInts as (key: string, value: unknown) => unknown);
}

export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? JSON.rawJSON(v.toString()) : v)) ?? "null";
}
