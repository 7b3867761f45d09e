// Field coercion, case by case, as the Go SDK's framework.FieldData does it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { coerceField, type FieldType } from "../src/framework/fields.ts";
import { FieldError } from "../src/framework/fields.ts";

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
const ok = (type: FieldType, raw: unknown, expected: unknown) =>
  test(`${type}: ${show(raw)} becomes ${show(expected)}`, () => {
    assert.deepEqual(coerceField("f", { type }, raw), expected);
  });
const bad = (type: FieldType, raw: unknown) =>
  test(`${type}: ${JSON.stringify(raw)} is rejected with an error naming the field and the type`, () => {
    assert.throws(() => coerceField("my_field", { type }, raw), (err: unknown) => {
      assert.ok(err instanceof FieldError);
      assert.equal(err.kind, "invalid-request");
      assert.match(err.message, /"my_field"/);
      return true;
    });
  });

ok("string", "abc", "abc");
ok("string", "", "");
ok("string", 12, "12");
ok("string", true, "1");
bad("string", { a: 1 });
bad("string", ["a"]);

ok("int", 42, 42);
ok("int", "42", 42);
ok("int", "", 0);
ok("int", "0", 0);
ok("int", "-7", -7);
ok("int", "0x10", 16);
ok("int", true, 1);
ok("int", 3.9, 3);
ok("int64", "9223372036854775807", 9223372036854775807n);
ok("int64", 9007199254740993n, 9007199254740993n);
bad("int64", "9223372036854775808");
bad("int", "abc");
bad("int", "1.5");
bad("int", { a: 1 });

ok("bool", true, true);
ok("bool", "true", true);
ok("bool", "1", true);
ok("bool", "F", false);
ok("bool", "", false);
ok("bool", 0, false);
bad("bool", "yes");

ok("float", 1.5, 1.5);
ok("float", "1.5", 1.5);
ok("float", "", 0);
bad("float", "one");

ok("duration", 3600, 3600);
ok("duration", "3600", 3600);
ok("duration", "1h", 3600);
ok("duration", "90m", 5400);
ok("duration", "1h30m", 5400);
ok("duration", "1.5h", 5400);
ok("duration", "2d", 172800);
ok("duration", "", 0);
ok("duration", "0", 0);
// TypeDurationSecond refuses a negative duration; only Go's signed type allows one.
bad("duration", "-5m");
bad("duration", "an hour");
bad("duration", "5 minutes");
bad("duration", { h: 1 });

ok("comma-string-slice", "a,b", ["a", "b"]);
ok("comma-string-slice", "a, b ,c", ["a", "b", "c"]);
ok("comma-string-slice", ["a", "b"], ["a", "b"]);
ok("comma-string-slice", "", []);
ok("comma-string-slice", 5, ["5"]);
ok("string-slice", ["a", "b c"], ["a", "b c"]);
ok("string-slice", "a,b", ["a,b"]);
bad("string-slice", { a: 1 });

ok("kv-pairs", ["a=1", "b=two"], { a: "1", b: "two" });
ok("kv-pairs", { a: "1" }, { a: "1" });
// A lone string is one pair, split at the first "=", never at commas.
ok("kv-pairs", "a=1,b=2", { a: "1,b=2" });
bad("kv-pairs", ["novalue"]);

ok("map", { a: { b: 1 } }, { a: { b: 1 } });
bad("map", "a=1");
bad("map", [1]);

ok("lowercase-string", "MiXeD", "mixed");
ok("name-string", "my-role_1.x", "my-role_1.x");
bad("name-string", "-leading");
bad("name-string", "has/slash");

ok("time", "2026-01-02T03:04:05Z", new Date("2026-01-02T03:04:05Z"));
// A JSON number reaches a Go plugin as float64, which parseutil.ParseAbsoluteTime
// refuses; epoch seconds must come as a string.
ok("time", "0", new Date(0));
bad("time", 0);
bad("time", "yesterday");

test("an error message never repeats the rejected value, which may be a secret", () => {
  assert.throws(() => coerceField("api_key", { type: "int" }, "sk-secret-value"), (err: Error) => !err.message.includes("sk-secret-value"));
});
