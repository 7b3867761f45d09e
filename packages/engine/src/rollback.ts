// What the server's rollback tick undoes: provider objects created by a step
// that never finished.
import type { Request, WalEntry } from "@vault-plugin-ai/sdk";
import { WAL_SERVICE_ACCOUNT, type ServiceAccountWal } from "./issue-openai.ts";
import { litellmClient, WAL_LITELLM_KEY, type LiteLLMKeyWal } from "./issue-litellm.ts";
import { openrouterClient, WAL_OPENROUTER_KEY, type OpenRouterKeyWal } from "./issue-openrouter.ts";
import { DEFAULT_CONNECTION, forgetIssuedAccount, ISSUED_PREFIX, readIssuedAccount } from "./storage.ts";
import { rollbackAdminKeyCreation, WAL_ADMIN_KEY } from "./rotation.ts";
import { openAIConnection, type EngineBackend } from "./state.ts";

export async function walRollback(backend: EngineBackend, request: Request, entry: WalEntry): Promise<void> {
  switch (entry.kind) {
    case WAL_SERVICE_ACCOUNT: {
      const wal = entry.data as Partial<ServiceAccountWal> | null;
      if (!wal?.project_id || !wal.name) return;
      const { client } = await openAIConnection(backend, request.storage, wal.connection ?? DEFAULT_CONNECTION);
      const issued = new Set(await request.storage.list(ISSUED_PREFIX));
      for (const account of await client.listServiceAccounts(wal.project_id)) {
        if (account.name !== wal.name) continue;
        // An account recorded by another issuance may be held by a lease,
        // even if a template produced the same name twice. One recorded by
        // this entry's issuance never was: the entry would be gone.
        if (issued.has(account.id) && (await readIssuedAccount(request.storage, account.id))?.wal_id !== entry.id) continue;
        await client.deleteServiceAccount(wal.project_id, account.id);
        await forgetIssuedAccount(request.storage, account.id);
        backend.state.metrics.inc("ai_secrets_orphans_deleted_total", "Provider objects deleted by WAL rollback.", { provider: "openai" });
        backend.logger.warn("deleted a service account left by an interrupted issuance", { project_id: wal.project_id, service_account_id: account.id });
      }
      return;
    }
    case WAL_LITELLM_KEY: {
      const wal = entry.data as Partial<LiteLLMKeyWal> | null;
      if (!wal?.key_alias) return;
      const client = await litellmClient(backend, request, wal.connection ?? DEFAULT_CONNECTION);
      if ((await client.deleteKeyByAlias(wal.key_alias)) === "deleted") {
        backend.state.metrics.inc("ai_secrets_orphans_deleted_total", "Provider objects deleted by WAL rollback.", { provider: "litellm" });
        backend.logger.warn("deleted a LiteLLM key left by an interrupted issuance", { key_alias: wal.key_alias });
      }
      return;
    }
    case WAL_OPENROUTER_KEY: {
      const wal = entry.data as Partial<OpenRouterKeyWal> | null;
      if (!wal?.name) return;
      const client = await openrouterClient(backend, request, wal.connection ?? DEFAULT_CONNECTION);
      for (const key of await client.findKeysByName(wal.name)) {
        await client.deleteKey(key.hash);
        backend.state.metrics.inc("ai_secrets_orphans_deleted_total", "Provider objects deleted by WAL rollback.", { provider: "openrouter" });
        backend.logger.warn("deleted an OpenRouter key left by an interrupted issuance", { name: wal.name });
      }
      return;
    }
    case WAL_ADMIN_KEY:
      await rollbackAdminKeyCreation(backend, request.storage, entry.data, backend.logger);
      return;
    default:
      backend.logger.warn("unknown write-ahead log entry; discarding it", { kind: entry.kind });
  }
}
