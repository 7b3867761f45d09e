// JSON values in storage, the common case for config and roles.
import type { Storage } from "../logical/types.ts";
import { parseJson, stringifyJson } from "../logical/json.ts";

export async function getJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  const entry = await storage.get(key);
  if (!entry) return undefined;
  return parseJson(Buffer.from(entry.value).toString("utf8")) as T;
}

export async function putJson(storage: Storage, key: string, value: unknown, sealWrap = false): Promise<void> {
  await storage.put({ key, value: Buffer.from(stringifyJson(value)), sealWrap });
}
