// The OpenRouter key-management emulator against OpenRouter's OpenAPI document.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startOpenRouterEmulator, type OpenRouterEmulator } from "../openrouter/emulator.ts";
import { call, list, pick, str } from "./helpers.ts";

let emu: OpenRouterEmulator;
const K = "/api/v1/keys";

before(async () => {
  emu = await startOpenRouterEmulator();
});
after(() => emu.close());
beforeEach(() => emu.control.reset());

const mgmt = (method: string, path: string, body?: unknown) =>
  call(emu.url, method, path, body === undefined ? { token: emu.managementKey } : { token: emu.managementKey, body });
const complete = (key: string, model = "openai/gpt-4o") =>
  call(emu.url, "POST", "/api/v1/chat/completions", { token: key, body: { model, messages: [{ role: "user", content: "hi" }] } });

async function create(body: Record<string, unknown> = { name: "vault-role" }) {
  const res = await mgmt("POST", K, body);
  assert.equal(res.status, 201, res.text);
  return { key: str(res.body, "key"), hash: str(res.body, "data.hash"), body: res.body };
}

describe("keys", () => {
  test("create answers 201 with data and the key, whose hash is its sha256", async () => {
    const c = await create({ name: "vault-a", limit: 5 });
    assert.match(c.key, /^sk-or-v1-[0-9a-f]{64}$/);
    assert.equal(c.hash, createHash("sha256").update(c.key).digest("hex"));
    assert.equal(pick(c.body, "data.name"), "vault-a");
    assert.equal(pick(c.body, "data.limit"), 5);
    assert.equal(pick(c.body, "data.limit_remaining"), 5);
    assert.equal(pick(c.body, "data.usage"), 0);
    assert.equal(pick(c.body, "data.disabled"), false);
    assert.equal(pick(c.body, "data.updated_at"), null);
    assert.match(str(c.body, "data.label"), /^sk-or-v1-[0-9a-f]{3}\.\.\.[0-9a-f]{4}$/);
    assert.match(str(c.body, "data.created_at"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("the POST path with a trailing slash, as in OpenRouter's own example, works too", async () => {
    const res = await mgmt("POST", `${K}/`, { name: "slash" });
    assert.equal(res.status, 201);
  });

  test("name is required", async () => {
    const res = await mgmt("POST", K, { limit: 1 });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.code"), 400);
  });

  test("expires_at in another time zone is refused, a UTC one is kept", async () => {
    assert.equal((await mgmt("POST", K, { name: "tz", expires_at: "2099-01-01T00:00:00+02:00" })).status, 400);
    const c = await create({ name: "utc", expires_at: "2099-01-01T00:00:00Z" });
    assert.equal(pick(c.body, "data.expires_at"), "2099-01-01T00:00:00Z");
  });

  test("get by hash, then delete answers {deleted: true} and the hash is gone", async () => {
    const c = await create();
    assert.equal(pick((await mgmt("GET", `${K}/${c.hash}`)).body, "data.hash"), c.hash);
    const del = await mgmt("DELETE", `${K}/${c.hash}`);
    assert.deepEqual([del.status, del.body], [200, { deleted: true }]);
    const gone = await mgmt("GET", `${K}/${c.hash}`);
    assert.deepEqual([gone.status, gone.body], [404, { error: { code: 404, message: "Resource not found" } }]);
    assert.equal((await mgmt("DELETE", `${K}/${c.hash}`)).status, 404);
  });

  test("list is newest first, hides disabled keys unless include_disabled=true, and pages by offset", async () => {
    const a = await create({ name: "a" });
    const b = await create({ name: "b" });
    await mgmt("PATCH", `${K}/${a.hash}`, { disabled: true });
    const visible = await mgmt("GET", K);
    assert.deepEqual(list(visible.body, "data").map((k) => pick(k, "name")), ["b"]);
    const all = await mgmt("GET", `${K}?include_disabled=true`);
    assert.deepEqual(list(all.body, "data").map((k) => pick(k, "hash")), [b.hash, a.hash]);
    const second = await mgmt("GET", `${K}?include_disabled=true&offset=1`);
    assert.deepEqual(list(second.body, "data").map((k) => pick(k, "name")), ["a"]);
  });

  test("update changes limit and sets updated_at", async () => {
    const c = await create();
    const res = await mgmt("PATCH", `${K}/${c.hash}`, { limit: 2, limit_reset: "monthly" });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "data.limit"), 2);
    assert.equal(pick(res.body, "data.limit_reset"), "monthly");
    assert.equal(typeof pick(res.body, "data.updated_at"), "string");
  });

  test("expires_at in an update is ignored by default and applied when the setting accepts it", async () => {
    const c = await create();
    const ignored = await mgmt("PATCH", `${K}/${c.hash}`, { expires_at: "2099-01-01T00:00:00Z" });
    assert.equal(pick(ignored.body, "data.expires_at"), null);
    emu.control.updateSettings({ patchExpiresAt: "accept" });
    const accepted = await mgmt("PATCH", `${K}/${c.hash}`, { expires_at: "2099-01-01T00:00:00Z" });
    assert.equal(pick(accepted.body, "data.expires_at"), "2099-01-01T00:00:00Z");
  });
});

describe("authentication", () => {
  test("no key is a 401 in OpenRouter's envelope", async () => {
    const res = await call(emu.url, "GET", K);
    assert.deepEqual([res.status, res.body], [401, { error: { code: 401, message: "Missing Authentication header" } }]);
  });

  test("an unknown key is a 401 'User not found.'", async () => {
    const res = await call(emu.url, "GET", K, { token: "sk-or-v1-nope" });
    assert.deepEqual([res.status, res.body], [401, { error: { code: 401, message: "User not found." } }]);
  });

  test("an ordinary key cannot manage keys", async () => {
    const c = await create();
    const res = await call(emu.url, "GET", K, { token: c.key });
    assert.deepEqual([res.status, res.body], [403, { error: { code: 403, message: "Only management keys can perform this operation" } }]);
  });

  test("a management key cannot make completions", async () => {
    const res = await complete(emu.managementKey);
    assert.equal(res.status, 403);
  });
});

describe("chat completions enforce the key", () => {
  test("a new key works, and a deleted one is a 401", async () => {
    const c = await create();
    const ok = await complete(c.key);
    assert.equal(ok.status, 200);
    assert.match(str(ok.body, "id"), /^gen-/);
    await mgmt("DELETE", `${K}/${c.hash}`);
    const res = await complete(c.key);
    assert.deepEqual([res.status, res.body], [401, { error: { code: 401, message: "User not found." } }]);
  });

  test("a disabled key is a 401 until it is enabled again", async () => {
    const c = await create();
    await mgmt("PATCH", `${K}/${c.hash}`, { disabled: true });
    assert.equal((await complete(c.key)).status, 401);
    await mgmt("PATCH", `${K}/${c.hash}`, { disabled: false });
    assert.equal((await complete(c.key)).status, 200);
  });

  test("usage reaching the limit gives 403 'Key limit exceeded'", async () => {
    emu.control.updateSettings({ costPerRequest: 1 });
    const c = await create({ name: "capped", limit: 2 });
    assert.equal((await complete(c.key)).status, 200);
    assert.equal((await complete(c.key)).status, 200);
    const res = await complete(c.key);
    assert.deepEqual([res.status, res.body], [
      403,
      { error: { code: 403, message: "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys" } },
    ]);
    const info = await mgmt("GET", `${K}/${c.hash}`);
    assert.equal(pick(info.body, "data.usage"), 2);
    assert.equal(pick(info.body, "data.limit_remaining"), 0);
  });

  test("a daily limit frees up again the next UTC day", async () => {
    emu.control.updateSettings({ costPerRequest: 1 });
    const c = await create({ name: "daily", limit: 1, limit_reset: "daily" });
    await complete(c.key);
    assert.equal((await complete(c.key)).status, 403);
    emu.control.advanceClock(24 * 3_600_000);
    assert.equal((await complete(c.key)).status, 200);
  });

  test("an expired key is a 401", async () => {
    const expiresAt = new Date(emu.control.now() + 60_000).toISOString();
    const c = await create({ name: "short", expires_at: expiresAt });
    assert.equal((await complete(c.key)).status, 200);
    emu.control.advanceClock(61_000);
    assert.equal((await complete(c.key)).status, 401);
  });

  test("exhausted account credits give 402", async () => {
    emu.control.updateSettings({ accountCredits: 0 });
    const c = await create();
    const res = await complete(c.key);
    assert.equal(res.status, 402);
    assert.equal(pick(res.body, "error.code"), 402);
  });

  test("GET /key describes the calling key's usage and limit", async () => {
    const c = await create({ name: "me", limit: 10 });
    await complete(c.key);
    const res = await call(emu.url, "GET", "/api/v1/key", { token: c.key });
    assert.equal(pick(res.body, "data.usage"), 0.001);
    assert.equal(pick(res.body, "data.limit_remaining"), 9.999);
    assert.equal(pick(res.body, "data.is_management_key"), false);
  });

  test("an injected 503 uses OpenRouter's documented body", async () => {
    emu.control.addFault({ path: "/api/v1/keys", action: { type: "status", status: 503, retryAfter: 2 } });
    const res = await mgmt("GET", K);
    assert.deepEqual([res.status, res.body, res.headers.get("retry-after")], [503, { error: { code: 503, message: "Service temporarily unavailable" } }, "2"]);
  });
});
