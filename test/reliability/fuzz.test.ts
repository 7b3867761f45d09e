// Fuzzing the request path with fast-check: field coercion, durations, the
// protobuf request as the server sends it (and as a corrupted channel might),
// and the engine's config, connections, roles and creds paths in-process.
// Properties: nothing but a LogicalError ever escapes (anything else is a 500
// with a stack in the log), a rejection of user input is a 4xx naming the
// field, accepted values read back as their documented coercion, and a
// refused issuance leaves nothing at the provider.
//
// Each property runs its CI-sized batch once, or (SOAK=1) as many batches as
// its long figure needs, with a fresh seed per batch; FUZZ_SEED fixes the
// first seed to replay a failure.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { JsonObject, Response } from "@vault-plugin-ai/sdk";
import { FieldError, LogicalError } from "@vault-plugin-ai/sdk";
import type { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { coerceField, type FieldType } from "../../packages/sdk/src/framework/fields.ts";
import { parseJson, stringifyJson } from "../../packages/sdk/src/logical/json.ts";
import * as pb from "../../packages/sdk/src/proto/pb/backend.ts";
import { errorToWire, requestFromWire, responseToWire, WireFormatError } from "../../packages/sdk/src/runtime/translate.ts";
import { connectionFields } from "../../packages/engine/src/connection-config.ts";
import { pathRoles } from "../../packages/engine/src/path-roles.ts";
import { report, scale } from "./report.ts";
import { brief, CONNECTIONS, type Emulators, outcomeOf, providerObjects, startEmulators, threeProviderMount } from "./bad-input-support.ts";

const firstSeed = process.env["FUZZ_SEED"] !== undefined ? Number(process.env["FUZZ_SEED"]) : Date.now() % 2 ** 31;
const totals = { runs: 0, failures: 0 };

interface FuzzResult {
  runs: number;
  failures: string[];
  seeds: number[];
}

/**
 * Runs `check` on `ci` generated cases, or on `long` of them under SOAK=1,
 * in batches of `ci`. `check` returns a description of what went wrong, or
 * undefined; every case runs, so the failure count is exact.
 */
async function fuzz<T>(arb: fc.Arbitrary<T>, check: (value: T) => Promise<string | undefined> | string | undefined, ci: number, long: number): Promise<FuzzResult> {
  const total = scale(ci, long);
  const result: FuzzResult = { runs: 0, failures: [], seeds: [] };
  for (let done = 0, batch = 0; done < total; batch++) {
    const numRuns = Math.min(ci, total - done);
    const seed = (firstSeed + batch * 7919) % 2 ** 31;
    result.seeds.push(seed);
    const details = await fc.check(
      fc.asyncProperty(arb, async (value) => {
        result.runs++;
        let failure: string | undefined;
        try {
          failure = await check(value);
        } catch (err) {
          failure = `the check itself threw ${(err as Error)?.stack ?? String(err)}`;
        }
        if (failure !== undefined) result.failures.push(`${failure}\n    input: ${brief(value, 400)}`);
        return true;
      }),
      { numRuns, seed },
    );
    if (details.failed) result.failures.push(`fast-check: ${String(details.errorInstance ?? details.counterexample)}`);
    done += numRuns;
  }
  totals.runs += result.runs;
  totals.failures += result.failures.length;
  return result;
}

function reportFuzz(scenario: string, tried: string, r: FuzzResult, extra = ""): void {
  report({
    area: "fuzz",
    scenario,
    tried: `${r.runs.toLocaleString("en")} generated cases (${tried}); seed ${r.seeds[0]}${r.seeds.length > 1 ? ` (+${r.seeds.length - 1} batches)` : ""}`,
    found: `${r.failures.length} failures${extra ? `; ${extra}` : ""}${r.failures.length ? `; first: ${r.failures[0]!.slice(0, 300)}` : ""}`,
    ok: r.failures.length === 0,
  });
  assert.deepEqual(r.failures.slice(0, 5), [], `${r.failures.length} of ${r.runs} cases failed`);
}

// ---- Generators -----------------------------------------------------------

const TRICKY_STRINGS = [
  "", " ", "0", "-0", "+1", "1e400", "-1e400", "1e30", "NaN", "Inf", "-Infinity", "-1", "0.5", ".5", "5.", "1_000", "0x1F", "0b101", "0o17", "017",
  "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551616",
  "1h", "1h30m", "90m", "1.5h", "1d", "-1h", "-1d", "9999999999999h", "2562047h", "2562048h", "106751d", "106752d", "1µs", "1us", "1ns", "0s", "1m1", "h",
  "true", "false", "t", "F", "TRUE", "yes", "null", "undefined", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty",
  "a=b", "=b", "a=", "a,b", " a , b ", ",", "{}", "[]", '{"a":1}', "[1,2]", "2024-02-29T12:00:00Z", "1700000000", "Content-Type:x",
  "{{.RoleName}}", "{{", "}}", "\u0000", "\u202e", "\ufeff", "\u0085", "\ud800", "../..", "/", "%00", "<script>", "😀", "İ", "ß",
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String) },
);

/** A value as JSON can carry it; integers past 2^53 arrive as bigint, as the SDK decodes them. */
const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1, -1, 2 ** 53, 2 ** 63, -(2 ** 63), 1e30, -1e30, 1.5, 9223372036.854776, 1e-300) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).filter((b) => !Number.isSafeInteger(Number(b))) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const hostileKey = fc.oneof(fc.constantFrom("__proto__", "constructor", "", "a", "k", "Content-Type", "x-y"), fc.string({ maxLength: 8 }));

const { hostileValue } = fc.letrec<{ hostileValue: unknown }>((tie) => ({
  hostileValue: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 5, arbitrary: hostileScalar },
    { weight: 1, arbitrary: fc.array(tie("hostileValue"), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileKey, tie("hostileValue"), { maxKeys: 4 }) },
  ),
}));

/** What the plugin gets: the value as JSON text, decoded by the SDK ("__proto__" stays an own key). */
const wire = (value: unknown): JsonObject => parseJson(stringifyJson(value)) as JsonObject;

function dataOver(fields: readonly string[], values: fc.Arbitrary<unknown> = hostileValue): fc.Arbitrary<JsonObject> {
  return fc.dictionary(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: hostileKey }), values, { maxKeys: 6 }).map(wire);
}

// ---- Properties -------------------------------------------------------------

const FIELD_TYPES: FieldType[] = [
  "string", "int", "int64", "bool", "float", "duration", "comma-string-slice", "string-slice", "kv-pairs", "map", "lowercase-string", "name-string", "time", "header",
];

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Whether a coerced value has its type's shape and coerces again to itself. */
function coercedWell(type: FieldType, v: unknown, again: (raw: unknown) => unknown): string | undefined {
  const same = (a: unknown, b: unknown) => {
    try {
      assert.deepStrictEqual(a, b);
      return true;
    } catch {
      return false;
    }
  };
  switch (type) {
    case "string":
    case "lowercase-string":
    case "name-string":
      if (typeof v !== "string") return `a ${type} came back as ${typeof v}`;
      return again(v) === v ? undefined : "coercing the result again changed it";
    case "int":
    case "int64": {
      const ok = (typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "bigint" && v >= INT64_MIN && v <= INT64_MAX && !Number.isSafeInteger(Number(v)));
      if (!ok) return `an int came back as ${typeof v} ${String(v)}`;
      return again(String(v)) === v ? undefined : "its decimal text does not coerce back to it";
    }
    case "bool":
      if (typeof v !== "boolean") return `a bool came back as ${typeof v}`;
      return again(String(v)) === v ? undefined : "its text does not coerce back to it";
    case "float":
      if (typeof v !== "number") return `a float came back as ${typeof v}`;
      return Object.is(again(v), v) ? undefined : "coercing the result again changed it";
    case "duration":
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || Object.is(v, -0)) return `a duration came back as ${typeof v} ${String(v)}`;
      return again(v) === v && again(String(v)) === v && again(`${v}s`) === v ? undefined : "its seconds do not coerce back to it";
    case "comma-string-slice":
    case "string-slice":
      if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) return "a list came back as something else";
      return same(again(v), v) ? undefined : "coercing the list again changed it";
    case "kv-pairs":
      if (!isPlainObject(v) || !Object.values(v).every((s) => typeof s === "string")) return "key/value pairs came back as something else";
      return same(again(v), v) ? undefined : "coercing the pairs again changed them";
    case "map":
      return isPlainObject(v) ? undefined : "a map came back as something else";
    case "header":
      if (!isPlainObject(v) || !Object.values(v).every((l) => Array.isArray(l) && l.every((s) => typeof s === "string"))) return "a header came back as something else";
      return same(again(v), v) ? undefined : "coercing the header again changed it";
    case "time": {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) return "a time came back as something else";
      const year = v.getUTCFullYear();
      if (year < 0 || year > 9999) return undefined;
      const back = again(v.toISOString());
      return back instanceof Date && back.getTime() === v.getTime() ? undefined : "its RFC 3339 text does not coerce back to it";
    }
  }
}

/** Go duration text from parts, with the exact nanoseconds it stands for. */
const UNITS: Array<[string, bigint]> = [["ns", 1n], ["us", 1_000n], ["µs", 1_000n], ["ms", 1_000_000n], ["s", 1_000_000_000n], ["m", 60_000_000_000n], ["h", 3_600_000_000_000n]];
const goDuration = fc
  .tuple(
    fc.constantFrom("", "+", "-"),
    fc.array(fc.tuple(fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 2n ** 64n })), fc.constantFrom(...UNITS)), { minLength: 1, maxLength: 4 }),
  )
  .map(([sign, parts]) => {
    const text = sign + parts.map(([n, [u]]) => `${n}${u}`).join("");
    const magnitude = parts.reduce((sum, [n, [, ns]]) => sum + n * ns, 0n);
    return { text, nanos: sign === "-" ? -magnitude : magnitude, overflow: parts.some(([n, [, ns]]) => n * ns > 2n ** 63n) };
  });

/** int(time.Duration.Seconds()): float64 seconds plus the fraction, truncated, as Go computes it. */
const goSeconds = (nanos: bigint): number => Math.trunc(Number(nanos / 1_000_000_000n) + Number(nanos % 1_000_000_000n) / 1e9) + 0;

const durationCase = fc.oneof(
  goDuration.map((d) => ({ raw: d.text as unknown, nanos: d.overflow ? undefined : d.nanos })),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map((n) => ({ raw: String(n) as unknown, nanos: n * 1_000_000_000n })),
  fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map((n) => ({ raw: `${n}d` as unknown, nanos: n * 86_400_000_000_000n })),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((n) => ({ raw: n as unknown, nanos: BigInt(n) * 1_000_000_000n })),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 }).map((n) => ({
    raw: n as unknown,
    nanos: Math.abs(n) < 2 ** 63 ? BigInt(Math.trunc(n)) * 1_000_000_000n : 2n ** 80n,
  })),
);

// ---- What a refusal and a stored role must look like ------------------------

const SEGMENT = /^\w(?:(?:[\w.-]+)?\w)?$/;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const mentions = (message: string, word: string) => word !== "" && new RegExp(`(^|[^A-Za-z0-9_])${escapeRegExp(word)}($|[^A-Za-z0-9_])`).test(message);

/**
 * A refused write must be a 400 that says which field (or which named item)
 * is wrong; a field that failed coercion must be one the request supplied.
 * A 404 only for a name the path cannot match.
 */
function refusal(err: unknown, fields: readonly string[], data: JsonObject, name: string): string | undefined {
  const o = outcomeOf(err);
  if (o.crash || o.status >= 500) return `a ${o.status}${o.crash ? " (crash)" : ""}: ${o.message}`;
  // "roles/" and the like route to the list path, which takes no writes.
  if (o.status === 404 || o.status === 405) return SEGMENT.test(name) ? `a ${o.status} for a valid name: ${o.message}` : undefined;
  if (o.status !== 400) return `a ${o.status}: ${o.message}`;
  if (err instanceof FieldError) {
    // "key_request.tpm_limit" is a value inside the supplied "key_request".
    const supplied = err.field.split(".")[0]!;
    if (!Object.hasOwn(data, supplied) && supplied !== "name") return `a coercion error for a field not supplied: ${o.message}`;
    return o.message.includes(`"${err.field}"`) ? undefined : `the message does not name the field: ${o.message}`;
  }
  if (Object.keys(data).some((k) => o.message.includes(`"${k}"`))) return undefined;
  return [...fields, name].some((w) => mentions(o.message, w)) ? undefined : `a 400 that names no field: ${o.message}`;
}

const isCount = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isAmount = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string" && s !== "");

/** What every stored role must satisfy for an issuance from it to be possible. */
function invalidRole(role: JsonObject): string | undefined {
  const ttl = role["ttl"];
  const maxTtl = role["max_ttl"];
  if (!isCount(ttl) || !isCount(maxTtl)) return `ttl/max_ttl are not whole seconds: ${brief({ ttl, maxTtl })}`;
  if ((maxTtl as number) > 0 && (ttl as number) > (maxTtl as number)) return "ttl exceeds max_ttl";
  if ("project_id" in role) {
    if (typeof role["project_id"] !== "string" || !role["project_id"]) return "an OpenAI role without a project";
    if (typeof role["service_account_name_template"] !== "string") return "an OpenAI role without a template";
    return undefined;
  }
  if ("models" in role) {
    for (const f of ["tpm_limit", "rpm_limit", "max_parallel_requests"]) if (!isCount(role[f])) return `${f} is not a whole number ≥ 0: ${brief(role[f])}`;
    if (!isAmount(role["max_budget"])) return `max_budget is not an amount: ${brief(role["max_budget"])}`;
    if (!isStrings(role["models"]) || !Array.isArray(role["tags"]) || !(role["tags"] as unknown[]).every((t) => typeof t === "string")) return "models or tags are not lists of names";
    const metadata = role["metadata"];
    if (!isPlainObject(metadata) || !Object.values(metadata).every((v) => typeof v === "string")) return "metadata is not a map of strings";
    for (const f of ["budget_duration", "team_id", "user_id", "key_alias_prefix"]) if (typeof role[f] !== "string") return `${f} is not a string`;
    return undefined;
  }
  return isAmount(role["limit"]) ? undefined : `limit is not an amount: ${brief(role["limit"])}`;
}

// ---- The tests --------------------------------------------------------------

describe("fuzz: SDK field coercion and durations", () => {
  test("every field type accepts or rejects any JSON value with a 400 naming the field, and accepted values are stable", async () => {
    const r = await fuzz(
      fc.tuple(fc.constantFrom(...FIELD_TYPES), fc.string({ maxLength: 12 }), hostileValue.map((v) => wire({ v })["v"])),
      ([type, name, raw]) => {
        let v: unknown;
        try {
          v = coerceField(name, { type }, raw);
        } catch (err) {
          const o = outcomeOf(err);
          if (o.crash || o.status !== 400) return `${type}: threw ${o.message} (status ${o.status})`;
          return o.message.includes(`"${name}"`) ? undefined : `${type}: the message does not name the field: ${o.message}`;
        }
        const problem = coercedWell(type, v, (again) => coerceField(name, { type }, again));
        return problem && `${type}: ${problem} (got ${brief(v, 120)})`;
      },
      50_000,
      500_000,
    );
    reportFuzz("field coercion of arbitrary JSON values, 14 field types", "type x field name x JSON value", r);
  });

  test("durations parse to exactly Go's seconds, and overflowing or negative ones are a 400 naming the field", async () => {
    let accepted = 0;
    const r = await fuzz(
      durationCase,
      ({ raw, nanos }) => {
        const inRange = nanos !== undefined && nanos >= INT64_MIN && nanos <= INT64_MAX;
        const expectSeconds = inRange ? goSeconds(nanos) : undefined;
        let v: unknown;
        try {
          v = coerceField("ttl", { type: "duration" }, raw);
        } catch (err) {
          const o = outcomeOf(err);
          if (o.crash || o.status !== 400 || !o.message.includes('"ttl"')) return `threw ${o.message}`;
          if (expectSeconds !== undefined && expectSeconds >= 0) return `a valid duration (${expectSeconds}s) was refused: ${o.message}`;
          return undefined;
        }
        accepted++;
        if (expectSeconds === undefined) return `an overflowing duration was accepted as ${String(v)}`;
        if (expectSeconds < 0) return `a negative duration was accepted as ${String(v)}`;
        return v === expectSeconds ? undefined : `expected ${expectSeconds}s, got ${String(v)}`;
      },
      10_000,
      100_000,
    );
    reportFuzz("duration parsing against an exact oracle", "Go duration text, whole seconds, days, JSON numbers; overflow and sign", r, `${accepted} accepted`);
  });
});

describe("fuzz: the engine in-process", () => {
  let em: Emulators;
  let tb: TestBackend;
  before(async () => {
    em = await startEmulators();
    tb = await threeProviderMount(em, { retries: true });
  });
  after(async () => {
    await em?.close();
  });

  test("protobuf requests, well formed or corrupted, end in a response or a LogicalError, and the response encodes", async () => {
    // A mount and emulators of its own: these requests may delete or rewrite
    // its connections, and rotate its admin key at the emulator.
    const own = await startEmulators();
    const target = await threeProviderMount(own, { retries: true });
    const counts = { undecodable: 0, wireRejected: 0, handled: 0, errors: 0 };
    const OPS = ["create", "read", "update", "patch", "delete", "list", "help", "revoke", "renew", "rollback", "alias-lookahead", "resolve-role", "header"];
    const PATHS = ["", "config", "config/rotate", "connections/", "connections/ll", "connections/or/rotate", "roles/", "roles/r1", "creds/r1", "metrics", "sweep", "spend", "spend/r1"];
    const SECRET_TYPES = ["openai_api_key", "litellm_virtual_key", "openrouter_key", "x"];
    // Out-of-range timestamps come from the corrupted bytes: a Date cannot hold them.
    const timestamp = fc.option(fc.date({ noInvalidDate: true }), { nil: undefined });
    const duration = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 14n }));
    const jsonText = fc.oneof(
      { weight: 4, arbitrary: fc.dictionary(hostileKey, hostileValue, { maxKeys: 5 }).map((o) => stringifyJson(o)) },
      { weight: 1, arbitrary: hostileValue.map((v) => stringifyJson(v)) },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom("", "null", "{", "[]", '{"a":1}x', '{"__proto__":{"x":1}}'), fc.string({ maxLength: 20 })) },
    );
    const internalData = fc.oneof(
      fc.tuple(fc.constantFrom(...SECRET_TYPES), fc.dictionary(fc.constantFrom("project_id", "service_account_id", "role", "connection", "max_ttl", "token", "hash", "key_alias", "name"), hostileScalar)).map(([t, o]) => stringifyJson({ ...o, secret_type: t })),
      jsonText,
    );
    const request = fc.record({
      id: fc.string({ maxLength: 8 }),
      ReplicationCluster: fc.constant(""),
      operation: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...OPS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
      path: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PATHS) }, { weight: 2, arbitrary: fc.tuple(fc.constantFrom("roles/", "creds/", "connections/", "spend/"), hostileString).map(([p, n]) => p + n) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
      data: jsonText,
      secret: fc.option(fc.record({ leaseOptions: fc.option(fc.record({ TTL: duration, renewable: fc.boolean(), increment: duration, issueTime: timestamp, MaxTTL: duration }), { nil: undefined }), internalData, leaseId: fc.string({ maxLength: 8 }) }), { nil: undefined }),
      auth: fc.constant(undefined),
      headers: fc.dictionary(hostileKey, fc.record({ header: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }) }), { maxKeys: 3 }),
      clientToken: fc.string({ maxLength: 8 }),
      clientTokenAccessor: fc.string({ maxLength: 8 }),
      displayName: hostileString,
      mountPoint: fc.constantFrom("ai/", ""),
      mountType: fc.constantFrom("plugin", ""),
      mountAccessor: fc.string({ maxLength: 8 }),
      wrapInfo: fc.option(fc.record({ TTL: duration, format: fc.string({ maxLength: 4 }), sealWrap: fc.boolean() }), { nil: undefined }),
      clientTokenRemainingUses: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      entityId: fc.string({ maxLength: 8 }),
      policyOverride: fc.boolean(),
      unauthenticated: fc.boolean(),
      connection: fc.constant(undefined),
      requiresSnapshotId: fc.constant(""),
    }) as fc.Arbitrary<pb.Request>;
    const corruption = fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
      { weight: 2, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => ({ kind: "flip" as const, flips })) },
      { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: "truncate" as const, at })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: "append" as const, bytes })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ kind: "random" as const, bytes })) },
      // A lease whose issue time is any int64 of seconds, as a Go sender can
      // encode it: appended as a second "secret" field, which replaces the first.
      {
        weight: 1,
        arbitrary: fc.tuple(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer(), internalData).map(([seconds, nanos, internal]) => {
          const w = new BinaryWriter();
          w.uint32(50).fork().uint32(10).fork().uint32(34).fork().uint32(8).int64(seconds).uint32(16).int32(nanos).join().join().uint32(18).string(internal).join();
          return { kind: "append" as const, bytes: w.finish() };
        }),
      },
    );
    const r = await fuzz(
      fc.tuple(request, corruption, fc.boolean()),
      async ([message, c, existence]) => {
        let bytes = pb.Request.encode(message).finish();
        if (c.kind === "flip") {
          bytes = Uint8Array.from(bytes);
          for (const [at, b] of c.flips) if (bytes.length > 0) bytes[at % bytes.length] = b;
        } else if (c.kind === "truncate") {
          bytes = bytes.subarray(0, bytes.length === 0 ? 0 : c.at % bytes.length);
        } else if (c.kind === "append") {
          bytes = Uint8Array.from([...bytes, ...c.bytes]);
        } else if (c.kind === "random") {
          bytes = c.bytes;
        }
        let decoded: pb.Request;
        try {
          decoded = pb.Request.decode(bytes);
        } catch (err) {
          // grpc-js answers a message it cannot decode with a status of its own.
          counts.undecodable++;
          return err instanceof Error ? undefined : `the decoder threw a non-Error: ${String(err)}`;
        }
        let request;
        try {
          request = requestFromWire(decoded, target.storage);
        } catch (err) {
          counts.wireRejected++;
          if (err instanceof WireFormatError) return undefined;
          if (err instanceof LogicalError) return errorToWire(err) ? undefined : "an error without a wire form";
          return `requestFromWire threw ${outcomeOf(err).message}`;
        }
        try {
          if (existence) {
            await target.backend.handleExistenceCheck(request);
          } else {
            const response: Response | undefined = await target.backend.handleRequest(request);
            if (response) pb.Response.encode(responseToWire(response)).finish();
          }
          counts.handled++;
          return undefined;
        } catch (err) {
          counts.errors++;
          const o = outcomeOf(err);
          if (o.crash) return `${existence ? "existence check" : decoded.operation} ${brief(decoded.path, 60)}: crashed: ${o.message}`;
          pb.ProtoError.encode(errorToWire(err as LogicalError).err).finish();
          return undefined;
        }
      },
      10_000,
      200_000,
    );
    await own.close();
    reportFuzz(
      "protobuf Request messages through decoding, translation and the engine",
      "structured requests (all operations, engine paths, hostile data, secrets, timestamps), 40% with flipped, cut, appended or random bytes",
      r,
      `${counts.undecodable} undecodable, ${counts.wireRejected} refused as malformed, ${counts.handled} answered, ${counts.errors} logical errors`,
    );
  });

  test("role writes with arbitrary fields end in a stored, valid role or a 400 naming a field, never a crash", async () => {
    const fields = Object.keys(pathRoles.fields ?? {});
    const good = fc.constantFrom<unknown>("ll", "or", "default", em.openai.projects[0]!.id, "1h", "30d", "gpt-4o, gpt-4o-mini", ["a=b"], { k: "v" }, 5, "5", 0.5, "vault-{{.RoleName}}-{{.RandomSuffix}}", { models: ["m"], tpm_limit: 10 });
    const keyRequest = fc.dictionary(fc.constantFrom("models", "max_budget", "metadata", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests", "team_id", "user_id", "tags"), fc.oneof(hostileValue, good), { maxKeys: 4 });
    const counts = { stored: 0, refused: 0 };
    const r = await fuzz(
      fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom("r1", "r2", "r3") }, { weight: 1, arbitrary: hostileString }), dataOver(fields, fc.oneof({ weight: 3, arbitrary: hostileValue }, { weight: 2, arbitrary: good }, { weight: 1, arbitrary: keyRequest }))),
      async ([name, data]) => {
        try {
          await tb.write(`roles/${name}`, data);
        } catch (err) {
          counts.refused++;
          return refusal(err, fields, data, name);
        }
        counts.stored++;
        const role = (await tb.read(`roles/${name}`))?.data;
        return role ? invalidRole(role) : "a role write succeeded but the role does not read back";
      },
      8_000,
      120_000,
    );
    reportFuzz("role writes with arbitrary data", "role names x any mix of role fields (all providers) and unknown keys, hostile and plausible values", r, `${counts.stored} stored, ${counts.refused} refused`);
  });

  test("connection writes with arbitrary fields end in a verified connection or a 400 naming a field, and never read back a credential", async () => {
    const cm = await threeProviderMount(em, { retries: true });
    const fields = Object.keys(connectionFields);
    const secrets = [em.openai.adminKey, em.litellm.masterKey, em.openrouter.managementKey];
    const good = fc.constantFrom<unknown>(
      ...secrets, em.openai.adminKeyId, em.openai.organizationId, em.openai.baseUrl, em.litellm.baseUrl, em.openrouter.baseUrl, "openai", "litellm", "openrouter", "OpenAI",
      "file:///etc/passwd", "ftp://127.0.0.1/", "javascript:alert(1)", "http://user:pass@127.0.0.1:1", `${em.litellm.baseUrl}/?q=1`, "http://127.0.0.1:1", "0 3 * * *", "720h", 4, 300,
    );
    // Never the providers' real endpoints: every write names an endpoint, and
    // one that is not an emulator or a hostile scheme goes to a closed port.
    const ours = new Set([em.openai.baseUrl, em.litellm.baseUrl, em.openrouter.baseUrl]);
    const local = (v: unknown) => {
      if (typeof v !== "string" || ours.has(v)) return v;
      try {
        return /^https?:$/.test(new URL(v).protocol) ? "http://127.0.0.1:1" : v;
      } catch {
        return v;
      }
    };
    // Half the cases start from a working connection of some provider, with
    // hostile values laid over it, so the checks past the first one run too.
    const working = fc.constantFrom<JsonObject>(
      { admin_api_key: em.openai.adminKey, admin_api_key_id: em.openai.adminKeyId, organization_id: em.openai.organizationId, api_endpoint: em.openai.baseUrl },
      { provider: "litellm", base_url: em.litellm.baseUrl, master_key: em.litellm.masterKey },
      { provider: "openrouter", base_url: em.openrouter.baseUrl, provisioning_key: em.openrouter.managementKey },
    );
    const overlay = fc.dictionary(fc.constantFrom(...fields), fc.oneof(hostileValue, good), { maxKeys: 2 });
    const mixed = fc.oneof(dataOver(fields, fc.oneof(hostileValue, good)), fc.tuple(working, overlay).map(([w, o]) => wire({ ...w, ...o })));
    const data = fc.tuple(mixed, fc.constantFrom("api_endpoint", "base_url"), fc.constantFrom(...ours, "http://127.0.0.1:1")).map(([d, key, url]) => {
      const out: JsonObject = wire(d);
      for (const k of ["api_endpoint", "base_url", "url"]) if (Object.hasOwn(out, k)) out[k] = local(out[k]) as JsonObject[string];
      if (!["api_endpoint", "base_url", "url"].some((k) => typeof out[k] === "string")) out[key] = url;
      return out;
    });
    const counts = { stored: 0, refused: 0 };
    const r = await fuzz(
      fc.tuple(fc.constantFrom("config", "connections/c1", "connections/c2", "connections/default"), data),
      async ([path, data]) => {
        try {
          await cm.write(path, data);
        } catch (err) {
          counts.refused++;
          return refusal(err, fields, data, path.split("/")[1] ?? "");
        }
        counts.stored++;
        const read = await cm.read(path);
        const text = JSON.stringify(read ?? {});
        // What is stored as a credential must not come back, unless the
        // request also put the same text in a field that is shown.
        const entry = JSON.parse(Buffer.from((await cm.storage.get(path))!.value).toString()) as Record<string, unknown>;
        const credentialFields = ["admin_api_key", "master_key", "provisioning_key"];
        const shown = Object.entries(entry).filter(([k, v]) => !credentialFields.includes(k) && typeof v === "string").map(([, v]) => v as string);
        const credentials = credentialFields.map((f) => entry[f]).filter((v): v is string => typeof v === "string" && v.length >= 4 && !shown.some((x) => x.includes(v)));
        if (credentials.some((c) => text.includes(c))) return "a credential was read back";
        const url = (read?.data?.["api_endpoint"] ?? read?.data?.["base_url"]) as string | undefined;
        if (!url || !/^https?:\/\/[^/@?#]+/.test(url)) return `a stored endpoint is not a plain http(s) URL: ${brief(url)}`;
        return undefined;
      },
      4_000,
      60_000,
    );
    reportFuzz("connection writes with arbitrary data", "config and named connections x any mix of connection fields, real and wrong credentials, hostile URLs", r, `${counts.stored} stored, ${counts.refused} refused`);
  });

  test("accepted role values read back as their documented coercion, whatever form they were written in", async () => {
    const seconds = fc.integer({ min: 0, max: 30 * 86400 });
    /** Seconds as a JSON number, decimal text, "Ns", Go's "XhYmZs", or whole days "Nd". */
    const durationForms = (n: number) => {
      const forms: unknown[] = [n, String(n), `${n}s`, `${Math.floor(n / 3600)}h${Math.floor((n % 3600) / 60)}m${n % 60}s`];
      if (n % 86400 === 0) forms.push(`${n / 86400}d`);
      return fc.constantFrom(...forms);
    };
    const ttls = fc.tuple(seconds, seconds).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [number, number]).chain(([ttl, max]) =>
      fc.record({ ttl: fc.constant(ttl), max_ttl: fc.constant(max), ttlForm: durationForms(ttl), maxForm: durationForms(max) }),
    );
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,15}$/);
    const text = fc.string({ maxLength: 40 });
    const count = fc.integer({ min: 0, max: 1_000_000 });
    const countForm = (n: number) => fc.constantFrom<unknown>(n, String(n), `+${n}`, n + 0.25);
    const amount = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.double({ min: 0, max: 1e6, noNaN: true }).map((x) => x + 0));
    const amountForm = (n: number) => fc.constantFrom<unknown>(n, String(n));
    const list = fc.array(name, { maxLength: 4 });
    const listForm = (l: string[]) => fc.constantFrom<unknown>(l, l.join(","), l.map((x) => ` ${x} `).join(","));
    const pairs = fc.dictionary(name, fc.string({ maxLength: 12 }), { maxKeys: 3, noNullPrototype: true });
    const pairsForm = (m: Record<string, string>) => fc.constantFrom<unknown>(m, Object.entries(m).map(([k, v]) => `${k}=${v}`));
    const spec = fc.oneof(
      fc.record({ provider: fc.constant("openai" as const), ttls, description: text, descriptionIsNumber: fc.boolean(), n: count }),
      fc.record({
        provider: fc.constant("litellm" as const),
        ttls,
        models: list.chain((l) => fc.tuple(fc.constant(l), listForm(l))),
        tags: list.chain((l) => fc.tuple(fc.constant(l), listForm(l))),
        budget: amount.chain((a) => fc.tuple(fc.constant(a), amountForm(a))),
        tpm: count.chain((c) => fc.tuple(fc.constant(c), countForm(c))),
        metadata: pairs.chain((m) => fc.tuple(fc.constant(m), pairsForm(m))),
        team: text,
      }),
      fc.record({ provider: fc.constant("openrouter" as const), ttls, limit: amount.chain((a) => fc.tuple(fc.constant(a), amountForm(a))) }),
    );
    const r = await fuzz(
      spec,
      async (s) => {
        const path = `roles/rt-${s.provider}`;
        const common = { ttl: s.ttls.ttlForm, max_ttl: s.ttls.maxForm } as JsonObject;
        let data: JsonObject;
        let expected: JsonObject;
        if (s.provider === "openai") {
          const description = s.descriptionIsNumber ? s.n : s.description;
          data = { ...common, project_id: em.openai.projects[0]!.id, service_account_description: description };
          expected = { service_account_description: String(description) };
        } else if (s.provider === "litellm") {
          data = { ...common, connection: CONNECTIONS.litellm, models: s.models[1], tags: s.tags[1], max_budget: s.budget[1], tpm_limit: s.tpm[1], metadata: s.metadata[1], team_id: s.team } as JsonObject;
          expected = { models: s.models[0], tags: s.tags[0], max_budget: s.budget[0], tpm_limit: s.tpm[0], metadata: s.metadata[0], team_id: s.team };
        } else {
          data = { ...common, connection: CONNECTIONS.openrouter, limit: s.limit[1] } as JsonObject;
          expected = { limit: s.limit[0] };
        }
        try {
          await tb.write(path, wire(data));
        } catch (err) {
          return `a valid role was refused: ${outcomeOf(err).message}`;
        }
        const role = (await tb.read(path))?.data ?? {};
        const want = { ...expected, ttl: s.ttls.ttl, max_ttl: s.ttls.max_ttl };
        const got = Object.fromEntries(Object.keys(want).map((k) => [k, role[k]]));
        try {
          assert.deepStrictEqual(got, want);
          return undefined;
        } catch {
          return `read back ${brief(got)}, expected ${brief(want)}`;
        }
      },
      3_000,
      60_000,
    );
    reportFuzz("role write then read round trip", "valid roles of all three providers, each value in one of its accepted forms (number, text, Go duration, days, list or comma text, map or key=value list)", r);
  });

  test("creds with any ttl issue a lease within the role's bounds or refuse with a 400 naming ttl, and leave nothing at the provider when refused", async () => {
    const roles = { openai: "c-openai", litellm: "c-litellm", openrouter: "c-openrouter" } as const;
    await tb.write(`roles/${roles.openai}`, { project_id: em.openai.projects[0]!.id, ttl: "10m", max_ttl: "1h" });
    await tb.write(`roles/${roles.litellm}`, { connection: CONNECTIONS.litellm, ttl: "10m", max_ttl: "1h" });
    await tb.write(`roles/${roles.openrouter}`, { connection: CONNECTIONS.openrouter, ttl: "10m", max_ttl: "1h" });
    const baseline = providerObjects(em);
    const ttl = fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 7200 }).map((n) => ({ raw: n as unknown, seconds: n as number | undefined })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 7200 }).map((n) => ({ raw: `${n}s` as unknown, seconds: n as number | undefined })) },
      { weight: 2, arbitrary: hostileScalar.map((raw) => ({ raw, seconds: undefined as number | undefined })) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, "-1", "-1s", 1e30, "1e30", "9999999999999h", "9223372036854775808", 2n ** 64n, "106752d").map((raw) => ({ raw, seconds: undefined as number | undefined })) },
    );
    const counts = { issued: 0, refused: 0 };
    const r = await fuzz(
      fc.tuple(fc.constantFrom("openai", "litellm", "openrouter") as fc.Arbitrary<keyof typeof roles>, ttl, fc.dictionary(hostileKey, hostileScalar, { maxKeys: 2 })),
      async ([provider, { raw, seconds }, extra]) => {
        let issued: Response | undefined;
        try {
          issued = await tb.read(`creds/${roles[provider]}`, wire({ ...extra, ttl: raw }));
        } catch (err) {
          counts.refused++;
          const o = outcomeOf(err);
          const left = providerObjects(em);
          if (JSON.stringify(left) !== JSON.stringify(baseline)) return `a refused issuance left ${brief(left)} at the providers (baseline ${brief(baseline)})`;
          if (o.crash || o.status !== 400 || !/"ttl"/.test(o.message)) return `refused with ${o.status}: ${o.message}`;
          return seconds === undefined ? undefined : `a valid ttl of ${seconds}s was refused: ${o.message}`;
        }
        counts.issued++;
        try {
          const lease = issued?.secret?.leaseOptions;
          if (!lease) return "no lease";
          // Any value coercion accepts is fine; what matters is the lease bound.
          if (!(lease.ttl! > 0 && lease.ttl! <= 3600)) return `lease ttl ${lease.ttl} outside (0, max_ttl]`;
          if (seconds !== undefined && lease.ttl !== (seconds === 0 ? 600 : Math.min(seconds, 3600))) return `requested ${seconds}s, leased ${lease.ttl}s`;
          return undefined;
        } finally {
          await tb.revoke(issued!);
          const left = providerObjects(em);
          if (JSON.stringify(left) !== JSON.stringify(baseline)) counts.refused += 0;
        }
      },
      600,
      15_000,
    );
    const after = providerObjects(em);
    reportFuzz(
      "creds with arbitrary ttl values",
      "OpenAI, LiteLLM and OpenRouter roles (ttl 10m, max_ttl 1h) x valid, hostile and overflowing ttl values x unknown extra keys; every lease revoked",
      r,
      `${counts.issued} issued and revoked, ${counts.refused} refused; provider objects at the end ${brief(after)}, at the start ${brief(baseline)}`,
    );
    assert.deepEqual(after, baseline, "every issued key was deleted again");
  });

  test("fuzz totals", () => {
    report({
      area: "fuzz",
      scenario: "fuzzing totals",
      tried: `${totals.runs.toLocaleString("en")} generated cases over every fuzz property`,
      found: `${totals.failures} failures`,
      ok: totals.failures === 0,
    });
    assert.equal(totals.failures, 0);
  });
});
