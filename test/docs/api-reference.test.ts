// The API reference pages are generated from each plugin's own OpenAPI
// document; a committed page that differs from a fresh generation has drifted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { engineDefinition } from "../../packages/engine/src/backend.ts";
import { generateReferences, ROOT } from "../../tools/docs/api-reference.ts";

const pages = await generateReferences();

for (const page of pages) {
  test(`${page.file} matches a fresh generation from the plugin's OpenAPI document`, async () => {
    const committed = await readFile(join(ROOT, page.file), "utf8").catch(() => "");
    assert.ok(committed === page.content, `${page.file} is out of date with the plugin's OpenAPI document: run \`npm run docs\` and commit the result`);
  });
}

test("the engine's API reference has a section for every path the engine serves", () => {
  const api = pages.find((p) => p.file === "docs/api.md")!.content;
  const headings = new Set([...api.matchAll(/^## `([^`]+)`$/gm)].map((m) => m[1]));
  const patterns = engineDefinition.paths.map((p) => p.pattern.replace(/\/\?$/, "/").replace(/<(\w+)\*?>/g, "{$1}"));
  assert.deepEqual(patterns.filter((p) => !headings.has(p)), []);
});
