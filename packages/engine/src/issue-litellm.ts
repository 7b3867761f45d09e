// Issuing a LiteLLM virtual key. The key is created with a LiteLLM duration
// that ends with the lease, and each renewal moves that end, so a key whose
// revocation never arrives (server down, lease lost) still dies by itself.
// Only its hash (LiteLLM's token id) is kept, in the lease.
import { secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
import { issueDurably } from "./issuance.ts";
import type { LiteLLMClient } from "./providers/litellm/client.ts";
import { litellmKeySecret } from "./secret-litellm-key.ts";
import { randomSuffix } from "./service-account-name.ts";
import { providerConnection, type EngineBackend } from "./state.ts";
import type { LiteLLMRoleEntry } from "./storage.ts";

export const WAL_LITELLM_KEY = "litellm-key";

export interface LiteLLMKeyWal {
  connection: string;
  key_alias: string;
}

export async function litellmClient(backend: EngineBackend, request: Request, connectionName: string): Promise<LiteLLMClient> {
  return (await providerConnection(backend, request.storage, connectionName, "litellm")).client;
}

export async function issueLiteLLMKey(backend: EngineBackend, request: Request, roleName: string, role: LiteLLMRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const client = await litellmClient(backend, request, role.connection);
  const keyAlias = `${role.key_alias_prefix}-${roleName}-${randomSuffix()}`;
  const { created, limits: leaseTtl, slot } = await issueDurably(backend, request, {
    provider: "litellm",
    roleName,
    connection: role.connection,
    walKind: WAL_LITELLM_KEY,
    walData: { connection: role.connection, key_alias: keyAlias } satisfies LiteLLMKeyWal,
    // The server caps the lease at the mount's maximum; the key's own expiry,
    // the backstop if revocation never comes, must not outlive that.
    limits: async () => {
      const [mountMax, wanted] = await Promise.all([backend.system.maxLeaseTTL(), ttl > 0 ? ttl : backend.system.defaultLeaseTTL()]);
      return mountMax > 0 ? Math.min(wanted, mountMax) : wanted;
    },
    create: (leaseTtl) =>
      client.generateKey({
        keyAlias,
        models: role.models,
        ...(role.max_budget > 0 ? { maxBudget: role.max_budget } : {}),
        durationSeconds: leaseTtl,
        metadata: { ...role.metadata, vault_role: roleName, vault_mount: request.mountPoint, vault_request_id: request.id },
        ...(role.budget_duration ? { budgetDuration: role.budget_duration } : {}),
        ...(role.tpm_limit > 0 ? { tpmLimit: role.tpm_limit } : {}),
        ...(role.rpm_limit > 0 ? { rpmLimit: role.rpm_limit } : {}),
        ...(role.max_parallel_requests > 0 ? { maxParallelRequests: role.max_parallel_requests } : {}),
        ...(role.team_id ? { teamId: role.team_id } : {}),
        ...(role.user_id ? { userId: role.user_id } : {}),
        ...(role.tags.length > 0 ? { tags: role.tags } : {}),
      }),
    keyId: (key) => key.token,
    record: () => ({ provider: "litellm", connection: role.connection, role: roleName, name: keyAlias }),
    deleteKey: (key) => client.deleteKey(key.token),
  });
  return secretResponse(
    litellmKeySecret,
    { key: created.key, key_alias: keyAlias, max_budget: role.max_budget, models: role.models, token_id: created.token, expires: created.expires ?? null },
    { token: created.token, key_alias: keyAlias, role: roleName, connection: role.connection, max_ttl: role.max_ttl, ...slot?.internal },
    { ttl: leaseTtl, maxTtl: role.max_ttl, renewable: true, warnings },
  );
}
