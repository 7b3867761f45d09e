// The write-ahead log: a record written before a step that could be left
// half done (a key created at a provider whose response never arrived), and
// deleted once the step is complete. The server's periodic rollback runs the
// backend's rollback handler for entries older than a minimum age. Entries
// are stored as the Go SDK stores them, under "wal/<id>".
import { randomUUID } from "node:crypto";
import type { JsonObject, Storage } from "../logical/types.ts";

export const WAL_PREFIX = "wal/";

export interface WalEntry {
  id: string;
  kind: string;
  data: unknown;
  /** Seconds since the epoch. */
  createdAt: number;
}

export async function putWal(storage: Storage, kind: string, data: unknown, now = new Date()): Promise<string> {
  const id = randomUUID();
  const value = JSON.stringify({ type: kind, data, created_at: Math.floor(now.getTime() / 1000) });
  await storage.put({ key: WAL_PREFIX + id, value: Buffer.from(value) });
  return id;
}

export async function getWal(storage: Storage, id: string): Promise<WalEntry | undefined> {
  const entry = await storage.get(WAL_PREFIX + id);
  if (!entry) return undefined;
  const parsed = JSON.parse(Buffer.from(entry.value).toString("utf8")) as JsonObject;
  return { id, kind: String(parsed["type"] ?? ""), data: parsed["data"], createdAt: Number(parsed["created_at"] ?? 0) };
}

export async function deleteWal(storage: Storage, id: string): Promise<void> {
  await storage.delete(WAL_PREFIX + id);
}

export async function listWal(storage: Storage): Promise<string[]> {
  return storage.list(WAL_PREFIX);
}
