// Issuing a LiteLLM virtual key. The key is created with a LiteLLM duration
// that ends with the lease, and each renewal moves that end, so a key whose
// revocation never arrives (server down, lease lost) still dies by itself.
// Only its hash (LiteLLM's token id) is kept, in the lease.
import { deleteWal, invalidRequest, putWal, secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./connection-config.ts";
import { providerRefused } from "./providers/http.ts";
import type { LiteLLMClient } from "./providers/litellm/client.ts";
import { litellmKeySecret } from "./secret-litellm-key.ts";
import { randomSuffix } from "./service-account-name.ts";
import { connection, type EngineBackend } from "./state.ts";
import { findEarlierIssuance, forgetIssuance, rememberIssuance, requestSlot, undoEarlierIssuance } from "./request-index.ts";
import { forgetIssuedAccount, recordIssuedAccount, type LiteLLMRoleEntry } from "./storage.ts";

export const WAL_LITELLM_KEY = "litellm-key";

export interface LiteLLMKeyWal {
  connection: string;
  key_alias: string;
}

export async function litellmClient(backend: EngineBackend, request: Request, connectionName: string): Promise<LiteLLMClient> {
  const c = await connection(backend, request.storage, connectionName);
  if (c.config.provider !== "litellm") throw invalidRequest(`connection "${connectionName}" is a ${c.config.provider} connection, not litellm`);
  return c.client as LiteLLMClient;
}

export async function issueLiteLLMKey(backend: EngineBackend, request: Request, roleName: string, role: LiteLLMRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const client = await litellmClient(backend, request, role.connection);
  // The server caps the lease at the mount's maximum; the key's own expiry,
  // the backstop if revocation never comes, must not outlive that.
  const mountMax = await backend.system.maxLeaseTTL();
  const wanted = ttl > 0 ? ttl : await backend.system.defaultLeaseTTL();
  const leaseTtl = mountMax > 0 ? Math.min(wanted, mountMax) : wanted;
  const keyAlias = `${role.key_alias_prefix}-${roleName}-${randomSuffix()}`;
  const slot = requestSlot(request);
  // An earlier attempt of this request, read beside the WAL write: no extra round trip.
  const [walId, earlier] = await Promise.all([putWal(request.storage, WAL_LITELLM_KEY, { connection: role.connection, key_alias: keyAlias } satisfies LiteLLMKeyWal), findEarlierIssuance(request.storage, slot)]);
  if (earlier) {
    try {
      await undoEarlierIssuance(backend, request.storage, earlier);
    } catch (err) {
      await deleteWal(request.storage, walId).catch(() => undefined);
      throw err;
    }
  }
  let created;
  try {
    created = await client.generateKey({
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
    });
  } catch (err) {
    backend.state.metrics.inc("ai_secrets_issue_failures_total", "Key issuances that failed.", { provider: "litellm", role: roleName });
    if (providerRefused(err)) await deleteWal(request.storage, walId).catch(() => undefined);
    throw describeProviderFailure(err, "the key was not issued");
  }
  try {
    // In this order: a crash between the two leaves the WAL entry, whose
    // rollback deletes the key by its alias. The other way round, the key
    // would be left with neither. The index entry must exist before the WAL
    // entry goes: after that, only it lets a retry of this request find the key.
    await Promise.all([
      recordIssuedAccount(request.storage, created.token, { provider: "litellm", connection: role.connection, role: roleName, name: keyAlias }),
      rememberIssuance(request.storage, slot, { provider: "litellm", connection: role.connection, key_id: created.token, role: roleName }),
    ]);
    await deleteWal(request.storage, walId);
  } catch (err) {
    await client.deleteKey(created.token).catch(() => undefined);
    await Promise.all([forgetIssuedAccount(request.storage, created.token), forgetIssuance(request.storage, slot)]).catch(() => undefined);
    throw err;
  }
  backend.state.metrics.inc("ai_secrets_keys_issued_total", "Keys issued.", { provider: "litellm", role: roleName });
  return secretResponse(
    litellmKeySecret,
    { key: created.key, key_alias: keyAlias, max_budget: role.max_budget, models: role.models, token_id: created.token, expires: created.expires ?? null },
    { token: created.token, key_alias: keyAlias, role: roleName, connection: role.connection, max_ttl: role.max_ttl, ...slot?.internal },
    { ttl: leaseTtl, maxTtl: role.max_ttl, renewable: true, warnings },
  );
}
