// The lease of an issued OpenAI key. Its type name is the Go plugin's, so a
// lease issued by that plugin is renewed and revoked by this one after a
// migration. Internal data holds ids only, never the key.
import type { SecretType } from "@vault-plugin-ai/sdk";
import { leaseCallFailed } from "./connection-config.ts";
import { renewalTtl } from "./lease-renewal.ts";
import { openAIConnection, type EngineBackend } from "./state.ts";
import { forgetIssuedKey, indexKeyOfLease } from "./request-index.ts";
import { DEFAULT_CONNECTION } from "./storage.ts";

export const OPENAI_SECRET_TYPE = "openai_api_key";

export const openAIKeySecret: SecretType<EngineBackend> = {
  type: OPENAI_SECRET_TYPE,
  renew: async ({ request, internal, backend }) => {
    const { roleName, ttl, maxTtl, warnings } = await renewalTtl(backend, request, internal);
    backend.state.metrics.inc("ai_secrets_leases_renewed_total", "Leases renewed.", { provider: "openai", role: roleName });
    return { warnings, secret: { internalData: {}, leaseOptions: { ttl, maxTtl, renewable: true } } };
  },
  revoke: async ({ request, internal, backend }) => {
    const projectId = internal["project_id"];
    const serviceAccountId = internal["service_account_id"];
    const roleName = typeof internal["role"] === "string" ? internal["role"] : "";
    if (typeof projectId !== "string" || !projectId || typeof serviceAccountId !== "string" || !serviceAccountId) {
      // Nothing identifies a key to delete; failing would make the lease
      // irrevocable forever, so the lease is let go with a loud log line.
      backend.logger.error("lease has no project_id/service_account_id; nothing to delete at the provider", { lease_id: request.secret?.leaseId ?? "" });
      return undefined;
    }
    const { client } = await openAIConnection(backend, request.storage, typeof internal["connection"] === "string" ? internal["connection"] : DEFAULT_CONNECTION);
    let outcome;
    try {
      outcome = await client.deleteServiceAccount(projectId, serviceAccountId);
    } catch (err) {
      throw leaseCallFailed(err, "the key was not deleted");
    }
    await forgetIssuedKey(request.storage, serviceAccountId, indexKeyOfLease(internal));
    backend.state.metrics.inc("ai_secrets_leases_revoked_total", "Leases revoked (the key deleted at the provider).", { provider: "openai", role: roleName, outcome });
    backend.logger.info("revoked OpenAI service account", { project_id: projectId, service_account_id: serviceAccountId, outcome });
    return undefined;
  },
};
