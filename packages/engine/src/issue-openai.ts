// Issuing an OpenAI key: a fresh service account in the role's project, whose
// API key is the credential. A WAL entry naming the account is written before
// the provider is called and removed once the lease is formed, so an answer
// lost on the way (or a crash) leaves something the rollback can find by name
// and delete.
import { secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
import { issueDurably } from "./issuance.ts";
import { openAIKeySecret } from "./secret-openai-key.ts";
import { renderServiceAccountName } from "./service-account-name.ts";
import { openAIConnection, type EngineBackend } from "./state.ts";
import type { OpenAIRoleEntry } from "./storage.ts";

export const WAL_SERVICE_ACCOUNT = "openai-service-account";

export interface ServiceAccountWal {
  project_id: string;
  name: string;
  connection?: string;
}

export async function issueOpenAIKey(backend: EngineBackend, request: Request, roleName: string, role: OpenAIRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const name = renderServiceAccountName(role.service_account_name_template, { roleName, projectName: role.project_name, displayName: request.displayName });
  const { client } = await openAIConnection(backend, request.storage, role.connection);
  const issuedAt = Math.floor(Date.now() / 1000);
  const { created: account, slot } = await issueDurably(backend, request, {
    provider: "openai",
    roleName,
    connection: role.connection,
    walKind: WAL_SERVICE_ACCOUNT,
    walData: { project_id: role.project_id, name, connection: role.connection } satisfies ServiceAccountWal,
    limits: () => backend.system.maxLeaseTTL(),
    create: () => client.createServiceAccount(role.project_id, name),
    keyId: (account) => account.id,
    // The record names its WAL entry: a crash between storing it and removing
    // the entry leaves both, and the rollback knows the account for its own.
    record: (account, mountMaxTtl, walId) => {
      const maxLife = role.max_ttl > 0 && (mountMaxTtl <= 0 || role.max_ttl < mountMaxTtl) ? role.max_ttl : mountMaxTtl;
      return { provider: "openai", connection: role.connection, project_id: role.project_id, role: roleName, name: account.name, ...(maxLife > 0 ? { lease_ends_at: issuedAt + maxLife } : {}), wal_id: walId };
    },
    projectId: role.project_id,
    deleteKey: (account) => client.deleteServiceAccount(role.project_id, account.id),
  });
  return secretResponse(
    openAIKeySecret,
    { api_key: account.apiKey.value, api_key_id: account.apiKey.id, service_account: account.name, service_account_id: account.id, project_id: role.project_id },
    { api_key_id: account.apiKey.id, service_account_id: account.id, project_id: role.project_id, role: roleName, connection: role.connection, max_ttl: role.max_ttl, ...slot?.internal },
    { ttl, maxTtl: role.max_ttl, renewable: true, warnings },
  );
}
