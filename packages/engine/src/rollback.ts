// What the server's rollback tick undoes: provider objects created by a step
// that never finished.
import type { Request, WalEntry } from "@vault-plugin-ai/sdk";
import { WAL_SERVICE_ACCOUNT, type ServiceAccountWal } from "./path-creds.ts";
import { rollbackAdminKeyCreation, WAL_ADMIN_KEY } from "./rotation.ts";
import { connection, type EngineBackend } from "./state.ts";

export async function walRollback(backend: EngineBackend, request: Request, entry: WalEntry): Promise<void> {
  switch (entry.kind) {
    case WAL_SERVICE_ACCOUNT: {
      const wal = entry.data as Partial<ServiceAccountWal> | null;
      if (!wal?.project_id || !wal.name) return;
      const { client } = await connection(backend, request.storage);
      for (const account of await client.listServiceAccounts(wal.project_id)) {
        if (account.name !== wal.name) continue;
        await client.deleteServiceAccount(wal.project_id, account.id);
        backend.state.metrics.inc("ai_secrets_orphans_deleted_total", "Provider objects deleted by WAL rollback.", { provider: "openai" });
        backend.logger.warn("deleted a service account left by an interrupted issuance", { project_id: wal.project_id, service_account_id: account.id });
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
