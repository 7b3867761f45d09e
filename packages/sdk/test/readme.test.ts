// The guide's plugin and its test, run as written: the README cannot drift
// from what the SDK does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

test("the README's complete plugin passes the README's own test", () => {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 2, "the guide has the plugin and its test");
  const plugin = blocks[0]!.replace(/^void serve\(.*$/m, "export { factory };");
  assert.notEqual(plugin, blocks[0], "the plugin ends with its serve() call");
  const imports = blocks[1]!.match(/^import .*$/gm) ?? [];
  const body = blocks[1]!.replace(/^import .*$/gm, "");
  // Inside the package, so "@vault-plugin-ai/sdk" resolves as it would for a user.
  const dir = mkdtempSync(join(here, ".readme-"));
  try {
    writeFileSync(join(dir, "guide.test.ts"), `${imports.join("\n")}\n${plugin.replace(/^import .*$/gm, (l) => l)}\n${body}`);
    execFileSync(process.execPath, ["--test", join(dir, "guide.test.ts")], { stdio: "pipe" });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    assert.fail(`the guide's test failed:\n${e.stdout?.toString() ?? ""}${e.stderr?.toString() ?? ""}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
