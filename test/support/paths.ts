// Where the tests find what the build and set-up produced.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST_BIN = join(ROOT, "dist", "bin");
export const KV_PLUGIN = join(DIST_BIN, "vault-plugin-example-kv");
export const AI_PLUGIN = join(DIST_BIN, "vault-plugin-secrets-ai");
export const BAO = join(ROOT, ".venv", "bin", "bao");

export function requireFile(path: string, hint: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
  return path;
}
