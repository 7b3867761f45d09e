// A creds request the server sends twice: OpenBao retries a request once on
// a restarted plugin when the plugin died under it, with the same request id.
// If the first attempt finished but its answer died with the plugin, its key
// has no lease and never will: the retry deletes it and issues one new key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineBackend, LogicalError, type Request, type Response } from "@vault-plugin-ai/sdk";
import { InMemoryStorage, TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { findEarlierIssuance, requestSlot, RETRIES_REACH_A_PROCESS_WITHIN_MS } from "../src/request-index.ts";
import { REQUEST_BUCKET_SECONDS, REQUEST_ENTRY_MAX_AGE_SECONDS } from "../src/storage.ts";
import { startLiteLLMEmulator } from "../../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator } from "../../../tools/emulators/openrouter/emulator.ts";
import { openAIHarness, serviceAccounts } from "./support.ts";

async function mount(): Promise<TestBackend> {
  const factory = defineBackend<EngineState>(engineDefinition, () => ({ ...newEngineState(), httpOverrides: { retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2_000 }, timeoutMs: 2_000 } }));
  return TestBackend.create(factory, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
}

/** One creds request, to be sent as often as the server would send it. */
function credsRequest(tb: TestBackend, id?: string): Request {
  const request = tb.makeRequest({ operation: "read", path: "creds/r" });
  if (id !== undefined) request.id = id;
  return request;
}

async function send(tb: TestBackend, request: Request): Promise<Response> {
  const res = await tb.backend.handleRequest(request);
  assert.ok(res?.secret, "a lease");
  return res;
}

/** Every index entry's storage key. */
async function indexEntries(tb: TestBackend): Promise<string[]> {
  const keys: string[] = [];
  for (const folder of await tb.storage.list("requests/")) for (const id of await tb.storage.list(`requests/${folder}`)) keys.push(`requests/${folder}${id}`);
  return keys;
}

const issuedRecord = (tb: TestBackend, id: string) => tb.storage.get(`issued/${id}`);

test("a retried OpenAI request deletes the service account its first attempt made and issues one new one", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const request = credsRequest(h.tb);
    const lost = await send(h.tb, request);
    const retried = await send(h.tb, request);
    const lostId = String(lost.data?.["service_account_id"]);
    const keptId = String(retried.data?.["service_account_id"]);
    assert.notEqual(lostId, keptId);
    assert.deepEqual(serviceAccounts(h.em).map((a) => a.id), [keptId]);
    assert.equal(await issuedRecord(h.tb, lostId), undefined);
    assert.ok(await issuedRecord(h.tb, keptId));
    assert.equal((await indexEntries(h.tb)).length, 1);
  } finally {
    await h.close();
  }
});

test("a retried LiteLLM request deletes the key its first attempt made and issues one new one", async () => {
  const em = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { base_url: em.baseUrl, master_key: em.masterKey });
    await tb.write("roles/r", {});
    const request = credsRequest(tb);
    const lost = await send(tb, request);
    const retried = await send(tb, request);
    const keptId = String(retried.data?.["token_id"]);
    assert.notEqual(String(lost.data?.["token_id"]), keptId);
    assert.deepEqual((em.control.state() as { keys: Array<{ token: string }> }).keys.map((k) => k.token), [keptId]);
    assert.equal(await issuedRecord(tb, String(lost.data?.["token_id"])), undefined);
    assert.equal((await indexEntries(tb)).length, 1);
  } finally {
    await em.close();
  }
});

test("a retried OpenRouter request deletes the key its first attempt made and issues one new one", async () => {
  const em = await startOpenRouterEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { provider: "openrouter", base_url: em.baseUrl, provisioning_key: em.managementKey });
    await tb.write("roles/r", {});
    const request = credsRequest(tb);
    const lost = await send(tb, request);
    const retried = await send(tb, request);
    const keptHash = String(retried.data?.["key_hash"]);
    assert.notEqual(String(lost.data?.["key_hash"]), keptHash);
    const keys = (em.control.state() as { keys: Array<{ hash: string; management: boolean }> }).keys.filter((k) => !k.management);
    assert.deepEqual(keys.map((k) => k.hash), [keptHash]);
    assert.equal(await issuedRecord(tb, String(lost.data?.["key_hash"])), undefined);
    assert.equal((await indexEntries(tb)).length, 1);
  } finally {
    await em.close();
  }
});

test("a request with another id leaves the first request's key alone", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const first = await send(h.tb, credsRequest(h.tb));
    const second = await send(h.tb, credsRequest(h.tb));
    const ids = [String(first.data?.["service_account_id"]), String(second.data?.["service_account_id"])];
    assert.deepEqual(serviceAccounts(h.em).map((a) => a.id).sort(), ids.sort());
    assert.equal((await indexEntries(h.tb)).length, 2);
  } finally {
    await h.close();
  }
});

test("a request without an id gets no index entry, so sending it again issues a second key beside the first", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const request = credsRequest(h.tb, "");
    const first = await send(h.tb, request);
    await send(h.tb, request);
    assert.deepEqual(await indexEntries(h.tb), []);
    assert.equal(first.secret?.internalData["request_id"], undefined);
    assert.equal(serviceAccounts(h.em).length, 2);
  } finally {
    await h.close();
  }
});

test("revoking a lease removes its request's index entry", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const res = await send(h.tb, credsRequest(h.tb));
    assert.equal((await indexEntries(h.tb)).length, 1);
    await h.tb.revoke(res);
    assert.deepEqual(await indexEntries(h.tb), []);
  } finally {
    await h.close();
  }
});

test("a lease issued before the index (no request id in its internal data) still revokes", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const res = await send(h.tb, credsRequest(h.tb));
    delete res.secret!.internalData["request_id"];
    delete res.secret!.internalData["request_bucket"];
    await h.tb.revoke(res);
    assert.deepEqual(serviceAccounts(h.em), []);
  } finally {
    await h.close();
  }
});

test("the periodic function drops index entries older than the maximum age and keeps younger ones", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    await send(h.tb, credsRequest(h.tb, "old-request"));
    await send(h.tb, credsRequest(h.tb, "young-request"));
    // The old request's entry moved to a bucket that ended more than the maximum age ago.
    const [oldKey] = (await indexEntries(h.tb)).filter((k) => k.endsWith("/old-request"));
    const bucket = Number(oldKey!.split("/")[1]);
    const aged = `requests/${bucket - Math.ceil(REQUEST_ENTRY_MAX_AGE_SECONDS / REQUEST_BUCKET_SECONDS) - 1}/old-request`;
    await h.tb.storage.put({ key: aged, value: (await h.tb.storage.get(oldKey!))!.value });
    await h.tb.storage.delete(oldKey!);
    await h.tb.rollback();
    assert.deepEqual((await indexEntries(h.tb)).map((k) => k.split("/")[2]), ["young-request"]);
  } finally {
    await h.close();
  }
});

test("when the first attempt's key cannot be deleted, the retry fails with a 502 naming why and keeps the index entry", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const request = credsRequest(h.tb);
    const lost = await send(h.tb, request);
    const entries = await indexEntries(h.tb);
    h.em.control.addFault({ method: "DELETE", path: "/v1/organization/projects/*/service_accounts/*", times: 1, action: { type: "status", status: 403 } });
    await assert.rejects(h.tb.backend.handleRequest(request), (err: unknown) => {
      assert.ok(err instanceof LogicalError, String(err));
      assert.equal(err.status, 502);
      assert.match(err.message, /first answer was lost.*could not be deleted/);
      return true;
    });
    assert.deepEqual(serviceAccounts(h.em).map((a) => a.id), [String(lost.data?.["service_account_id"])]);
    assert.deepEqual(await indexEntries(h.tb), entries);
    assert.deepEqual(await h.tb.storage.list("wal/"), []);
  } finally {
    await h.close();
  }
});

test("a plugin process older than the retry window does not look for an earlier attempt: no retry can reach it", async () => {
  const storage = new InMemoryStorage();
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  const slot = requestSlot({ id: "3f6b1c2e-0000-4000-8000-000000000001" } as Request, now)!;
  await storage.put({ key: slot.key, value: Buffer.from(JSON.stringify({ provider: "litellm", connection: "default", key_id: "t1", role: "r", created_at: now / 1000 })) });
  const reads: string[] = [];
  const counted = { ...storage, get: (key: string) => (reads.push(key), storage.get(key)), put: storage.put.bind(storage), list: storage.list.bind(storage), delete: storage.delete.bind(storage) };
  const young = await findEarlierIssuance(counted, slot, 30_000);
  assert.equal(young?.entry.key_id, "t1", "a young process finds the first attempt");
  reads.length = 0;
  const old = await findEarlierIssuance(counted, slot, RETRIES_REACH_A_PROCESS_WITHIN_MS + 1);
  assert.equal(old, undefined);
  assert.deepEqual(reads, [], "and reads nothing");
});
