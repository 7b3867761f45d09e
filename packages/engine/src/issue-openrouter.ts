// Issuing an OpenRouter key with the role's credit limit. The key expires at
// the lease's maximum life: OpenRouter may not let a renewal move the expiry,
// so it is set once, where no renewal can outlast it.
import { secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
import { issueDurably } from "./issuance.ts";
import type { OpenRouterClient } from "./providers/openrouter/client.ts";
import { openrouterKeySecret } from "./secret-openrouter-key.ts";
import { randomSuffix } from "./service-account-name.ts";
import { providerConnection, type EngineBackend } from "./state.ts";
import type { OpenRouterRoleEntry } from "./storage.ts";

export const WAL_OPENROUTER_KEY = "openrouter-key";

export interface OpenRouterKeyWal {
  connection: string;
  name: string;
}

export async function openrouterClient(backend: EngineBackend, request: Request, connectionName: string): Promise<OpenRouterClient> {
  return (await providerConnection(backend, request.storage, connectionName, "openrouter")).client;
}

export async function issueOpenRouterKey(backend: EngineBackend, request: Request, roleName: string, role: OpenRouterRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const client = await openrouterClient(backend, request, role.connection);
  const name = `${role.key_name_prefix}-${roleName}-${randomSuffix()}`;
  const { created, limits, slot } = await issueDurably(backend, request, {
    provider: "openrouter",
    roleName,
    connection: role.connection,
    walKind: WAL_OPENROUTER_KEY,
    walData: { connection: role.connection, name } satisfies OpenRouterKeyWal,
    // The server caps the lease at the mount's maximum; the key's expiry must not outlive that.
    limits: async () => {
      const [mountMax, wanted] = await Promise.all([backend.system.maxLeaseTTL(), ttl > 0 ? ttl : backend.system.defaultLeaseTTL()]);
      const cap = (seconds: number) => (mountMax > 0 ? Math.min(seconds, mountMax) : seconds);
      const leaseTtl = cap(wanted);
      const maxLife = role.max_ttl > 0 ? cap(role.max_ttl) : mountMax;
      return { leaseTtl, expiresAt: new Date(Date.now() + Math.max(leaseTtl, maxLife) * 1000) };
    },
    create: ({ expiresAt }) => client.createKey({ name, ...(role.limit > 0 ? { limit: role.limit } : {}), expiresAt }),
    keyId: (key) => key.hash,
    record: () => ({ provider: "openrouter", connection: role.connection, role: roleName, name }),
    deleteKey: (key) => client.deleteKey(key.hash),
  });
  return secretResponse(
    openrouterKeySecret,
    { key: created.key, key_hash: created.hash, name, limit: role.limit, expires_at: limits.expiresAt.toISOString() },
    { hash: created.hash, name, role: roleName, connection: role.connection, max_ttl: role.max_ttl, ...slot?.internal },
    { ttl: limits.leaseTtl, maxTtl: role.max_ttl, renewable: true, warnings },
  );
}
