// What both benchmark scripts share.
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");

/**
 * The pinned Go reference plugin: the script builds it once and prints its
 * directory last. When the Go module proxy refuses a plugin, SEED_PLUGIN_DIR
 * names a directory of plugins built elsewhere from their source; the bench
 * prints their Go build information so the table says what it compared.
 */
export function goPlugin(name: string): string {
  const elsewhere = process.env["SEED_PLUGIN_DIR"];
  if (elsewhere) {
    const path = join(elsewhere, name);
    let present = true;
    try {
      accessSync(path, constants.X_OK);
    } catch {
      present = false; // not there: built as usual below
    }
    if (present) {
      let described = "build information unavailable (no go on PATH, or none in the binary)";
      try {
        const info = execFileSync("go", ["version", "-m", path], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        const line = (prefix: string) => info.split("\n").find((l) => l.trimStart().startsWith(prefix))?.trim().replace(/\s+/g, " ") ?? "";
        described = `${info.split("\n")[0]!.split(": ")[1]}; ${line("path")}; ${line("mod")}`;
      } catch {
        // described stays as it is
      }
      process.stderr.write(`${name}: from SEED_PLUGIN_DIR, ${described}\n`);
      return path;
    }
  }
  const out = execFileSync("bash", [join(root, "scripts", "get-go-plugins.sh"), name], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const dir = out.trim().split("\n").at(-1)?.trim();
  if (!dir) throw new Error("scripts/get-go-plugins.sh printed no directory");
  return join(dir, name);
}

/** The p-th percentile of an ascending list. */
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
