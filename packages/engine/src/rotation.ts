// Admin key rotation that never loses the working key and never leaves a
// key alive that nobody tracks:
//   1. a WAL entry names the new key before it exists;
//   2. the new key is created (with an expiry, where the schedule allows one);
//   3. it is proven to work;
//   4. it is stored, together with the old key's id as "pending deletion";
//   5. the old key is deleted, and only then dropped from the pending list.
// A crash or failure before 4 leaves the old key in storage, working, and the
// WAL rollback deletes the half-made new key by name; after 4 the periodic
// function keeps retrying the deletion of the old one.
import { deleteWal, invalidRequest, putWal, type Logger, type Storage } from "@vault-plugin-ai/sdk";
import { randomBytes } from "node:crypto";
import { previousRun, parseCron } from "./cron.ts";
import { OpenAIAdminClient } from "./providers/openai/client.ts";
import { type EngineBackend, forgetConnections, openAIClientFor } from "./state.ts";
import { connectionKey, DEFAULT_CONNECTION, readConnection, writeConnection, type ConfigEntry, type OpenAIConfigEntry } from "./storage.ts";

export const WAL_ADMIN_KEY = "openai-admin-key";

/** OpenAI's upper bound for expires_in_seconds. */
const MAX_EXPIRY_SECONDS = 31_536_000;

export interface RotationResult {
  adminApiKeyId: string;
  rotatedTime: string;
  oldKeyDeleted: boolean;
}

function randomSuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(8)].map((b) => alphabet[b % 36]).join("");
}

/**
 * How long the new key lives at the provider: twice the rotation interval, so
 * a key whose successor never came still dies; none without a schedule.
 */
export function adminKeyExpirySeconds(config: OpenAIConfigEntry): number | undefined {
  if (config.disable_automated_rotation) return undefined;
  let interval = config.rotation_period;
  if (!interval && config.rotation_schedule) interval = 31 * 86400;
  if (!interval) return undefined;
  return Math.min(MAX_EXPIRY_SECONDS, Math.max(3600, interval * 2));
}

async function readOpenAI(storage: Storage, name: string): Promise<OpenAIConfigEntry | undefined> {
  const config: ConfigEntry | undefined = await readConnection(storage, name);
  return config?.provider === "openai" ? config : undefined;
}

export function rotateAdminKey(backend: EngineBackend, storage: Storage, name: string = DEFAULT_CONNECTION, now = new Date()): Promise<RotationResult> {
  return backend.state.connectionLock.run(() => rotateAdminKeyLocked(backend, storage, name, now));
}

async function rotateAdminKeyLocked(backend: EngineBackend, storage: Storage, name: string, now: Date): Promise<RotationResult> {
  const config = await readConnection(storage, name);
  if (!config) throw invalidRequest(`connection "${name}" is not configured`);
  if (config.provider !== "openai") throw invalidRequest(`connection "${name}" is ${config.provider}: only OpenAI admin keys can be rotated by the engine (LiteLLM cannot mint master keys)`);
  const oldClient = openAIClientFor(backend.state, config, backend.logger);
  const keyName = `vault-admin-key-${randomSuffix()}`;
  const walId = await putWal(storage, WAL_ADMIN_KEY, { name: keyName, connection: name });
  backend.state.metrics.inc("ai_secrets_admin_key_rotations_total", "Admin key rotations attempted.", { stage: "started" });

  const expiry = adminKeyExpirySeconds(config);
  const created = await oldClient.createAdminKey(keyName, expiry);
  const updated: OpenAIConfigEntry = {
    ...config,
    admin_api_key: created.value,
    admin_api_key_id: created.id,
    last_rotated_time: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    admin_api_key_expires_at: created.expiresAt ?? (expiry ? Math.floor(now.getTime() / 1000) + expiry : 0),
    pending_admin_key_deletions: [...new Set([...config.pending_admin_key_deletions, config.admin_api_key_id])],
  };
  const newClient = openAIClientFor(backend.state, updated, backend.logger);
  try {
    await newClient.verifyAdminKey();
  } catch (err) {
    // The new key does not work: keep the old one, delete the new one now
    // (the WAL entry stays, in case this delete fails too).
    try {
      await oldClient.deleteAdminKey(created.id);
      await deleteWal(storage, walId);
    } catch (cleanupErr) {
      backend.logger.warn("could not delete the unusable new admin key; the rollback will retry", { error: (cleanupErr as Error).message });
    }
    throw err;
  }
  await writeConnection(storage, name, updated);
  await deleteWal(storage, walId);
  forgetConnections(backend.state, name);
  backend.state.metrics.inc("ai_secrets_admin_key_rotations_total", "Admin key rotations attempted.", { stage: "stored" });
  backend.logger.info("admin API key rotated", { admin_api_key_id: created.id, expires_in_seconds: expiry ?? 0 });

  const oldKeyDeleted = await deletePendingAdminKeysLocked(backend, storage, name, newClient);
  return { adminApiKeyId: created.id, rotatedTime: updated.last_rotated_time, oldKeyDeleted };
}

/** Deletes replaced admin keys still pending; returns whether none is left pending. */
export function deletePendingAdminKeys(backend: EngineBackend, storage: Storage, name: string = DEFAULT_CONNECTION): Promise<boolean> {
  return backend.state.connectionLock.run(() => deletePendingAdminKeysLocked(backend, storage, name));
}

async function deletePendingAdminKeysLocked(backend: EngineBackend, storage: Storage, name: string, client?: OpenAIAdminClient): Promise<boolean> {
  const config = await readOpenAI(storage, name);
  if (!config || config.pending_admin_key_deletions.length === 0) return true;
  const c = client ?? openAIClientFor(backend.state, config, backend.logger);
  const remaining: string[] = [];
  for (const id of config.pending_admin_key_deletions) {
    if (id === config.admin_api_key_id) continue;
    try {
      await c.deleteAdminKey(id);
      backend.logger.info("replaced admin API key deleted", { admin_api_key_id: id });
    } catch (err) {
      remaining.push(id);
      backend.logger.warn("replaced admin API key could not be deleted yet; will retry", { admin_api_key_id: id, error: (err as Error).message });
    }
  }
  const latest = await readOpenAI(storage, name);
  if (latest) {
    latest.pending_admin_key_deletions = latest.pending_admin_key_deletions.filter((id) => remaining.includes(id) || !config.pending_admin_key_deletions.includes(id));
    await writeConnection(storage, name, latest);
  }
  return remaining.length === 0;
}

/** Undoes a rotation cut short after the new key was created: the key is found by name and deleted. */
export async function rollbackAdminKeyCreation(backend: EngineBackend, storage: Storage, data: unknown, logger: Logger): Promise<void> {
  const wal = data as { name?: unknown; connection?: unknown } | null;
  const name = wal?.name;
  if (typeof name !== "string" || !name) return;
  const config = await readOpenAI(storage, typeof wal?.connection === "string" ? wal.connection : DEFAULT_CONNECTION);
  if (!config) return;
  const client = openAIClientFor(backend.state, config, logger);
  for (const key of await client.listAdminKeys()) {
    if (key.name === name && key.id !== config.admin_api_key_id) {
      await client.deleteAdminKey(key.id);
      logger.info("deleted an admin API key left by an interrupted rotation", { admin_api_key_id: key.id });
    }
  }
}

/** Whether the schedule says a rotation is due now. */
export function rotationDue(config: OpenAIConfigEntry, now: Date): boolean {
  // A key the engine made with an expiry is replaced well before it dies,
  // whatever the schedule says now: the schedule may have changed since.
  const expiresAt = config.admin_api_key_expires_at ?? 0;
  if (expiresAt > 0) {
    const issued = config.last_rotated_time ? Date.parse(config.last_rotated_time) / 1000 : expiresAt - 3600;
    const margin = Math.max(3600, (expiresAt - issued) / 3);
    if (now.getTime() / 1000 >= expiresAt - margin) return true;
  }
  if (config.disable_automated_rotation) return false;
  const last = config.last_rotated_time ? Date.parse(config.last_rotated_time) : NaN;
  if (config.rotation_period > 0) {
    return Number.isNaN(last) || now.getTime() - last >= config.rotation_period * 1000;
  }
  if (config.rotation_schedule) {
    const scheduled = previousRun(parseCron(config.rotation_schedule), now);
    if (!scheduled) return false;
    if (!Number.isNaN(last) && last >= scheduled.getTime()) return false;
    const window = config.rotation_window > 0 ? config.rotation_window * 1000 : Infinity;
    return now.getTime() - scheduled.getTime() <= window;
  }
  return false;
}

/**
 * Removes a connection, but not while admin keys it replaced are still alive
 * at OpenAI: its own admin key is the only thing that can delete them, so
 * dropping it would leave live admin credentials that nobody tracks.
 */
export function deleteConnection(backend: EngineBackend, storage: Storage, name: string): Promise<void> {
  return backend.state.connectionLock.run(async () => {
    const config = await readConnection(storage, name);
    if (config?.provider === "openai" && config.pending_admin_key_deletions.some((id) => id !== config.admin_api_key_id)) {
      await deletePendingAdminKeysLocked(backend, storage, name);
      const latest = await readOpenAI(storage, name);
      const alive = latest?.pending_admin_key_deletions.filter((id) => id !== latest.admin_api_key_id) ?? [];
      if (alive.length > 0) {
        throw invalidRequest(
          `the connection cannot be deleted yet: the admin keys it replaced (${alive.join(", ")}) could not be deleted at OpenAI, and only this connection's admin key can delete them; retry later, or write a working admin_api_key to the connection first (they are retried every minute)`,
        );
      }
    }
    await storage.delete(connectionKey(name));
    forgetConnections(backend.state, name);
  });
}
