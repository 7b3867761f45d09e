// The lease of a LiteLLM virtual key: renew moves the key's LiteLLM expiry to
// the lease's new end; revoke deletes the key, "already gone" counting as done.
import type { SecretType } from "@vault-plugin-ai/sdk";
import { leaseCallFailed } from "./connection-config.ts";
import { renewalTtl } from "./lease-renewal.ts";
import { litellmClient } from "./issue-litellm.ts";
import type { EngineBackend } from "./state.ts";
import { forgetIssuedKey, indexKeyOfLease } from "./request-index.ts";
import { DEFAULT_CONNECTION } from "./storage.ts";

export const LITELLM_SECRET_TYPE = "litellm_key";

export const litellmKeySecret: SecretType<EngineBackend> = {
  type: LITELLM_SECRET_TYPE,
  renew: async ({ request, internal, backend }) => {
    const { roleName, ttl, maxTtl, warnings } = await renewalTtl(backend, request, internal);
    const token = String(internal["token"] ?? "");
    const client = await litellmClient(backend, request, typeof internal["connection"] === "string" ? internal["connection"] : DEFAULT_CONNECTION);
    // The key must not die before the lease it belongs to.
    try {
      await client.updateKeyDuration(token, Math.max(ttl, 1));
    } catch (err) {
      throw leaseCallFailed(err, "the lease was not renewed");
    }
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
    let outcome;
    try {
      outcome = await client.deleteKey(token);
    } catch (err) {
      throw leaseCallFailed(err, "the key was not deleted");
    }
    await forgetIssuedKey(request.storage, token, indexKeyOfLease(internal));
    backend.state.metrics.inc("ai_secrets_leases_revoked_total", "Leases revoked (the key deleted at the provider).", { provider: "litellm", role: roleName, outcome });
    return undefined;
  },
};
