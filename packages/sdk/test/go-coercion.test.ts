// Field coercion checked against Go itself: every case below goes through the
// Go SDK's framework.FieldData (test/conformance/coercion, run with `go run`)
// by the path an external plugin's request data takes, and through our
// coerceField. Both must accept or reject alike and agree on the value. Error
// messages are not compared: ours name the field and the type, never the value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { coerceField, FieldError, type FieldType } from "../src/framework/fields.ts";
import { parseJson } from "../src/logical/json.ts";

const GO_DIR = fileURLToPath(new URL("../../../test/conformance/coercion/", import.meta.url));

// Raw values are JSON text, so integers beyond 2^53 reach both sides intact.
type Case = readonly [type: FieldType, raw: string];

const cases = (type: FieldType, ...raws: string[]): Case[] => raws.map((raw) => [type, raw] as const);
const json = (v: unknown): string => JSON.stringify(v);

const CASES: Case[] = [
  ...cases("string",
    '"abc"', '""', '"  padded  "', '"ünïcödé ☃ 😀"', "12", "-0", "1.5", "0.1", "1e21", "1e-7", "123456789012",
    "1e300", "9007199254740993", "true", "false", '{"a":1}', '["a"]', "[]", "{}"),
  ...cases("int",
    "42", '"42"', '""', '"0"', '"-7"', '"+7"', '"0x10"', '"0X1f"', '"0o17"', '"017"', '"0b101"', '"1_000"',
    '"1__000"', '"_1"', '"0x_1f"', '"08"', '" 42"', '"42 "', '"1.5"', '"1e3"', '"abc"', '"-"', '"١٢"', "true", "false",
    "3.9", "-3.9", "-0.5", "1e3", "9007199254740993", '"9007199254740993"', "9223372036854775807",
    '"9223372036854775807"', "9223372036854775808", '"9223372036854775808"', "-9223372036854775808",
    '"-9223372036854775808"', '"-9223372036854775809"', "1152921504606846976", "1e19", "-1e19", '{"a":1}', "[1]"),
  ...cases("int64",
    '"9223372036854775807"', '"-0x8000000000000000"', '"0x7fffffffffffffff"', '"0x8000000000000000"',
    "9007199254740992", "4611686018427387904", "-12.99"),
  ...cases("bool",
    "true", "false", '"true"', '"TRUE"', '"True"', '"tRuE"', '"t"', '"T"', '"f"', '"F"', '"1"', '"0"', '""', '"yes"',
    '"no"', '" true"', '"2"', "0", "1", "-1", "0.5", "9007199254740993", "[true]", "{}"),
  ...cases("float",
    "1.5", "-0", '"1.5"', '""', '"-0"', '"1e3"', '"1E-3"', '".5"', '"5."', '"+1.5"', '" 1.5"', '"1_000.5"', '"1__0"',
    '"1_e5"', '"0x1p-2"', '"0x10"', '"0x1.8p1"', '"0x_1p4"', '"inf"', '"-Infinity"', '"+INF"', '"NaN"', '"+nan"',
    '"infin"', '"1e400"', '"-1e400"', '"1e-400"', '"0x1p-1074"', '"0x1p-1075"', '"0x1.8p-1074"',
    '"0x1.0000000000001p-1022"', '"0x1.fffffffffffff8p1023"', '"123456789012345678901234567890"', '"abc"', '"1,5"',
    '"1e"', '"."', "9007199254740993", "true", "1e308", "[1]", "{}"),
  ...cases("duration",
    "3600", '"3600"', '""', '"0"', '"-0"', '"+60"', '"1h"', '"90m"', '"1h30m"', '"1.5h"', '"2d"', '"+2d"', '"-2d"',
    '"1.5d"', '"d"', '"1h2d"', '"-5m"', '"-0.5s"', "-1", "-0.5", "1.9", '"1.9s"', '"999999999ns"', '"1500ms"',
    '"1µs"', '"1μs"', '"1us"', '"1 h"', '"1H"', '"5 minutes"', '"an hour"', '" 60"', '"1h 30m"', '".5h"', '"1.h"',
    '"."', '".s"', '"1"', '"007"', '"0x10"', '"1_000"', '"1e3"', "1e3", '"9223372036"', '"9223372037"', "9223372036",
    "9223372037", '"106751d"', '"106752d"', '"2562047h"', '"2562048h"', '"2562047.7880152155h"',
    '"9223372036854775807"', '"99999999999999999999"', '"0.0000000000000000000001h"', "9007199254740993", "true",
    '{"h":1}', '["1h"]'),
  ...cases("comma-string-slice",
    '"a,b"', '"a, b ,c"', '""', '" "', '","', '"a,,b"', '["a","b"]', '["a,b"]', '[" a "]', "5", "1.5", "true",
    "[1,true,null]", "[]", "{}", '{"a":1}', '[["a"]]', "[{}]", '"\\u00a0a\\u00a0"', '"\\ufeffa"', '"\\u0085a"'),
  ...cases("string-slice",
    '["a","b c"]', '"a,b"', '""', '" "', '" a "', "5", "[1.5,false]", "[null]", "{}", '{"a":"b"}', "[[1]]", "[]"),
  ...cases("kv-pairs",
    '["a=1","b=two"]', '{"a":"1"}', '"a=1,b=2"', '"a=1"', '""', '["novalue"]', '["=v"]', '["k="]', '["k=a=b"]',
    '[" a = 1 "]', '{"a":1,"b":true,"c":null}', '{"a":[1]}', '{"a":{"b":1}}', "[]", "{}",
    '[{"a":"1"},{"b":"2"}]', '[{"a":"1"},"b=2"]', "5", "[1]", '{"__proto__":"x"}', '{"":"x"}'),
  ...cases("map",
    '{"a":{"b":1}}', "{}", "[]", '[{"a":1},{"b":2}]', '[{"a":1},{"a":2}]', '"a=1"', "[1]", "5", "true",
    '{"a":null,"b":[1,"x"]}', '{"__proto__":{"x":1}}'),
  ...cases("lowercase-string",
    '"MiXeD"', '"ÀÉÎ"', '"ΑΣ"', '"İ"', '"ẞ"', '"\\u212a"', "12", "true"),
  ...cases("name-string",
    '"my-role_1.x"', '"a"', '"-leading"', '"trailing-"', '"has/slash"', '""', '"a b"', '"ünï"', "5", "1.5", '"a\\n"',
    '"a..b"', '"_x_"'),
  ...cases("time",
    '"2026-01-02T03:04:05Z"', '"2026-01-02T03:04:05.123456789Z"', '"2026-01-02T03:04:05.1234567891234Z"',
    '"2026-01-02T03:04:05,5Z"', '"2026-01-02T03:04:05+01:00"', '"2026-01-02T03:04:05-07:30"',
    '"2026-01-02T3:04:05Z"', '"2026-01-02t03:04:05Z"', '"2026-01-02T03:04:05z"', '"2026-01-02 03:04:05Z"',
    '"2026-01-02T03:04:05"', '"2026-02-29T00:00:00Z"', '"2024-02-29T00:00:00Z"', '"2026-13-01T00:00:00Z"',
    '"2026-01-02T24:00:00Z"', '"2026-01-02T23:59:60Z"', '"2026-01-02T03:04:05+24:00"', '"2026-01-02T03:04:05+23:60"',
    '"2026-01-02T03:04:05+25:00"', '"2026-01-02T03:04:05+0100"', '"2026-01-02T03:04:05.Z"', '"0001-01-01T00:00:00Z"',
    '"0099-06-01T12:00:00Z"', '"9999-12-31T23:59:59Z"', '"2026-01-02"', '"0"', '"1700000000"', '"-1"', '"+5"',
    '"1.5"', '""', '"yesterday"', '" 1700000000"', '"9223372036854775807"', '"9223372036854775808"', "0",
    "1700000000", "true", "{}"),
  ...cases("header",
    '{"content-type":"text/json"}', '{"content-type":["a","b"]}', '{"X-CUSTOM-id":"1"}', '{"x_y":"1"}',
    '{"a b":"1"}', '{"ünï":"1"}', '{"":"x"}', '{"a":[]}', '{"a":1}', '{"a":[1]}', '{"a":null}', '{"a":true}', "{}", "[]",
    '[{"a":"x"},{"b":"y"}]', '["content-type:text/json","accept:a:b"]', '["content-type: text/json"]', '["novalue"]',
    '[":v"]', '["k:"]', json(json({ accept: ["a"], n: 1 }).replace("1}", "1.50}")), json(' {"a":"b"} trailing'),
    json(Buffer.from('{"a":"b"}').toString("base64")), json(Buffer.from('{"n":[1e3]}').toString("base64")),
    '"not json"', '""', '"null"', '"[1]"', '"abcd"', "5", "true", "[1]", '[{"a":"x"},"b:c"]'),
];

type Outcome = { ok: true; value: unknown } | { ok: false };

// Go's results and ours in one comparable form: numbers as their decimal
// text (floats keep -0, NaN and the infinities), times as epoch seconds.
function normalize(v: unknown): unknown {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return String(v);
  if (v instanceof Date) return String(Math.floor(v.getTime() / 1000));
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: normalize(x), enumerable: true });
    return out;
  }
  return v;
}

const GO_NON_FINITE: Record<string, string> = { NaN: "NaN", "+Inf": "Infinity", "-Inf": "-Infinity" };

function fromGo(type: FieldType, r: { ok: boolean; value?: unknown; unix?: unknown }): Outcome {
  if (!r.ok) return { ok: false };
  if (type === "time") return { ok: true, value: String(r.unix) };
  if (type === "float" && typeof r.value === "string") return { ok: true, value: GO_NON_FINITE[r.value] };
  return { ok: true, value: normalize(r.value) };
}

function ours(type: FieldType, rawText: string): Outcome & { message?: string } {
  // Parsed the way translate.ts parses a request's data.
  const raw = (parseJson(`{"f":${rawText}}`) as { f: unknown }).f;
  try {
    return { ok: true, value: normalize(coerceField("f", { type }, raw)) };
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    return { ok: false, message: err.message };
  }
}

const PRECISION =
  "a Go plugin decodes request JSON into float64, so an integer beyond 2^53 is rounded before FieldData sees it; " +
  "parseJson keeps it exact, and we keep the value the client sent";
const CPU_DEPENDENT =
  "Go converts a float64 beyond int64 with int64(f), whose result depends on the CPU (amd64 gives -2^63, arm64 " +
  "saturates); we refuse a number no int64 can hold";
const DATE_RANGE =
  "Go accepts any int64 of epoch seconds; a JavaScript Date holds only ±8.64e12 seconds, so beyond that we refuse " +
  "the value rather than return an invalid Date";

/** Where we differ from Go on purpose. Each entry must still differ from Go, or it is stale. */
const DELIBERATE_DIFFERENCES: ReadonlyArray<{ type: FieldType; raw: string; ours: Outcome; why: string }> = [
  { type: "string", raw: "9007199254740993", ours: { ok: true, value: "9007199254740993" }, why: PRECISION },
  { type: "int", raw: "9007199254740993", ours: { ok: true, value: "9007199254740993" }, why: PRECISION },
  { type: "int", raw: "9223372036854775807", ours: { ok: true, value: "9223372036854775807" }, why: PRECISION },
  { type: "int", raw: "9223372036854775808", ours: { ok: false }, why: CPU_DEPENDENT },
  { type: "int", raw: "1e19", ours: { ok: false }, why: CPU_DEPENDENT },
  { type: "int", raw: "-1e19", ours: { ok: false }, why: CPU_DEPENDENT },
  { type: "time", raw: '"9223372036854775807"', ours: { ok: false }, why: DATE_RANGE },
];

const differenceFor = (type: FieldType, raw: string) =>
  DELIBERATE_DIFFERENCES.find((d) => d.type === type && d.raw === raw);

function runGo(): { results?: Array<{ ok: boolean; value?: unknown; unix?: unknown; panic?: boolean }>; skip?: string } {
  const probe = spawnSync("go", ["version"], { encoding: "utf8" });
  if (probe.error) return { skip: `Go is not installed (go: ${(probe.error as NodeJS.ErrnoException).code}); this test checks our coercion against the Go SDK` };
  const input = `[${CASES.map(([type, raw]) => `{"type":${json(type)},"raw":${raw}}`).join(",")}]`;
  const run = spawnSync("go", ["run", "."], {
    cwd: GO_DIR,
    input,
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "auto" },
    maxBuffer: 64 << 20,
    timeout: 15 * 60_000,
  });
  if (run.error || run.status !== 0) {
    throw new Error(`go run in ${GO_DIR} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr}`);
  }
  return { results: parseJson(run.stdout) as Array<{ ok: boolean; value?: unknown; unix?: unknown }> };
}

const go = runGo();
const describe = (o: Outcome): string => (o.ok ? `accepted as ${JSON.stringify(o.value)}` : "rejected");

test("the case table covers every field type", () => {
  const types: FieldType[] = [
    "string", "int", "int64", "bool", "float", "duration", "comma-string-slice", "string-slice", "kv-pairs", "map",
    "lowercase-string", "name-string", "time", "header",
  ];
  for (const t of types) assert.ok(CASES.some(([type]) => type === t), t);
  assert.ok(CASES.length >= 150);
});

test("every deliberate difference names a case in the table", () => {
  for (const d of DELIBERATE_DIFFERENCES) assert.ok(CASES.some(([t, r]) => t === d.type && r === d.raw), `${d.type} ${d.raw}`);
});

if (go.skip) test("field coercion agrees with the Go SDK's FieldData", { skip: go.skip }, () => {});

CASES.forEach(([type, raw], i) => {
  if (go.skip) return;
  const difference = differenceFor(type, raw);
  const name = difference
    ? `${type} ${raw}: deliberately ${describe(difference.ours)}, unlike Go`
    : `${type} ${raw}: coerced as Go's FieldData does`;
  test(name, () => {
    const result = go.results?.[i];
    assert.ok(result, "Go returned no result for this case");
    assert.ok(!result.panic, "Go panicked");
    const expected = fromGo(type, result);
    const actual = ours(type, raw);
    if (difference) {
      assert.notDeepEqual(expected, difference.ours, `Go now agrees with us; drop the exception (${difference.why})`);
      assert.deepEqual({ ok: actual.ok, ...(actual.ok ? { value: actual.value } : {}) }, difference.ours);
      return;
    }
    assert.deepEqual(
      { ok: actual.ok, ...(actual.ok ? { value: actual.value } : {}) },
      expected,
      `Go ${describe(expected)}; we ${describe(actual)}`,
    );
    if (!actual.ok) {
      assert.match(actual.message ?? "", /"f"/, "the error names the field");
      const text = parseJson(raw);
      if (typeof text === "string" && text.length >= 4) {
        assert.ok(!actual.message?.includes(text), "the error must not repeat the value, which may be a secret");
      }
    }
  });
});
