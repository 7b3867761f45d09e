// Issuing an OpenAI key: a fresh service account in the role's project, whose
// API key is the credential. A WAL entry naming the account is written before
// the provider is called and removed once the lease is formed, so an answer
// lost on the way (or a crash) leaves something the rollback can find by name
// and delete.
import { deleteWal, putWal, secretResponse, type Request, type Response } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./connection-config.ts";
import { providerRefused } from "./providers/http.ts";
import { openAIKeySecret } from "./secret-openai-key.ts";
import { renderServiceAccountName } from "./service-account-name.ts";
import { openAIConnection, type EngineBackend } from "./state.ts";
import { findEarlierIssuance, forgetIssuance, rememberIssuance, requestSlot, undoEarlierIssuance } from "./request-index.ts";
import { forgetIssuedAccount, recordIssuedAccount, type OpenAIRoleEntry } from "./storage.ts";

export const WAL_SERVICE_ACCOUNT = "openai-service-account";

export interface ServiceAccountWal {
  project_id: string;
  name: string;
  connection?: string;
}

export async function issueOpenAIKey(backend: EngineBackend, request: Request, roleName: string, role: OpenAIRoleEntry, ttl: number, warnings: string[]): Promise<Response> {
  const name = renderServiceAccountName(role.service_account_name_template, { roleName, projectName: role.project_name, displayName: request.displayName });
  const { client } = await openAIConnection(backend, request.storage, role.connection);
  const slot = requestSlot(request);
  // The mount's maximum lease life comes from the server, and an earlier
  // attempt of this request from the index; asked beside the WAL write,
  // they cost no extra round trip.
  const [walId, mountMaxTtl, earlier] = await Promise.all([
    putWal(request.storage, WAL_SERVICE_ACCOUNT, { project_id: role.project_id, name, connection: role.connection } satisfies ServiceAccountWal),
    backend.system.maxLeaseTTL(),
    findEarlierIssuance(request.storage, slot),
  ]);
  if (earlier) {
    try {
      await undoEarlierIssuance(backend, request.storage, earlier);
    } catch (err) {
      await deleteWal(request.storage, walId).catch(() => undefined);
      throw err;
    }
  }
  const maxLife = role.max_ttl > 0 && (mountMaxTtl <= 0 || role.max_ttl < mountMaxTtl) ? role.max_ttl : mountMaxTtl;
  const issuedAt = Math.floor(Date.now() / 1000);
  let account;
  try {
    account = await client.createServiceAccount(role.project_id, name);
  } catch (err) {
    backend.state.metrics.inc("ai_secrets_issue_failures_total", "Key issuances that failed.", { provider: "openai", role: roleName });
    if (providerRefused(err)) await deleteWal(request.storage, walId).catch(() => undefined);
    throw describeProviderFailure(err, "the key was not issued");
  }
  try {
    // In this order: a crash between the two leaves the WAL entry and a
    // record naming it, which the rollback knows for its own and undoes. The
    // other way round, the account would be left with neither. The index
    // entry too must exist before the WAL entry goes: after that, only it
    // lets a retry of this request find the account.
    await Promise.all([
      recordIssuedAccount(request.storage, account.id, { provider: "openai", connection: role.connection, project_id: role.project_id, role: roleName, name: account.name, ...(maxLife > 0 ? { lease_ends_at: issuedAt + maxLife } : {}), wal_id: walId }),
      rememberIssuance(request.storage, slot, { provider: "openai", connection: role.connection, key_id: account.id, project_id: role.project_id, role: roleName }),
    ]);
    await deleteWal(request.storage, walId);
  } catch (err) {
    // Without the record, the sweeper would take this account for an orphan;
    // without the WAL entry gone, a later rollback would delete it under a
    // live lease. Better to give it up now.
    await client.deleteServiceAccount(role.project_id, account.id).catch(() => undefined);
    await Promise.all([forgetIssuedAccount(request.storage, account.id), forgetIssuance(request.storage, slot)]).catch(() => undefined);
    throw err;
  }
  backend.state.metrics.inc("ai_secrets_keys_issued_total", "Keys issued.", { provider: "openai", role: roleName });
  return secretResponse(
    openAIKeySecret,
    { api_key: account.apiKey.value, api_key_id: account.apiKey.id, service_account: account.name, service_account_id: account.id, project_id: role.project_id },
    { api_key_id: account.apiKey.id, service_account_id: account.id, project_id: role.project_id, role: roleName, connection: role.connection, max_ttl: role.max_ttl, ...slot?.internal },
    { ttl, maxTtl: role.max_ttl, renewable: true, warnings },
  );
}
