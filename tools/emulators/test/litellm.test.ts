// The LiteLLM proxy emulator against LiteLLM's key-management source.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { durationInSeconds, DurationError } from "../litellm/duration.ts";
import { pyFloat } from "../litellm/errors.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../litellm/emulator.ts";
import { call, list, pick, str } from "./helpers.ts";

let emu: LiteLLMEmulator;

before(async () => {
  emu = await startLiteLLMEmulator({ masterKey: "sk-master-for-tests" });
});
after(() => emu.close());
beforeEach(() => emu.control.reset());

const admin = (method: string, path: string, body?: unknown) =>
  call(emu.url, method, path, body === undefined ? { token: emu.masterKey } : { token: emu.masterKey, body });
const complete = (key: string, model = "gpt-4o") => call(emu.url, "POST", "/chat/completions", { token: key, body: { model, messages: [{ role: "user", content: "hi" }] } });

async function generate(body: Record<string, unknown> = {}): Promise<{ key: string; token: string; body: unknown }> {
  const res = await admin("POST", "/key/generate", body);
  assert.equal(res.status, 200, res.text);
  return { key: str(res.body, "key"), token: str(res.body, "token"), body: res.body };
}

describe("duration grammar", () => {
  for (const [input, seconds] of [
    ["30s", 30],
    ["1h", 3600],
    ["3600s", 3600],
    ["2d", 172_800],
    ["1w", 604_800],
    ["1h30m", 3600],
  ] as const) {
    test(`"${input}" is ${seconds} seconds`, () => assert.equal(durationInSeconds(input, Date.UTC(2026, 0, 15)), seconds));
  }

  test('"1mo" from January 31st ends on the last day of February', () => {
    assert.equal(durationInSeconds("1mo", Date.UTC(2026, 0, 31)), 28 * 86_400);
  });

  test("a bare number is refused as an unsupported unit", () => {
    assert.throws(() => durationInSeconds("3600", 0), new DurationError("Unsupported duration unit, passed duration: 3600"));
  });

  test("repr of floats follows Python", () => {
    assert.deepEqual([pyFloat(1), pyFloat(0.003), pyFloat(0.00001), pyFloat(-1)], ["1.0", "0.003", "1e-05", "-1.0"]);
  });
});

describe("/key/generate", () => {
  test("returns an sk- key, its sha256 as token and token_id, and expires at now + duration", async () => {
    const before = Date.now();
    const g = await generate({ duration: "1h", key_alias: "vault-role-1", models: ["gpt-4o"], max_budget: 5, metadata: { vault_role: "r" } });
    assert.match(g.key, /^sk-[A-Za-z0-9_-]{22}$/);
    assert.equal(g.token, createHash("sha256").update(g.key).digest("hex"));
    assert.equal(pick(g.body, "token_id"), g.token);
    assert.equal(pick(g.body, "key_name"), `sk-...${g.key.slice(-4)}`);
    assert.match(str(g.body, "expires"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const expires = Date.parse(str(g.body, "expires"));
    assert.ok(expires >= before + 3_600_000 - 1000 && expires <= Date.now() + 3_600_000 + 1000);
    assert.deepEqual(pick(g.body, "models"), ["gpt-4o"]);
    assert.equal(pick(g.body, "max_budget"), 5);
    assert.deepEqual(pick(g.body, "metadata"), { vault_role: "r" });
    assert.equal(pick(g.body, "created_by"), "default_user_id");
  });

  test("without duration the key never expires", async () => {
    const g = await generate();
    assert.equal(pick(g.body, "expires"), null);
  });

  test("a bare-number duration is a 500 'Unsupported duration unit'", async () => {
    const res = await admin("POST", "/key/generate", { duration: "3600" });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      error: { message: "Unsupported duration unit, passed duration: 3600", type: "internal_server_error", param: "None", code: "500" },
    });
  });

  test("a duplicate key_alias is a 400 bad_request_error on key_alias", async () => {
    await generate({ key_alias: "dup" });
    const res = await admin("POST", "/key/generate", { key_alias: "dup" });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.type"), "bad_request_error");
    assert.equal(pick(res.body, "error.param"), "key_alias");
    assert.match(str(res.body, "error.message"), /Unique key aliases across all keys are required/);
  });

  test("wrong field types are a FastAPI 422 listing each field", async () => {
    const res = await admin("POST", "/key/generate", { models: "gpt-4o", max_budget: "lots", rpm_limit: 1.5 });
    assert.equal(res.status, 422);
    assert.deepEqual(
      list(res.body, "detail").map((d) => [pick(d, "type"), pick(d, "loc")]),
      [
        ["list_type", ["body", "models"]],
        ["float_parsing", ["body", "max_budget"]],
        ["int_from_float", ["body", "rpm_limit"]],
      ],
    );
  });

  test("a negative max_budget is a 400", async () => {
    const res = await admin("POST", "/key/generate", { max_budget: -1 });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.message"), "{'error': 'max_budget cannot be negative. Received: -1.0'}");
  });

  test("tags are refused without an Enterprise licence and kept in metadata with one", async () => {
    const refused = await admin("POST", "/key/generate", { tags: ["team-a"] });
    assert.equal(refused.status, 403);
    assert.match(str(refused.body, "error.message"), /Enterprise/);
    emu.control.updateSettings({ licensed: true });
    const g = await generate({ tags: ["team-a"] });
    assert.deepEqual(pick(g.body, "metadata.tags"), ["team-a"]);
  });
});

describe("authentication", () => {
  test("no key is a 401 auth_error", async () => {
    const res = await call(emu.url, "POST", "/key/generate", { body: {} });
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.type"), "auth_error");
  });

  test("a wrong key is a 401 token_not_found_in_db naming the hash", async () => {
    const res = await call(emu.url, "POST", "/key/generate", { token: "sk-not-the-master", body: {} });
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.type"), "token_not_found_in_db");
    assert.match(str(res.body, "error.message"), /Received API Key = sk-\.\.\.ster/);
  });

  test("the master key is accepted in x-litellm-api-key", async () => {
    const res = await call(emu.url, "POST", "/key/generate", { headers: { "x-litellm-api-key": emu.masterKey }, body: {} });
    assert.equal(res.status, 200);
  });

  test("an ordinary virtual key cannot generate keys", async () => {
    const g = await generate();
    const res = await call(emu.url, "POST", "/key/generate", { token: g.key, body: {} });
    assert.equal(res.status, 401);
    assert.match(str(res.body, "error.message"), /Only proxy admin/);
  });

  test("a proxy-admin user's key can manage keys", async () => {
    const adminKey = await emu.createAdminKey();
    const res = await call(emu.url, "POST", "/key/generate", { token: adminKey.key, body: {} });
    assert.equal(res.status, 200);
  });

  test("the liveliness probe answers without a key", async () => {
    const res = await call(emu.url, "GET", "/health/liveliness");
    assert.equal(res.status, 200);
    assert.equal(res.body, "I'm alive!");
  });

  test("an unknown path is FastAPI's 404", async () => {
    const res = await admin("GET", "/nope");
    assert.deepEqual([res.status, res.body], [404, { detail: "Not Found" }]);
  });
});

describe("/key/info, /key/update, /key/list", () => {
  test("info by key or by token shows spend, max_budget, expires and models without the token", async () => {
    const g = await generate({ max_budget: 1, models: ["gpt-4o"], duration: "30s" });
    await complete(g.key);
    for (const id of [g.key, g.token]) {
      const res = await admin("GET", `/key/info?key=${encodeURIComponent(id)}`);
      assert.equal(res.status, 200);
      assert.equal(pick(res.body, "key"), id);
      assert.equal(pick(res.body, "info.spend"), 0.001);
      assert.equal(pick(res.body, "info.max_budget"), 1);
      assert.equal(pick(res.body, "info.expires"), pick(g.body, "expires"));
      assert.equal(pick(res.body, "info.token"), undefined);
    }
  });

  test("info on a missing key is a 404 not_found_error", async () => {
    const res = await admin("GET", "/key/info?key=sk-missing");
    assert.deepEqual(res.body, { error: { message: "Key not found in database", type: "not_found_error", param: "key", code: "404" } });
  });

  test("a virtual key can read its own info", async () => {
    const g = await generate();
    const res = await call(emu.url, "GET", "/key/info", { token: g.key });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "key"), g.token);
  });

  test("spend shows in info only after the flush lag", async () => {
    emu.control.updateSettings({ spendFlushLagMs: 150 });
    const g = await generate();
    await complete(g.key);
    assert.equal(pick((await admin("GET", `/key/info?key=${g.token}`)).body, "info.spend"), 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(pick((await admin("GET", `/key/info?key=${g.token}`)).body, "info.spend"), 0.001);
  });

  test("update with a duration re-bases expires on now", async () => {
    const g = await generate({ duration: "30s" });
    emu.control.advanceClock(20_000);
    const res = await admin("POST", "/key/update", { key: g.token, duration: "1h" });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "key"), g.token);
    const expires = Date.parse(str(res.body, "expires"));
    assert.ok(Math.abs(expires - (emu.control.now() + 3_600_000)) < 1000);
    emu.control.advanceClock(60_000);
    assert.equal((await complete(g.key)).status, 200);
  });

  test('update with duration "-1" makes the key never expire', async () => {
    const g = await generate({ duration: "30s" });
    const res = await admin("POST", "/key/update", { key: g.key, duration: "-1" });
    assert.equal(pick(res.body, "expires"), null);
  });

  test("update of a missing key is the 404 with LiteLLM's leftover team message", async () => {
    const res = await admin("POST", "/key/update", { key: "sk-missing", max_budget: 1 });
    assert.equal(res.status, 404);
    assert.equal(pick(res.body, "error.message"), "{'error': 'Team not found, passed team_id=None'}");
  });

  test("update without key is a 422 naming the field", async () => {
    const res = await admin("POST", "/key/update", { max_budget: 1 });
    assert.equal(res.status, 422);
    assert.deepEqual(pick(res.body, "detail.0.loc"), ["body", "key"]);
  });

  test("list returns hashes with paging counts", async () => {
    const a = await generate();
    const b = await generate();
    const res = await admin("GET", "/key/list?size=1");
    assert.equal(pick(res.body, "total_count"), 2);
    assert.equal(pick(res.body, "total_pages"), 2);
    assert.deepEqual(pick(res.body, "keys"), [b.token]);
    assert.notEqual(a.token, b.token);
  });
});

describe("/key/delete", () => {
  test("deletes by key and by token and echoes what was passed", async () => {
    const a = await generate();
    const b = await generate();
    const res = await admin("POST", "/key/delete", { keys: [a.key, b.token] });
    assert.deepEqual([res.status, res.body], [200, { deleted_keys: [a.key, b.token] }]);
    assert.equal((await complete(a.key)).status, 401);
  });

  test("deleting keys that do not exist is a 404 'No keys found'", async () => {
    const res = await admin("POST", "/key/delete", { keys: ["sk-gone"] });
    assert.deepEqual([res.status, res.body], [
      404,
      { error: { message: "{'error': 'No keys found'}", type: "internal_server_error", param: "None", code: "404" } },
    ]);
  });

  test("when some of the keys exist, the rest are ignored and the answer is 200", async () => {
    const a = await generate();
    const res = await admin("POST", "/key/delete", { keys: [a.key, "sk-gone"] });
    assert.deepEqual([res.status, res.body], [200, { deleted_keys: [a.key, "sk-gone"] }]);
  });

  test("deletes by key_aliases", async () => {
    const g = await generate({ key_alias: "vault-a" });
    const res = await admin("POST", "/key/delete", { key_aliases: ["vault-a"] });
    assert.deepEqual(res.body, { deleted_keys: ["vault-a"] });
    assert.equal((await admin("GET", `/key/info?key=${g.token}`)).status, 404);
  });

  test("neither keys nor key_aliases is a 422", async () => {
    const res = await admin("POST", "/key/delete", {});
    assert.equal(res.status, 422);
  });
});

describe("chat completions enforce the key", () => {
  test("a key restricted to models cannot call another model", async () => {
    const g = await generate({ models: ["gpt-4o"] });
    assert.equal((await complete(g.key, "gpt-4o")).status, 200);
    const res = await complete(g.key, "gpt-4o-mini");
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.type"), "key_model_access_denied");
    assert.match(str(res.body, "error.message"), /This key can only access models=\['gpt-4o'\]\. Tried to access gpt-4o-mini/);
  });

  test("a key with no models can call every proxy model", async () => {
    const g = await generate({ models: [] });
    assert.equal((await complete(g.key, "claude-3-5-sonnet")).status, 200);
  });

  test("spend grows per call and max_budget stops the key with budget_exceeded", async () => {
    emu.control.updateSettings({ costPerRequest: 0.1 });
    const g = await generate({ max_budget: 0.25 });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await complete(g.key);
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 400]);
    assert.equal(pick(last?.body, "error.type"), "budget_exceeded");
    assert.match(str(last?.body, "error.message"), /^Budget has been exceeded! Current cost: 0\.30000000000000004, Max budget: 0\.25$/);
  });

  test("the budget error status is configurable to 429", async () => {
    emu.control.updateSettings({ costPerRequest: 1, budgetExceededStatus: 429 });
    const g = await generate({ max_budget: 1 });
    await complete(g.key);
    assert.equal((await complete(g.key)).status, 429);
  });

  test("an expired key is refused with expired_key", async () => {
    const g = await generate({ duration: "30s" });
    emu.control.advanceClock(31_000);
    const res = await complete(g.key);
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.type"), "expired_key");
    assert.match(str(res.body, "error.message"), /^Authentication Error - Expired Key\. Key Expiry time \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00 and current time/);
  });

  test("a blocked key is refused and unblocking restores it", async () => {
    const g = await generate();
    await admin("POST", "/key/block", { key: g.key });
    const res = await complete(g.key);
    assert.equal(res.status, 401);
    assert.match(str(res.body, "error.message"), /Key is blocked/);
    await admin("POST", "/key/unblock", { key: g.key });
    assert.equal((await complete(g.key)).status, 200);
  });

  test("rpm_limit answers 429 with Retry-After once the minute's requests are used", async () => {
    const g = await generate({ rpm_limit: 2 });
    assert.equal((await complete(g.key)).status, 200);
    assert.equal((await complete(g.key)).status, 200);
    const res = await complete(g.key);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
  });

  test("max_parallel_requests refuses a request beyond the limit in flight", async () => {
    emu.control.updateSettings({ completionLatencyMs: 150 });
    const g = await generate({ max_parallel_requests: 1 });
    const results = await Promise.all([complete(g.key), complete(g.key)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 429]);
  });

  test("a model the proxy does not serve is a 400", async () => {
    const g = await generate();
    const res = await complete(g.key, "gpt-9");
    assert.equal(res.status, 400);
    assert.match(str(res.body, "error.message"), /Invalid model name passed in model=gpt-9/);
  });

  test("a successful call reports its cost in x-litellm-response-cost", async () => {
    const g = await generate();
    const res = await complete(g.key);
    assert.equal(res.headers.get("x-litellm-response-cost"), "0.001");
    assert.equal(pick(res.body, "object"), "chat.completion");
  });
});

describe("regenerate", () => {
  test("without a licence it is a 500 naming the Enterprise feature", async () => {
    const g = await generate();
    const res = await admin("POST", `/key/${g.key}/regenerate`, {});
    assert.equal(res.status, 500);
    assert.match(str(res.body, "error.message"), /^Regenerating Virtual Keys is an Enterprise feature/);
  });

  test("with a licence it issues a new key and the old one stops working", async () => {
    emu.control.updateSettings({ licensed: true });
    const g = await generate({ key_alias: "keep-me" });
    const res = await admin("POST", `/key/${g.token}/regenerate`, {});
    assert.equal(res.status, 200);
    const fresh = str(res.body, "key");
    assert.notEqual(fresh, g.key);
    assert.equal(pick(res.body, "key_alias"), "keep-me");
    assert.equal((await complete(g.key)).status, 401);
    assert.equal((await complete(fresh)).status, 200);
  });
});
