// The OpenRouter provider client against the OpenRouter key-management emulator.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { OpenRouterClient, type OpenRouterClientOptions, openRouterTime } from "../src/providers/openrouter/client.ts";
import { ProviderError } from "../src/providers/http.ts";
import { startOpenRouterEmulator, type OpenRouterEmulator, type OpenRouterSettings } from "../../../tools/emulators/index.ts";

const FAST: OpenRouterClientOptions = { retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2_000 }, timeoutMs: 2_000 };
const HOUR = 3_600_000;

async function setup(t: TestContext, options: { settings?: Partial<OpenRouterSettings>; client?: OpenRouterClientOptions } = {}) {
  const emu = await startOpenRouterEmulator(options.settings ? { settings: options.settings } : {});
  t.after(() => emu.close());
  const client = new OpenRouterClient({ baseUrl: emu.baseUrl, provisioningKey: emu.managementKey }, { ...FAST, ...options.client });
  return { emu, client };
}

interface KeyRow {
  hash: string;
  name: string;
  limit: number | null;
  disabled: boolean;
  expires_at: string | null;
  management: boolean;
}

/** The keys the emulator holds, the management key left out. */
function userKeys(emu: OpenRouterEmulator): KeyRow[] {
  return (emu.control.state() as { keys: KeyRow[] }).keys.filter((k) => !k.management);
}

function routeCount(emu: OpenRouterEmulator, route: string): number {
  return emu.control.stats().byRoute[route] ?? 0;
}

async function chat(emu: OpenRouterEmulator, key: string, model = "openai/gpt-4o-mini"): Promise<number> {
  const res = await fetch(`${emu.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

function isProviderError(status: number | undefined, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.status, status);
    if (message) assert.match(err.message, message);
    return true;
  };
}

const inAnHour = (emu: OpenRouterEmulator) => new Date(emu.control.now() + HOUR);

test("verifyProvisioningKey succeeds with the management key", async (t) => {
  const { client } = await setup(t);
  await client.verifyProvisioningKey();
});

test("a wrong management key is a ProviderError 401 whose message does not contain the key", async (t) => {
  const { emu } = await setup(t);
  const wrong = `sk-or-v1-${"ab".repeat(32)}`;
  const client = new OpenRouterClient({ baseUrl: emu.baseUrl, provisioningKey: wrong }, FAST);
  await assert.rejects(client.verifyProvisioningKey(), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 401);
    assert.ok(!err.message.includes(wrong), err.message);
    return true;
  });
});

test("an ordinary key in place of the management key is a ProviderError 403", async (t) => {
  const { emu, client } = await setup(t);
  const ordinary = await client.createKey({ name: "ordinary" });
  const wrong = new OpenRouterClient({ baseUrl: emu.baseUrl, provisioningKey: ordinary.key }, FAST);
  await assert.rejects(wrong.verifyProvisioningKey(), isProviderError(403, /management keys/));
});

test("verifyProvisioningKey rejects an answer that is not a key list", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "GET", path: "/api/v1/keys", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.verifyProvisioningKey(), /malformed key list/);
});

test("createKey returns the key, its hash, name, limit and expiry", async (t) => {
  const { emu, client } = await setup(t);
  const expiresAt = inAnHour(emu);
  const k = await client.createKey({ name: "vault-role-abc", limit: 5, expiresAt });
  assert.match(k.key, /^sk-or-v1-/);
  assert.equal(k.hash, createHash("sha256").update(k.key).digest("hex"));
  assert.equal(k.name, "vault-role-abc");
  assert.equal(k.limit, 5);
  assert.equal(k.expiresAt?.getTime(), Math.floor(expiresAt.getTime() / 1000) * 1000);
});

test("createKey sends expires_at as UTC to the second", async (t) => {
  const { emu, client } = await setup(t);
  const expiresAt = new Date(Date.UTC(2099, 0, 2, 3, 4, 5, 678));
  await client.createKey({ name: "vault-role-abc", expiresAt });
  assert.equal(userKeys(emu)[0]?.expires_at, "2099-01-02T03:04:05Z");
  assert.equal(openRouterTime(expiresAt), "2099-01-02T03:04:05Z");
});

test("createKey without limit or expiry makes a key with neither", async (t) => {
  const { client } = await setup(t);
  const k = await client.createKey({ name: "plain" });
  assert.equal(k.limit, null);
  assert.equal(k.expiresAt, null);
});

test("createKey refuses a limit that would serialize as null (no limit)", async (t) => {
  const { emu, client } = await setup(t);
  await assert.rejects(client.createKey({ name: "x", limit: Number.NaN }), RangeError);
  await assert.rejects(client.createKey({ name: "x", limit: -1 }), RangeError);
  assert.equal(routeCount(emu, "POST /api/v1/keys"), 0);
});

test("the created key works on chat completions", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.createKey({ name: "vault-role-abc" });
  assert.equal(await chat(emu, k.key), 200);
});

test("the created key stops working at its expires_at", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.createKey({ name: "vault-role-abc", expiresAt: inAnHour(emu) });
  emu.control.advanceClock(HOUR - 5_000);
  assert.equal(await chat(emu, k.key), 200);
  emu.control.advanceClock(10_000);
  assert.equal(await chat(emu, k.key), 401);
});

test("a 429 with Retry-After on createKey is retried after the delay it asks for", async (t) => {
  const delays: number[] = [];
  const { emu, client } = await setup(t, {
    client: { retry: { baseDelayMs: 5, maxDelayMs: 5_000, maxTotalMs: 10_000 }, sleep: async (ms) => void delays.push(ms) },
  });
  emu.control.addFault({ method: "POST", path: "/api/v1/keys", action: { type: "status", status: 429, retryAfter: 3 } });
  await client.createKey({ name: "vault-role-abc" });
  assert.deepEqual(delays, [3_000]);
  assert.equal(userKeys(emu).length, 1);
});

test("a 500 on createKey is not retried", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/api/v1/keys", action: { type: "status", status: 500 } });
  await assert.rejects(client.createKey({ name: "vault-role-abc" }), isProviderError(500));
  assert.equal(routeCount(emu, "POST /api/v1/keys"), 1);
  assert.equal(userKeys(emu).length, 0);
});

test("a create answer without the key is rejected and the key it made is deleted", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/api/v1/keys", action: { type: "malformed", variant: "missing-fields", fields: ["key"] } });
  await assert.rejects(client.createKey({ name: "vault-role-abc" }), /malformed key \(no key in the response\); the key it made was deleted/);
  assert.equal(userKeys(emu).length, 0);
});

test("a create answer without the hash is rejected, and findKeysByName finds the key it left", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/api/v1/keys", action: { type: "malformed", variant: "missing-fields", fields: ["hash"] } });
  await assert.rejects(client.createKey({ name: "vault-role-abc" }), /malformed key \(no hash in the response\); the key it made is left for the rollback/);
  const found = await client.findKeysByName("vault-role-abc");
  assert.deepEqual(
    found.map((k) => k.hash),
    userKeys(emu).map((k) => k.hash),
  );
});

test("a create answer with the wrong types is rejected", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({ method: "POST", path: "/api/v1/keys", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.createKey({ name: "vault-role-abc" }), /malformed key/);
});

test("updateKey changes the limit and the disabled flag", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.createKey({ name: "vault-role-abc", limit: 1 });
  const updated = await client.updateKey(k.hash, { limit: 3, disabled: true });
  assert.equal(updated.limit, 3);
  assert.equal(updated.disabled, true);
  assert.equal(updated.expiresAtApplied, undefined);
  assert.equal(await chat(emu, k.key), 401);
});

test("updateKey reports that expires_at did not move when OpenRouter ignores it", async (t) => {
  const { emu, client } = await setup(t); // patchExpiresAt: "ignore", the default
  const first = inAnHour(emu);
  const k = await client.createKey({ name: "vault-role-abc", expiresAt: first });
  const updated = await client.updateKey(k.hash, { expiresAt: new Date(first.getTime() + HOUR) });
  assert.equal(updated.expiresAtApplied, false);
  assert.equal(updated.expiresAt?.getTime(), k.expiresAt?.getTime());
});

test("updateKey reports that expires_at moved when OpenRouter accepts it, and the key outlives its first expiry", async (t) => {
  const { emu, client } = await setup(t, { settings: { patchExpiresAt: "accept" } });
  const first = inAnHour(emu);
  const k = await client.createKey({ name: "vault-role-abc", expiresAt: first });
  const updated = await client.updateKey(k.hash, { expiresAt: new Date(first.getTime() + HOUR) });
  assert.equal(updated.expiresAtApplied, true);
  emu.control.advanceClock(HOUR + 60_000);
  assert.equal(await chat(emu, k.key), 200);
});

test("updateKey resends the other fields without expires_at when OpenRouter refuses it", async (t) => {
  const { emu, client } = await setup(t, { settings: { patchExpiresAt: "reject" } });
  const k = await client.createKey({ name: "vault-role-abc", limit: 1, expiresAt: inAnHour(emu) });
  const updated = await client.updateKey(k.hash, { limit: 2, expiresAt: new Date(emu.control.now() + 2 * HOUR) });
  assert.equal(updated.limit, 2);
  assert.equal(updated.expiresAtApplied, false);
  assert.match(updated.expiresAtRefusal ?? "", /expires_at/);
  assert.equal(userKeys(emu)[0]?.limit, 2);
});

test("updateKey of only expires_at, refused, reads the key back unchanged", async (t) => {
  const { emu, client } = await setup(t, { settings: { patchExpiresAt: "reject" } });
  const k = await client.createKey({ name: "vault-role-abc", expiresAt: inAnHour(emu) });
  const updated = await client.updateKey(k.hash, { expiresAt: new Date(emu.control.now() + 2 * HOUR) });
  assert.equal(updated.expiresAtApplied, false);
  assert.equal(updated.expiresAt?.getTime(), k.expiresAt?.getTime());
});

test("updateKey of a missing key is a ProviderError 404", async (t) => {
  const { client } = await setup(t);
  await assert.rejects(client.updateKey("0".repeat(64), { disabled: true }), isProviderError(404));
});

test("deleteKey deletes the key, which then stops working", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.createKey({ name: "vault-role-abc" });
  assert.equal(await client.deleteKey(k.hash), "deleted");
  assert.equal(await chat(emu, k.key), 401);
  assert.equal(userKeys(emu).length, 0);
});

test("deleteKey of a missing key is already-gone", async (t) => {
  const { client } = await setup(t);
  assert.equal(await client.deleteKey("0".repeat(64)), "already-gone");
});

test("a 404 that is not OpenRouter's error envelope is an error, not already-gone", async (t) => {
  const { emu, client } = await setup(t);
  emu.control.addFault({
    method: "DELETE",
    path: "/api/v1/keys/*",
    action: { type: "status", status: 404, rawBody: "<html><body>404</body></html>", contentType: "text/html" },
  });
  await assert.rejects(client.deleteKey("0".repeat(64)), isProviderError(404));
});

test("getKey returns the key by hash", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.createKey({ name: "vault-role-abc", limit: 4, expiresAt: inAnHour(emu) });
  const got = await client.getKey(k.hash);
  assert.equal(got?.hash, k.hash);
  assert.equal(got?.name, "vault-role-abc");
  assert.equal(got?.limit, 4);
  assert.equal(got?.disabled, false);
  assert.equal(got?.expiresAt?.getTime(), k.expiresAt?.getTime());
});

test("getKey of a missing key is undefined", async (t) => {
  const { client } = await setup(t);
  assert.equal(await client.getKey("0".repeat(64)), undefined);
});

test("a get answer with the wrong types is rejected", async (t) => {
  const { emu, client } = await setup(t);
  const k = await client.createKey({ name: "vault-role-abc" });
  emu.control.addFault({ method: "GET", path: "/api/v1/keys/*", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.getKey(k.hash), /malformed key/);
});

test("findKeysByName pages through every key and finds disabled ones too", async (t) => {
  const { emu, client } = await setup(t);
  const wanted = await client.createKey({ name: "vault-lost" });
  await client.updateKey(wanted.hash, { disabled: true });
  for (let i = 0; i < 150; i++) await client.createKey({ name: `other-${i}` });
  const wantedToo = await client.createKey({ name: "vault-lost" });
  const found = await client.findKeysByName("vault-lost");
  assert.deepEqual(found.map((k) => k.hash).sort(), [wanted.hash, wantedToo.hash].sort());
  assert.equal(routeCount(emu, "GET /api/v1/keys"), 2);
});

test("findKeysByName throws rather than answer from an incomplete listing", async (t) => {
  const { client } = await setup(t);
  for (let i = 0; i < 101; i++) await client.createKey({ name: `other-${i}` });
  await assert.rejects(client.findKeysByName("vault-lost", 1), /incomplete/);
});

test("a key list with the wrong types is rejected by findKeysByName", async (t) => {
  const { emu, client } = await setup(t);
  await client.createKey({ name: "vault-lost" });
  emu.control.addFault({ method: "GET", path: "/api/v1/keys", action: { type: "malformed", variant: "wrong-types" } });
  await assert.rejects(client.findKeysByName("vault-lost"), /malformed key list/);
});
