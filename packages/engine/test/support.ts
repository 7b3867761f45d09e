// A mount of the engine in the SDK's test kit, configured against a fresh
// OpenAI Admin API emulator, with provider retries fast enough for tests.
import assert from "node:assert/strict";
import { defineBackend, LogicalError, type Backend } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../../tools/emulators/openai/emulator.ts";

export interface Harness {
  tb: TestBackend;
  em: OpenAIEmulator;
  state: EngineState;
  close(): Promise<void>;
}

export async function openAIHarness(options: { configure?: boolean; config?: Record<string, unknown> } = {}): Promise<Harness> {
  const em = await startOpenAIEmulator();
  const factory = defineBackend<EngineState>(engineDefinition, () => ({
    ...newEngineState(),
    httpOverrides: { retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2_000 }, timeoutMs: 2_000 },
  }));
  const tb = await TestBackend.create(factory, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 }, mountPoint: "openai/" });
  if (options.configure !== false) {
    await tb.write("config", { admin_api_key: em.adminKey, admin_api_key_id: em.adminKeyId, organization_id: em.organizationId, api_endpoint: em.baseUrl, ...options.config });
  }
  return { tb, em, state: (tb.backend as Backend<EngineState>).state, close: () => em.close() };
}

/** Whether a key can still call the provider's API. */
export async function keyWorks(em: OpenAIEmulator, key: string): Promise<boolean> {
  const res = await fetch(`${em.baseUrl}/models`, { headers: { Authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status === 200;
}

interface EmState {
  admin_api_keys: Array<{ id: string; name: string | null }>;
  projects: Array<{ id: string; service_accounts: Array<{ id: string; name: string }> }>;
}

export function emulatorState(em: OpenAIEmulator): EmState {
  return em.control.state() as EmState;
}

export function serviceAccounts(em: OpenAIEmulator, projectId = em.projects[0]!.id) {
  return emulatorState(em).projects.find((p) => p.id === projectId)?.service_accounts ?? [];
}

/** Makes every WAL entry look old enough for the rollback tick. */
export async function ageWal(tb: TestBackend, seconds = 3600): Promise<void> {
  for (const id of await tb.storage.list("wal/")) {
    const entry = (await tb.storage.get(`wal/${id}`))!;
    const parsed = JSON.parse(Buffer.from(entry.value).toString()) as { created_at: number };
    parsed.created_at -= seconds;
    await tb.storage.put({ key: entry.key, value: Buffer.from(JSON.stringify(parsed)) });
  }
}

/** Asserts a 400 whose message matches. */
export async function rejects400(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof LogicalError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.message, message);
    return true;
  });
}
