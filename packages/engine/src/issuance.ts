// The write-ahead-logged issuance every provider shares. The key's WAL entry
// is written before the provider is asked; a retry of the same request finds
// and undoes its first attempt's key; once the key exists, its issued record
// and request-index entry are stored before the WAL entry goes, so a crash at
// any point leaves something that finds the key: the WAL entry (the rollback
// deletes by name), or the record and index entry (the sweeper, a retry).
import { deleteWal, putWal, type Request } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./connection-config.ts";
import { providerRefused } from "./providers/http.ts";
import { findEarlierIssuance, forgetIssuedKey, rememberIssuance, requestSlot, undoEarlierIssuance, type RequestSlot } from "./request-index.ts";
import type { EngineBackend } from "./state.ts";
import { recordIssuedAccount, type IssuedAccount, type Provider } from "./storage.ts";

export interface DurableIssuance<Limits, Created> {
  provider: Provider;
  roleName: string;
  connection: string;
  walKind: string;
  walData: unknown;
  /** What the key's creation needs from the server (lease TTLs), asked beside the WAL write: no extra round trip. */
  limits: () => Promise<Limits>;
  create: (limits: Limits) => Promise<Created>;
  /** The id that deletes the key, and names its issued record. */
  keyId: (created: Created) => string;
  record: (created: Created, limits: Limits, walId: string) => IssuedAccount;
  /** OpenAI's accounts live in a project, which deleting them needs. */
  projectId?: string;
  deleteKey: (created: Created) => Promise<unknown>;
}

export interface Issued<Limits, Created> {
  created: Created;
  limits: Limits;
  slot: RequestSlot | undefined;
}

export async function issueDurably<Limits, Created>(backend: EngineBackend, request: Request, issuance: DurableIssuance<Limits, Created>): Promise<Issued<Limits, Created>> {
  const { provider, roleName, connection } = issuance;
  const slot = requestSlot(request);
  // All three at once: one round trip before the provider is asked.
  const [wal, earlier, asked] = await Promise.allSettled([putWal(request.storage, issuance.walKind, issuance.walData), findEarlierIssuance(request.storage, slot), issuance.limits()]);
  if (wal.status === "rejected") throw wal.reason;
  const walId = wal.value;
  let limits: Limits;
  try {
    if (earlier.status === "rejected") throw earlier.reason;
    if (asked.status === "rejected") throw asked.reason;
    limits = asked.value;
    if (earlier.value) await undoEarlierIssuance(backend, request.storage, earlier.value);
  } catch (err) {
    await deleteWal(request.storage, walId).catch(() => undefined);
    throw err;
  }
  let created: Created;
  try {
    created = await issuance.create(limits);
  } catch (err) {
    backend.state.metrics.inc("ai_secrets_issue_failures_total", "Key issuances that failed.", { provider, role: roleName });
    if (providerRefused(err)) await deleteWal(request.storage, walId).catch(() => undefined);
    throw describeProviderFailure(err, "the key was not issued");
  }
  const id = issuance.keyId(created);
  try {
    await Promise.all([
      recordIssuedAccount(request.storage, id, issuance.record(created, limits, walId)),
      rememberIssuance(request.storage, slot, { provider, connection, key_id: id, ...(issuance.projectId === undefined ? {} : { project_id: issuance.projectId }), role: roleName }),
    ]);
    await deleteWal(request.storage, walId);
  } catch (err) {
    // Without the record, the sweeper would take this key for an orphan;
    // without the WAL entry gone, a later rollback would delete it under a
    // live lease. Better to give it up now.
    await issuance.deleteKey(created).catch(() => undefined);
    await forgetIssuedKey(request.storage, id, slot?.key).catch(() => undefined);
    throw err;
  }
  backend.state.metrics.inc("ai_secrets_keys_issued_total", "Keys issued.", { provider, role: roleName });
  return { created, limits, slot };
}
