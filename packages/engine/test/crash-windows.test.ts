// An issuance the plugin's death cuts short between its storage writes: what
// is left must be something the WAL rollback finds and undoes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineBackend, type StorageEntry } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { startLiteLLMEmulator } from "../../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator } from "../../../tools/emulators/openrouter/emulator.ts";
import { openAIHarness, serviceAccounts } from "./support.ts";

/** Logs when the issued-account record is stored (slowly) and when the WAL entry goes. */
function watchWrites(tb: TestBackend): string[] {
  const events: string[] = [];
  const storage = tb.storage;
  const put = storage.put.bind(storage);
  const del = storage.delete.bind(storage);
  storage.put = async (entry: StorageEntry) => {
    if (!entry.key.startsWith("issued/")) return put(entry);
    events.push("record started");
    // A slow write: the removal must still wait for it.
    await new Promise((r) => setTimeout(r, 20));
    await put(entry);
    events.push("record stored");
  };
  storage.delete = async (key: string) => {
    if (key.startsWith("wal/")) events.push("WAL entry removed");
    return del(key);
  };
  return events;
}

const IN_ORDER = ["record started", "record stored", "WAL entry removed"];

async function mount(): Promise<TestBackend> {
  return TestBackend.create(defineBackend<EngineState>(engineDefinition, () => newEngineState()), { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
}

test("an issued OpenAI account's record names its issuance's WAL entry and is stored before that entry is removed", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const events = watchWrites(h.tb);
    const res = (await h.tb.read("creds/r"))!;
    assert.deepEqual(events, IN_ORDER);
    const record = JSON.parse(Buffer.from((await h.tb.storage.get(`issued/${String(res.data?.["service_account_id"])}`))!.value).toString()) as { wal_id?: string };
    assert.match(record.wal_id ?? "", /^[0-9a-f-]{36}$/);
  } finally {
    await h.close();
  }
});

test("an issued LiteLLM key's record is stored before its WAL entry is removed", async () => {
  const em = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { base_url: em.baseUrl, master_key: em.masterKey });
    await tb.write("roles/r", {});
    const events = watchWrites(tb);
    await tb.read("creds/r");
    assert.deepEqual(events, IN_ORDER);
  } finally {
    await em.close();
  }
});

test("an issued OpenRouter key's record is stored before its WAL entry is removed", async () => {
  const em = await startOpenRouterEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { provider: "openrouter", base_url: em.baseUrl, provisioning_key: em.managementKey });
    await tb.write("roles/r", {});
    const events = watchWrites(tb);
    await tb.read("creds/r");
    assert.deepEqual(events, IN_ORDER);
  } finally {
    await em.close();
  }
});

test("an issuance cut short after its record was stored but before its WAL entry was removed is undone by the rollback", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const res = (await h.tb.read("creds/r"))!;
    const accountId = String(res.data?.["service_account_id"]);
    const record = JSON.parse(Buffer.from((await h.tb.storage.get(`issued/${accountId}`))!.value).toString()) as { wal_id: string; name: string; project_id: string };
    // The state a crash between the two writes leaves: the record, and the WAL entry it names, old enough for the rollback.
    const wal = { type: "openai-service-account", data: { project_id: record.project_id, name: record.name, connection: "default" }, created_at: Math.floor(Date.now() / 1000) - 3600 };
    await h.tb.storage.put({ key: `wal/${record.wal_id}`, value: Buffer.from(JSON.stringify(wal)) });
    await h.tb.rollback();
    assert.deepEqual(serviceAccounts(h.em), []);
    assert.equal(await h.tb.storage.get(`issued/${accountId}`), undefined);
    assert.deepEqual(await h.tb.storage.list("wal/"), []);
  } finally {
    await h.close();
  }
});
