// What both benchmark scripts share.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");

/** The pinned Go reference plugin: the script builds it once and prints its directory last. */
export function goPlugin(name: string): string {
  const out = execFileSync("bash", [join(root, "scripts", "get-go-plugins.sh"), name], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const dir = out.trim().split("\n").at(-1)?.trim();
  if (!dir) throw new Error("scripts/get-go-plugins.sh printed no directory");
  return join(dir, name);
}

/** The p-th percentile of an ascending list. */
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
