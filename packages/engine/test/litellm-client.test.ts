// The LiteLLM provider client against the LiteLLM proxy emulator.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LiteLLMClient, type LiteLLMClientOptions, parseLiteLLMTime } from "../src/providers/litellm/client.ts";
import { ProviderError } from "../src/providers/http.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator, type LiteLLMSettings } from "../../../tools/emulators/index.ts";

const FAST: LiteLLMClientOptions = { retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2_000 }, timeoutMs: 2_000 };

async function setup(t: TestContext, options: { settings?: Partial<LiteLLMSettings>; client?: LiteLLMClientOptions } = {}) {
  const emu = await startLiteLLMEmulator(options.settings ? { settings: options.settings } : {});
  t.after(() => emu.close());
  const client = new LiteLLMClient({ baseUrl: emu.baseUrl, masterKey: emu.masterKey }, { ...FAST, ...options.client });
  return { emu, client };
}

interface KeyRow {
  token: string;
  key_alias: string | null;
  max_budget: number | null;
  models: string[];
  metadata: Record<string, unknown>;
  budget_duration: string | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  team_id: string | null;
  user_id: string | null;
}

function keys(emu: LiteLLMEmulator): KeyRow[] {
  return (emu.control.state() as { keys: KeyRow[] }).keys;
}

function routeCount(emu: LiteLLMEmulator, route: string): number {
  return emu.control.stats().byRoute[route] ?? 0;
}

async function chat(emu: LiteLLMEmulator, key: string, model: string): Promise<{ status: number; type: unknown }> {
  const res = await fetch(`${emu.url}/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  const body = (await res.json()) as { error?: { type?: unknown } };
  return { status: res.status, type: body.error?.type };
}

function isProviderError(status: number | undefined, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.status, status);
    if (message) assert.match(err.message, message);
    return true;
  };
}

const basic = { keyAlias: "vault-role-abc123", models: ["gpt-4o-mini"], durationSeconds: 3600 };

test("verifyMasterKey succeeds with the master key", async (t) => {
  const { client } = await setup(t);
  await client.verifyMasterKey();
});

test("verifyMasterKey calls an authenticated route, not a health probe", async (t) => {
  const { emu, client } = await setup(t);
  await client.verifyMasterKey();
  assert.equal(routeCount(emu, "GET /key/list"), 1);
});

test("a wrong master key is a ProviderError 401 whose message does not contain the key", async (t) => {
  const { emu } = await setup(t);
  const wrong = "sk-wrong-master-key-0123456789";
  const client = new LiteLLMClient({ baseUrl: emu.baseUrl, masterKey: wrong }, FAST);
  await assert.rejects(client.verifyMasterKey(), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 401);
    assert.ok(!err.message.includes(wrong), err.message);
    return true;
  });
});

test("a wrong master key that LiteLLM echoes in full is redacted from the error", async (t) => {
  const { emu } = await setup(t);
  // LiteLLM answers "Received=<key>, expected to start with 'sk-'" for such a key.
  const wrong = "not-a-litellm-key-0123456789";
  const client = new LiteLLMClient({ baseUrl: emu.baseUrl, masterKey: wrong }, FAST);
  await assert.rejects(client.verifyMasterKey(), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 401);
    assert.ok(!err.message.includes(wrong), err.message);
    assert.match(err.message, /\[redacted\]/);
    return true;
  });
});

test("verifyMasterKey rejects an answer that is not a key list", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "GET", path: "/key/list", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.verifyMasterKey(), /malformed key list/);
});

test("generateKey returns the key, its token, alias, expiry, budget and models", async (t) => {
  const { emu, client } = await setup(t);
  const before = emu.control.now();
  const k = await client.generateKey({ ...basic, maxBudget: 2.5 });
  assert.match(k.key, /^sk-/);
  assert.equal(k.token, createHash("sha256").update(k.key).digest("hex"));
  assert.equal(k.keyAlias, basic.keyAlias);
  assert.equal(k.maxBudget, 2.5);
  assert.deepEqual(k.models, ["gpt-4o-mini"]);
  assert.ok(k.expires);
  const expires = parseLiteLLMTime(k.expires);
  assert.ok(expires !== undefined && Math.abs(expires - (before + 3_600_000)) < 5_000, k.expires);
});

test("generateKey sends its optional fields to LiteLLM", async (t) => {
  const { emu, client } = await setup(t);
  await client.generateKey({
    ...basic,
    metadata: { vault_role: "r" },
    budgetDuration: "30d",
    tpmLimit: 1000,
    rpmLimit: 10,
    maxParallelRequests: 2,
    teamId: "team-1",
    userId: "user-1",
  });
  const row = keys(emu)[0]!;
  assert.deepEqual(row.metadata, { vault_role: "r" });
  assert.equal(row.budget_duration, "30d");
  assert.equal(row.tpm_limit, 1000);
  assert.equal(row.rpm_limit, 10);
  assert.equal(row.max_parallel_requests, 2);
  assert.equal(row.team_id, "team-1");
  assert.equal(row.user_id, "user-1");
  assert.equal(row.max_budget, null);
});

test("the generated key works on chat completions for an allowed model", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  assert.equal((await chat(emu, k.key, "gpt-4o-mini")).status, 200);
});

test("the generated key is refused for a model it does not allow", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  assert.deepEqual(await chat(emu, k.key, "gpt-4o"), { status: 401, type: "key_model_access_denied" });
});

test("the generated key expires after its duration", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  emu.control.advanceClock(3_599_000);
  assert.equal((await chat(emu, k.key, "gpt-4o-mini")).status, 200);
  emu.control.advanceClock(2_000);
  assert.deepEqual(await chat(emu, k.key, "gpt-4o-mini"), { status: 401, type: "expired_key" });
});

test("generateKey refuses a duration that is not a positive number before calling LiteLLM", async (t) => {
  const { emu, client } = await setup(t);
  await assert.rejects(client.generateKey({ ...basic, durationSeconds: 0 }), RangeError);
  await assert.rejects(client.generateKey({ ...basic, durationSeconds: Number.NaN }), RangeError);
  assert.equal(routeCount(emu, "POST /key/generate"), 0);
});

test("generateKey refuses a budget that would serialize as null (no budget)", async (t) => {
  const { client } = await setup(t);
  await assert.rejects(client.generateKey({ ...basic, maxBudget: Number.NaN }), RangeError);
  await assert.rejects(client.generateKey({ ...basic, maxBudget: -1 }), RangeError);
});

test("a duplicate alias is a ProviderError 400, not retried", async (t) => {
  const { emu, client } = await setup(t);
  await client.generateKey(basic);
  await assert.rejects(client.generateKey(basic), isProviderError(400, /already exists/));
  assert.equal(routeCount(emu, "POST /key/generate"), 2);
});

test("a 429 with Retry-After on generateKey is retried after the delay it asks for", async (t) => {
  const delays: number[] = [];
  const { emu, client } = await setup(t, {
    client: { retry: { baseDelayMs: 5, maxDelayMs: 5_000, maxTotalMs: 10_000 }, sleep: async (ms) => void delays.push(ms) },
  });
  emu.control.addFault({ method: "POST", path: "/key/generate", action: { type: "status", status: 429, retryAfter: 2 } });
  const k = await client.generateKey(basic);
  assert.ok(k.key);
  assert.deepEqual(delays, [2_000]);
  assert.equal(keys(emu).length, 1);
});

test("a 500 on generateKey is not retried", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/key/generate", action: { type: "status", status: 500 } });
  await assert.rejects(client.generateKey(basic), isProviderError(500));
  assert.equal(routeCount(emu, "POST /key/generate"), 1);
  assert.equal(keys(emu).length, 0);
});

test("a generate answer without the key is rejected and the key it made is deleted by token", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/key/generate", action: { type: "malformed", variant: "missing-fields", fields: ["key"] } });
  await assert.rejects(client.generateKey(basic), /malformed key \(no key in the response\); the key it made was deleted/);
  assert.equal(keys(emu).length, 0);
});

test("a generate answer without key or token is rejected and the key it made is deleted by alias", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/key/generate", action: { type: "malformed", variant: "missing-fields", fields: ["key", "token", "token_id"] } });
  await assert.rejects(client.generateKey(basic), /malformed key.*the key it made was deleted/);
  assert.equal(keys(emu).length, 0);
});

test("a generate answer with the wrong types is rejected and the key it made is deleted", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/key/generate", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.generateKey(basic), /malformed key/);
  assert.equal(keys(emu).length, 0);
});

test("a generate answer that is not JSON is rejected and the key it made is deleted by alias", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/key/generate", action: { type: "malformed", variant: "not-json" } });
  await assert.rejects(client.generateKey(basic), /not JSON; the key it made was deleted/);
  assert.equal(keys(emu).length, 0);
});

test("updateKeyDuration moves the expiry to now plus the duration", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  emu.control.advanceClock(1_800_000);
  const { expires } = await client.updateKeyDuration(k.token, 3600);
  const ms = expires === null ? undefined : parseLiteLLMTime(expires);
  assert.ok(ms !== undefined && Math.abs(ms - (emu.control.now() + 3_600_000)) < 5_000, String(expires));
  emu.control.advanceClock(3_000_000); // past the first expiry, before the new one
  assert.equal((await chat(emu, k.key, "gpt-4o-mini")).status, 200);
});

test("updateKeyDuration on a missing key is a ProviderError 404 that says so", async (t) => {
  const { client } = await setup(t);
  await assert.rejects(client.updateKeyDuration("0".repeat(64), 3600), isProviderError(404, /no such key/));
});

test("deleteKey deletes the key, which then stops working", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  assert.equal(await client.deleteKey(k.token), "deleted");
  assert.equal((await chat(emu, k.key, "gpt-4o-mini")).status, 401);
  assert.equal(keys(emu).length, 0);
});

test("deleteKey of a missing key is already-gone", async (t) => {
  const { client } = await setup(t);
  assert.equal(await client.deleteKey("0".repeat(64)), "already-gone");
});

test("deleteKey against a route that does not exist is an error, not already-gone", async (t) => {
  const { emu } = await setup(t);
  const client = new LiteLLMClient({ baseUrl: `${emu.baseUrl}/wrong-prefix`, masterKey: emu.masterKey }, FAST);
  await assert.rejects(client.deleteKey("0".repeat(64)), isProviderError(404));
});

test("deleteKeyByAlias deletes the key made under the alias", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  await client.generateKey({ ...basic, keyAlias: "another-alias" });
  assert.equal(await client.deleteKeyByAlias(basic.keyAlias), "deleted");
  assert.deepEqual(
    keys(emu).map((r) => r.key_alias),
    ["another-alias"],
  );
  assert.equal((await chat(emu, k.key, "gpt-4o-mini")).status, 401);
});

test("deleteKeyByAlias when no key has the alias is already-gone", async (t) => {
  const { client } = await setup(t);
  assert.equal(await client.deleteKeyByAlias("never-made"), "already-gone");
});

test("deleteKeyByAlias falls back to listing by alias when /key/delete does not take key_aliases", async (t) => {
  const { emu, client } = await setup(t);
  await client.generateKey(basic);
  await client.generateKey({ ...basic, keyAlias: "another-alias" });
  emu.control.addFault({ method: "POST", path: "/key/delete", action: { type: "status", status: 422 } });
  assert.equal(await client.deleteKeyByAlias(basic.keyAlias), "deleted");
  assert.deepEqual(
    keys(emu).map((r) => r.key_alias),
    ["another-alias"],
  );
  assert.equal(routeCount(emu, "GET /key/list"), 1);
});

test("keyInfo returns spend, budget, expiry, models and alias", async (t) => {
  const { emu, client } = await setup(t, { settings: { costPerRequest: 0.25 } });
  const k = await client.generateKey({ ...basic, maxBudget: 1 });
  await chat(emu, k.key, "gpt-4o-mini");
  const info = await client.keyInfo(k.token);
  assert.deepEqual(info, { spend: 0.25, maxBudget: 1, expires: k.expires, models: ["gpt-4o-mini"], keyAlias: basic.keyAlias, blocked: false });
});

test("keyInfo of a missing key is undefined", async (t) => {
  const { client } = await setup(t);
  assert.equal(await client.keyInfo("0".repeat(64)), undefined);
});

test("a key info answer with the wrong types is rejected", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.generateKey(basic);
  emu.control.addFault({ method: "GET", path: "/key/info", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.keyInfo(k.token), /malformed key info/);
});

test("parseLiteLLMTime reads LiteLLM's timestamps, naive ones as UTC", () => {
  const want = Date.UTC(2026, 0, 2, 3, 4, 5, 123);
  assert.equal(parseLiteLLMTime("2026-01-02T03:04:05.123456Z"), want);
  assert.equal(parseLiteLLMTime("2026-01-02T03:04:05.123456+00:00"), want);
  assert.equal(parseLiteLLMTime("2026-01-02T03:04:05.123456"), want);
  assert.equal(parseLiteLLMTime("2026-01-02 03:04:05.123456+00:00"), want);
  assert.equal(parseLiteLLMTime("soon"), undefined);
});
