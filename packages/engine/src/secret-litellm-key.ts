// The lease of a LiteLLM virtual key: renew moves the key's LiteLLM expiry to
// the lease's new end; revoke deletes the key, "already gone" counting as done.
import { calculateTtl, type SecretType } from "@vault-plugin-ai/sdk";
import { litellmClient } from "./issue-litellm.ts";
import type { EngineBackend } from "./state.ts";
import { DEFAULT_CONNECTION, forgetIssuedAccount, readRole } from "./storage.ts";

export const LITELLM_SECRET_TYPE = "litellm_key";

export const litellmKeySecret: SecretType<EngineBackend> = {
  type: LITELLM_SECRET_TYPE,
  renew: async ({ request, internal, backend }) => {
    const roleName = typeof internal["role"] === "string" ? internal["role"] : "";
    const role = roleName ? await readRole(request.storage, roleName) : undefined;
    const lease = request.secret!.leaseOptions;
    const maxTtl = typeof internal["max_ttl"] === "number" ? internal["max_ttl"] : (role?.max_ttl ?? 0);
    const { ttl, warnings } = await calculateTtl({ system: backend.system, increment: lease.increment, backendTtl: role?.ttl ?? lease.ttl, backendMaxTtl: maxTtl, startTime: lease.issueTime });
    const token = String(internal["token"] ?? "");
    const client = await litellmClient(backend, request, typeof internal["connection"] === "string" ? internal["connection"] : DEFAULT_CONNECTION);
    // The key must not die before the lease it belongs to.
    await client.updateKeyDuration(token, Math.max(ttl, 1));
    backend.state.metrics.inc("ai_secrets_leases_renewed_total", "Leases renewed.", { provider: "litellm", role: roleName });
    return { warnings, secret: { internalData: {}, leaseOptions: { ttl, maxTtl, renewable: true } } };
  },
  revoke: async ({ request, internal, backend }) => {
    const token = internal["token"];
    const roleName = typeof internal["role"] === "string" ? internal["role"] : "";
    if (typeof token !== "string" || !token) {
      backend.logger.error("lease has no LiteLLM token id; nothing to delete at the provider", { lease_id: request.secret?.leaseId ?? "" });
      return undefined;
    }
    const client = await litellmClient(backend, request, typeof internal["connection"] === "string" ? internal["connection"] : DEFAULT_CONNECTION);
    const outcome = await client.deleteKey(token);
    await forgetIssuedAccount(request.storage, token);
    backend.state.metrics.inc("ai_secrets_leases_revoked_total", "Leases revoked (the key deleted at the provider).", { provider: "litellm", role: roleName, outcome });
    return undefined;
  },
};
