// Issuance made idempotent by the server's request id. When the plugin dies
// after an issuance finished (key created, record stored, WAL entry removed)
// but before its answer reached the server, OpenBao starts the plugin again
// and sends the same request once more. No WAL entry covers the first key
// any more, and no lease will ever hold it: the retry finds it through this
// index and deletes it before issuing a fresh key, so exactly one key
// outlives the request. A request without a usable id gets no index entry.
import { codedError, type Request, type Storage } from "@vault-plugin-ai/sdk";
import { ProviderError } from "./providers/http.ts";
import { providerConnection, type EngineBackend } from "./state.ts";
import {
  forgetIssuedAccount,
  readIssuedRequest,
  REQUEST_BUCKET_SECONDS,
  REQUEST_ENTRY_MAX_AGE_SECONDS,
  REQUEST_PREFIX,
  requestBucket,
  requestKey,
  writeIssuedRequest,
  type IssuedRequest,
} from "./storage.ts";

// Server request ids are UUIDs; anything else that could not be one path
// segment of a storage key gets no idempotency rather than a strange key.
const USABLE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Where this issuance's index entry goes, and what its lease keeps to remove it on revoke. */
export interface RequestSlot {
  key: string;
  id: string;
  bucket: number;
  /** Lease internal data. */
  internal: { request_id: string; request_bucket: number };
}

export function requestSlot(request: Request, nowMs = Date.now()): RequestSlot | undefined {
  const id = request.id;
  if (typeof id !== "string" || !USABLE_ID.test(id)) return undefined;
  const bucket = requestBucket(Math.floor(nowMs / 1000));
  return { key: requestKey(bucket, id), id, bucket, internal: { request_id: id, request_bucket: bucket } };
}

export interface EarlierIssuance {
  key: string;
  entry: IssuedRequest;
}

/**
 * The server sends a request again only after the plugin process died under
 * it, and at once, to the process it starts in the dead one's place. A
 * process older than this cannot receive such a retry, so it skips the two
 * index reads that look for one (two of the eight storage calls of a key).
 */
export const RETRIES_REACH_A_PROCESS_WITHIN_MS = 10 * 60_000;

/** The entry an earlier attempt of this very request left, if any. */
export async function findEarlierIssuance(storage: Storage, slot: RequestSlot | undefined, processAgeMs = process.uptime() * 1000): Promise<EarlierIssuance | undefined> {
  if (!slot) return undefined;
  // A monotonic age: a wall clock stepped forward (a first NTP sync) must not age a fresh process.
  if (processAgeMs > RETRIES_REACH_A_PROCESS_WITHIN_MS) return undefined;
  // A retry comes within seconds; the previous bucket covers one that
  // straddles a bucket boundary.
  const keys = [slot.key, requestKey(slot.bucket - 1, slot.id)];
  const entries = await Promise.all(keys.map((k) => readIssuedRequest(storage, k)));
  const i = entries.findIndex((e) => e !== undefined);
  return i < 0 ? undefined : { key: keys[i]!, entry: entries[i]! };
}

/**
 * Deletes the key an earlier attempt of this request made (already gone
 * counts as deleted), then its record and index entry. When the deletion
 * fails the request fails with a 5xx, never a 400, and the entry stays, so a
 * later retry can still find the key.
 */
export async function undoEarlierIssuance(backend: EngineBackend, storage: Storage, earlier: EarlierIssuance): Promise<void> {
  const { entry } = earlier;
  let outcome: "deleted" | "already-gone";
  try {
    switch (entry.provider) {
      case "openai": {
        const { client } = await providerConnection(backend, storage, entry.connection, "openai");
        if (!entry.project_id) throw new Error("the index entry names no project");
        outcome = await client.deleteServiceAccount(entry.project_id, entry.key_id);
        break;
      }
      case "litellm":
        outcome = await (await providerConnection(backend, storage, entry.connection, "litellm")).client.deleteKey(entry.key_id);
        break;
      case "openrouter":
        outcome = await (await providerConnection(backend, storage, entry.connection, "openrouter")).client.deleteKey(entry.key_id);
        break;
    }
  } catch (err) {
    backend.state.metrics.inc("ai_secrets_issue_failures_total", "Key issuances that failed.", { provider: entry.provider, role: entry.role });
    throw codedError(
      err instanceof ProviderError ? 502 : 500,
      `the key was not issued: this request was sent again after its first answer was lost, and the key its first attempt made could not be deleted: ${(err as Error).message}`,
    );
  }
  await forgetIssuedKey(storage, entry.key_id, earlier.key);
  backend.state.metrics.inc("ai_secrets_lost_answers_undone_total", "Keys of a request's first attempt whose answer was lost, deleted when the server sent the request again.", { provider: entry.provider, outcome });
  backend.logger.warn("deleted the key of a request's first attempt, whose answer was lost; issuing a new one", { provider: entry.provider, key_id: entry.key_id, outcome });
}

export function rememberIssuance(storage: Storage, slot: RequestSlot | undefined, entry: Omit<IssuedRequest, "created_at">, nowMs = Date.now()): Promise<void> {
  return slot ? writeIssuedRequest(storage, slot.key, { ...entry, created_at: Math.floor(nowMs / 1000) }) : Promise.resolve();
}

/** The index entry a lease's internal data names, if any (leases issued before the index have none). */
export function indexKeyOfLease(internal: Record<string, unknown>): string | undefined {
  const id = internal["request_id"];
  const bucket = internal["request_bucket"];
  if (typeof id !== "string" || !USABLE_ID.test(id) || typeof bucket !== "number" || !Number.isInteger(bucket)) return undefined;
  return requestKey(bucket, id);
}

/** A key's issued record and its request's index entry, both gone: when its lease is revoked, or its issuance undone. */
export async function forgetIssuedKey(storage: Storage, keyId: string, indexKey: string | undefined): Promise<void> {
  await Promise.all([forgetIssuedAccount(storage, keyId), ...(indexKey === undefined ? [] : [storage.delete(indexKey)])]);
}

/**
 * Drops index entries older than REQUEST_ENTRY_MAX_AGE_SECONDS: those of
 * leases still live, and those of requests whose client got an error. Whole
 * buckets go, so live entries are never read.
 */
export async function dropStaleIssuances(storage: Storage, now = new Date()): Promise<number> {
  const oldest = now.getTime() / 1000 - REQUEST_ENTRY_MAX_AGE_SECONDS;
  let dropped = 0;
  for (const folder of await storage.list(REQUEST_PREFIX)) {
    const bucket = Number(folder.slice(0, -1));
    if (!folder.endsWith("/") || !Number.isInteger(bucket) || (bucket + 1) * REQUEST_BUCKET_SECONDS > oldest) continue;
    const ids = await storage.list(`${REQUEST_PREFIX}${folder}`);
    for (let i = 0; i < ids.length; i += 16) {
      await Promise.all(ids.slice(i, i + 16).map((id) => storage.delete(`${REQUEST_PREFIX}${folder}${id}`)));
    }
    dropped += ids.length;
  }
  return dropped;
}
