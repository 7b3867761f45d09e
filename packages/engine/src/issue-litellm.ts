// Issuing a LiteLLM virtual key. The key is created with a LiteLLM duration
// that ends with the lease, and each renewal moves that end, so a key whose
// revocation never arrives (server down, lease lost) still dies by itself.
// Only its hash (LiteLLM's token id) is kept, in the lease.
import { IdentityTemplateError, invalidRequest, populateIdentityTemplate, secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
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

/**
 * The key's user_id and team_id: the role's own values, else its identity
 * templates filled in for the caller. Strict, as benemon's plugin is: a
 * template that cannot be filled in refuses the key rather than issuing it
 * unattributed.
 */
async function attribution(backend: EngineBackend, request: Request, role: LiteLLMRoleEntry): Promise<{ userId: string; teamId: string }> {
  const wanted = [
    { field: "user_id_template", fixed: role.user_id, template: role.user_id_template ?? "" },
    { field: "team_id_template", fixed: role.team_id, template: role.team_id_template ?? "" },
  ];
  const templated = wanted.filter((w) => !w.fixed && w.template);
  if (templated.length === 0) return { userId: role.user_id, teamId: role.team_id };
  if (!request.entityId) throw invalidRequest(`${templated[0]!.field} is set but the caller's token has no entity`);
  const [entity, groups] = await Promise.all([backend.system.entityInfo(request.entityId), backend.system.groupsForEntity(request.entityId)]);
  if (!entity) throw invalidRequest(`${templated[0]!.field} "${templated[0]!.template}" did not resolve for this caller: no entity found`);
  const [userId, teamId] = wanted.map(({ field, fixed, template }) => {
    if (fixed || !template) return fixed;
    let value: string;
    try {
      value = populateIdentityTemplate(template, { entity, groups });
    } catch (err) {
      if (err instanceof IdentityTemplateError) throw invalidRequest(`${field} "${template}" did not resolve for this caller: ${err.message}`);
      throw err;
    }
    if (!value) throw invalidRequest(`${field} "${template}" resolved to an empty value for this caller`);
    return value;
  });
  return { userId: userId!, teamId: teamId! };
}

export async function issueLiteLLMKey(backend: EngineBackend, request: Request, roleName: string, role: LiteLLMRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const client = await litellmClient(backend, request, role.connection);
  const { userId, teamId } = await attribution(backend, request, role);
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
        ...(teamId ? { teamId } : {}),
        ...(userId ? { userId } : {}),
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
