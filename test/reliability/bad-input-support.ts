// Shared by the bad-input scenarios (fuzz, hostile values, malicious
// provider answers): an in-process engine mount with one connection per
// provider, each against its own emulator, and counts of what exists at the
// providers, so a scenario can tell a refused request from a half-done one.
import { defineBackend, LogicalError, type Backend } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../../packages/engine/src/backend.ts";
import { newEngineState, type EngineState } from "../../packages/engine/src/state.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator, type OpenRouterEmulator } from "../../tools/emulators/openrouter/emulator.ts";

export interface Emulators {
  openai: OpenAIEmulator;
  litellm: LiteLLMEmulator;
  openrouter: OpenRouterEmulator;
  close(): Promise<void>;
}

export async function startEmulators(): Promise<Emulators> {
  const [openai, litellm, openrouter] = await Promise.all([startOpenAIEmulator(), startLiteLLMEmulator(), startOpenRouterEmulator()]);
  return { openai, litellm, openrouter, close: async () => void (await Promise.all([openai.close(), litellm.close(), openrouter.close()])) };
}

/** The connection names of a mount made by `threeProviderMount`. */
export const CONNECTIONS = { openai: "default", litellm: "ll", openrouter: "or" } as const;

/**
 * A mount whose default connection ("config") is OpenAI and which has a
 * LiteLLM connection "ll" and an OpenRouter connection "or". Provider calls
 * are not retried unless `retries` is set, so a hostile answer shows at once;
 * long runs want the retries, as a reused local connection is now and then
 * reset (ECONNRESET) and the engine retries what is safe to retry.
 */
export async function threeProviderMount(em: Emulators, options: { retries?: boolean } = {}): Promise<TestBackend> {
  const retry = options.retries ? { baseDelayMs: 1, maxDelayMs: 20, maxTotalMs: 2_000 } : { maxAttempts: 1 };
  const factory = defineBackend<EngineState>(engineDefinition, () => ({
    ...newEngineState(),
    httpOverrides: { retry, timeoutMs: 5_000 },
  }));
  const tb = await TestBackend.create(factory, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 }, mountPoint: "ai/" });
  await tb.write("config", {
    admin_api_key: em.openai.adminKey,
    admin_api_key_id: em.openai.adminKeyId,
    organization_id: em.openai.organizationId,
    api_endpoint: em.openai.baseUrl,
  });
  await tb.write("connections/ll", { base_url: em.litellm.baseUrl, master_key: em.litellm.masterKey });
  await tb.write("connections/or", { provider: "openrouter", base_url: em.openrouter.baseUrl, provisioning_key: em.openrouter.managementKey });
  return tb;
}

export function engineState(tb: TestBackend): EngineState {
  return (tb.backend as Backend<EngineState>).state;
}

/** What exists at each provider: service accounts in every project, virtual keys, and non-management keys. */
export function providerObjects(em: Emulators): { openai: number; litellm: number; openrouter: number } {
  const oa = em.openai.control.state() as { projects: Array<{ service_accounts: unknown[] }> };
  const ll = em.litellm.control.state() as { keys: unknown[] };
  const or = em.openrouter.control.state() as { keys: Array<{ management: boolean }> };
  return {
    openai: oa.projects.reduce((n, p) => n + p.service_accounts.length, 0),
    litellm: ll.keys.length,
    openrouter: or.keys.filter((k) => !k.management).length,
  };
}

/** Makes every WAL entry look old enough for the rollback tick to act on it. */
export async function ageWal(tb: TestBackend, seconds = 3600): Promise<void> {
  for (const id of await tb.storage.list("wal/")) {
    const entry = (await tb.storage.get(`wal/${id}`))!;
    const parsed = JSON.parse(Buffer.from(entry.value).toString()) as { created_at: number };
    parsed.created_at -= seconds;
    await tb.storage.put({ key: entry.key, value: Buffer.from(JSON.stringify(parsed)) });
  }
}

/**
 * How a thrown value reaches the client through the SDK's gRPC service: a
 * LogicalError with its own status; anything else becomes a 500 with the
 * stack in the plugin's log ("crash").
 */
export function outcomeOf(err: unknown): { status: number; message: string; crash: boolean } {
  if (err instanceof LogicalError) return { status: err.status, message: err.message, crash: false };
  return { status: 500, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err), crash: true };
}

/** A JSON text of a value, cut short for a report line. */
export function brief(value: unknown, max = 300): string {
  let s: string;
  try {
    s = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}
