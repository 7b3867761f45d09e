// The lease of an OpenRouter key: renew extends the lease only (the key was
// made to expire at the lease's maximum life); revoke deletes the key, a 404
// counting as done.
import type { SecretType } from "@vault-plugin-ai/sdk";
import { leaseCallFailed } from "./connection-config.ts";
import { renewalTtl } from "./lease-renewal.ts";
import { openrouterClient } from "./issue-openrouter.ts";
import type { EngineBackend } from "./state.ts";
import { forgetIssuedKey, indexKeyOfLease } from "./request-index.ts";
import { DEFAULT_CONNECTION } from "./storage.ts";

export const OPENROUTER_SECRET_TYPE = "openrouter_key";

export const openrouterKeySecret: SecretType<EngineBackend> = {
  type: OPENROUTER_SECRET_TYPE,
  renew: async ({ request, internal, backend }) => {
    const { roleName, ttl, maxTtl, warnings } = await renewalTtl(backend, request, internal);
    backend.state.metrics.inc("ai_secrets_leases_renewed_total", "Leases renewed.", { provider: "openrouter", role: roleName });
    return { warnings, secret: { internalData: {}, leaseOptions: { ttl, maxTtl, renewable: true } } };
  },
  revoke: async ({ request, internal, backend }) => {
    const hash = internal["hash"];
    const roleName = typeof internal["role"] === "string" ? internal["role"] : "";
    if (typeof hash !== "string" || !hash) {
      backend.logger.error("lease has no OpenRouter key hash; nothing to delete at the provider", { lease_id: request.secret?.leaseId ?? "" });
      return undefined;
    }
    const client = await openrouterClient(backend, request, typeof internal["connection"] === "string" ? internal["connection"] : DEFAULT_CONNECTION);
    let outcome;
    try {
      outcome = await client.deleteKey(hash);
    } catch (err) {
      throw leaseCallFailed(err, "the key was not deleted");
    }
    await forgetIssuedKey(request.storage, hash, indexKeyOfLease(internal));
    backend.state.metrics.inc("ai_secrets_leases_revoked_total", "Leases revoked (the key deleted at the provider).", { provider: "openrouter", role: roleName, outcome });
    return undefined;
  },
};
