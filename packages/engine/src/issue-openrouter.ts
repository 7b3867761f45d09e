// Issuing an OpenRouter key with the role's credit limit. The key expires at
// the lease's maximum life: OpenRouter may not let a renewal move the expiry,
// so it is set once, where no renewal can outlast it.
import { deleteWal, invalidRequest, putWal, secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./connection-config.ts";
import { providerRefused } from "./providers/http.ts";
import type { OpenRouterClient } from "./providers/openrouter/client.ts";
import { openrouterKeySecret } from "./secret-openrouter-key.ts";
import { randomSuffix } from "./service-account-name.ts";
import { connection, type EngineBackend } from "./state.ts";
import { findEarlierIssuance, forgetIssuance, rememberIssuance, requestSlot, undoEarlierIssuance } from "./request-index.ts";
import { forgetIssuedAccount, recordIssuedAccount, type OpenRouterRoleEntry } from "./storage.ts";

export const WAL_OPENROUTER_KEY = "openrouter-key";

export interface OpenRouterKeyWal {
  connection: string;
  name: string;
}

export async function openrouterClient(backend: EngineBackend, request: Request, connectionName: string): Promise<OpenRouterClient> {
  const c = await connection(backend, request.storage, connectionName);
  if (c.config.provider !== "openrouter") throw invalidRequest(`connection "${connectionName}" is a ${c.config.provider} connection, not openrouter`);
  return c.client as OpenRouterClient;
}

export async function issueOpenRouterKey(backend: EngineBackend, request: Request, roleName: string, role: OpenRouterRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const client = await openrouterClient(backend, request, role.connection);
  // The server caps the lease at the mount's maximum; the key's expiry must not outlive that.
  const mountMax = await backend.system.maxLeaseTTL();
  const cap = (seconds: number) => (mountMax > 0 ? Math.min(seconds, mountMax) : seconds);
  const leaseTtl = cap(ttl > 0 ? ttl : await backend.system.defaultLeaseTTL());
  const maxLife = role.max_ttl > 0 ? cap(role.max_ttl) : mountMax;
  const name = `${role.key_name_prefix}-${roleName}-${randomSuffix()}`;
  const expiresAt = new Date(Date.now() + Math.max(leaseTtl, maxLife) * 1000);
  const slot = requestSlot(request);
  // An earlier attempt of this request, read beside the WAL write: no extra round trip.
  const [walId, earlier] = await Promise.all([putWal(request.storage, WAL_OPENROUTER_KEY, { connection: role.connection, name } satisfies OpenRouterKeyWal), findEarlierIssuance(request.storage, slot)]);
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
    created = await client.createKey({ name, ...(role.limit > 0 ? { limit: role.limit } : {}), expiresAt });
  } catch (err) {
    backend.state.metrics.inc("ai_secrets_issue_failures_total", "Key issuances that failed.", { provider: "openrouter", role: roleName });
    if (providerRefused(err)) await deleteWal(request.storage, walId).catch(() => undefined);
    throw describeProviderFailure(err, "the key was not issued");
  }
  try {
    // In this order: a crash between the two leaves the WAL entry, whose
    // rollback deletes the key by its name. The other way round, the key
    // would be left with neither. The index entry must exist before the WAL
    // entry goes: after that, only it lets a retry of this request find the key.
    await Promise.all([
      recordIssuedAccount(request.storage, created.hash, { provider: "openrouter", connection: role.connection, role: roleName, name }),
      rememberIssuance(request.storage, slot, { provider: "openrouter", connection: role.connection, key_id: created.hash, role: roleName }),
    ]);
    await deleteWal(request.storage, walId);
  } catch (err) {
    await client.deleteKey(created.hash).catch(() => undefined);
    await Promise.all([forgetIssuedAccount(request.storage, created.hash), forgetIssuance(request.storage, slot)]).catch(() => undefined);
    throw err;
  }
  backend.state.metrics.inc("ai_secrets_keys_issued_total", "Keys issued.", { provider: "openrouter", role: roleName });
  return secretResponse(
    openrouterKeySecret,
    { key: created.key, key_hash: created.hash, name, limit: role.limit, expires_at: expiresAt.toISOString() },
    { hash: created.hash, name, role: roleName, connection: role.connection, max_ttl: role.max_ttl, ...slot?.internal },
    { ttl: leaseTtl, maxTtl: role.max_ttl, renewable: true, warnings },
  );
}
