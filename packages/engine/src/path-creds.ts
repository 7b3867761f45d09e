// creds/<name>: issue a key. A WAL entry naming the service account is
// written before the provider is called and removed once the lease is
// formed, so an answer lost on the way (or a crash) leaves something the
// rollback can find by name and delete.
import { deleteWal, invalidRequest, putWal, secretResponse, type PathDefinition } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./path-config.ts";
import { openAIKeySecret } from "./secret-openai-key.ts";
import { renderServiceAccountName } from "./service-account-name.ts";
import { connection, type EngineBackend } from "./state.ts";
import { forgetIssuedAccount, readRole, recordIssuedAccount } from "./storage.ts";
import { formatDuration } from "@vault-plugin-ai/sdk";

export const WAL_SERVICE_ACCOUNT = "openai-service-account";

export interface ServiceAccountWal {
  project_id: string;
  name: string;
}

export const pathCreds: PathDefinition<EngineBackend> = {
  pattern: "creds/<name>",
  fields: {
    name: { type: "name-string", description: "The role to issue a key from." },
    ttl: { type: "duration", description: "Lease TTL for this key; capped at the role's max_ttl." },
  },
  operations: {
    read: {
      summary: "Issue an API key from a role.",
      handler: async ({ request, fields, backend }) => {
        const roleName = fields.string("name");
        const role = await readRole(request.storage, roleName);
        if (!role) throw invalidRequest(`role "${roleName}" does not exist`);
        const warnings: string[] = [];
        let ttl = role.ttl;
        const requested = fields.getOk<number>("ttl");
        if (requested !== undefined) {
          if (requested < 0) throw invalidRequest('"ttl" must not be negative');
          if (requested > 0) ttl = requested;
        }
        if (role.max_ttl > 0 && ttl > role.max_ttl) {
          warnings.push(`ttl of ${formatDuration(ttl)} exceeds the role's max_ttl of ${formatDuration(role.max_ttl)}; capped to ${formatDuration(role.max_ttl)}`);
          ttl = role.max_ttl;
        }
        const name = renderServiceAccountName(role.service_account_name_template, {
          roleName,
          projectName: role.project_name,
          displayName: request.displayName,
        });
        const { client } = await connection(backend, request.storage);
        const walId = await putWal(request.storage, WAL_SERVICE_ACCOUNT, { project_id: role.project_id, name } satisfies ServiceAccountWal);
        let account;
        try {
          account = await client.createServiceAccount(role.project_id, name);
        } catch (err) {
          backend.state.metrics.inc("ai_secrets_issue_failures_total", "Key issuances that failed.", { provider: "openai", role: roleName });
          throw describeProviderFailure(err, "the key was not issued");
        }
        try {
          await recordIssuedAccount(request.storage, account.id, { project_id: role.project_id, role: roleName, name: account.name });
          await deleteWal(request.storage, walId);
        } catch (err) {
          // Without the record, the sweeper would take this account for an
          // orphan; without the WAL entry gone, a later rollback would delete
          // it under a live lease. Better to give it up now.
          await client.deleteServiceAccount(role.project_id, account.id).catch(() => undefined);
          await forgetIssuedAccount(request.storage, account.id).catch(() => undefined);
          throw err;
        }
        backend.state.metrics.inc("ai_secrets_keys_issued_total", "Keys issued.", { provider: "openai", role: roleName });
        return secretResponse(
          openAIKeySecret,
          {
            api_key: account.apiKey.value,
            api_key_id: account.apiKey.id,
            service_account: account.name,
            service_account_id: account.id,
            project_id: role.project_id,
          },
          { api_key_id: account.apiKey.id, service_account_id: account.id, project_id: role.project_id, role: roleName, max_ttl: role.max_ttl },
          { ttl, maxTtl: role.max_ttl, renewable: true, warnings },
        );
      },
    },
  },
  helpSynopsis: "Issue an API key from a role.",
  helpDescription:
    "Creates a service account in the role's project; its API key is returned in a lease. Revoking or expiring the lease deletes the service account, and the key with it.",
};
