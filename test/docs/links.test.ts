// The docs build: every relative link and anchor in the repository's
// Markdown resolves, and nothing a renderer would warn about is left. Then
// the rules of the check itself, each on a small fixture.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { checkDocs, formatProblems, githubSlug, headingAnchors } from "../../tools/docs/check.ts";
import { ROOT } from "../support/paths.ts";

test("every Markdown file of the repository links only to files and headings that exist", async () => {
  const result = await checkDocs(ROOT);
  assert.ok(result.files > 0);
  assert.equal(result.problems.length, 0, `the docs check found problems (run \`npm run docs\`):\n${formatProblems(result.problems)}`);
});

// GitHub's heading anchors.

test("a slug is the heading lowercased, spaces turned into hyphens", () => {
  assert.equal(githubSlug("Getting Started"), "getting-started");
});

test("a slug drops punctuation and symbols, one hyphen per space", () => {
  assert.equal(githubSlug("What's new? (v2.0) — now & then"), "whats-new-v20--now--then");
});

test("a slug keeps underscores and hyphens", () => {
  assert.equal(githubSlug("snake_case and kebab-case"), "snake_case-and-kebab-case");
});

test("a slug keeps the text of code spans and drops emphasis markers", () => {
  assert.equal(githubSlug("`config/rotate` is **safe** _now_"), "configrotate-is-safe-now");
});

test("a slug takes a link's text, not its destination", () => {
  assert.equal(githubSlug("See [the guide](guide.md)"), "see-the-guide");
});

test("a slug keeps letters outside ASCII", () => {
  assert.equal(githubSlug("Überblick für Zürich"), "überblick-für-zürich");
});

test("repeated headings get -1, -2 appended, in order", () => {
  assert.deepEqual(
    headingAnchors("# Usage\n\n## Usage\n\n### Usage\n").map((h) => h.anchor),
    ["usage", "usage-1", "usage-2"],
  );
});

test("a heading inside a fenced code block is not a heading", () => {
  assert.deepEqual(headingAnchors("```sh\n# a comment\n```\n\n# Real\n").map((h) => h.anchor), ["real"]);
});

test("an underlined (setext) heading is a heading", () => {
  assert.deepEqual(headingAnchors("Title\n=====\n\nPart two\n--------\n").map((h) => h.anchor), ["title", "part-two"]);
});

// Links, on fixtures.

async function fixture(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "docs-check-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

async function problemsIn(t: TestContext, files: Record<string, string>): Promise<string[]> {
  return (await checkDocs(await fixture(t, files))).problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
}

test("a link to a file that exists passes", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "See [the guide](docs/guide.md).\n", "docs/guide.md": "# Guide\n" }), []);
});

test("a link to a file that does not exist fails, naming the file and line", async (t) => {
  const problems = await problemsIn(t, { "README.md": "Intro.\n\nSee [the guide](docs/guide.md).\n" });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^README\.md:3: .*docs\/guide\.md does not exist/);
});

test("a link is resolved from the directory of the page it is in", async (t) => {
  assert.deepEqual(await problemsIn(t, { "docs/a.md": "[b](b.md) and [top](../README.md)\n", "docs/b.md": "b\n", "README.md": "r\n" }), []);
});

test("a link to a directory passes", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "[examples](examples/)\n", "examples/x.ts": "" }), []);
});

test("an image whose file does not exist fails", async (t) => {
  assert.equal((await problemsIn(t, { "README.md": "![diagram](img/flow.png)\n" })).length, 1);
});

test("a percent-encoded path resolves to the file it names", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "[notes](my%20notes.md)\n", "my notes.md": "n\n" }), []);
});

test("a link that leaves the repository fails", async (t) => {
  const problems = await problemsIn(t, { "README.md": "[shared](../shared/notes.md)\n" });
  assert.match(problems[0] ?? "", /points outside the repository/);
});

test("an anchor that a heading of the same page has passes", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "# Top\n\nJump to [setup](#set-it-up).\n\n## Set it up\n" }), []);
});

test("an anchor that no heading has fails", async (t) => {
  const problems = await problemsIn(t, { "README.md": "# Top\n\n[setup](#setup)\n" });
  assert.match(problems[0] ?? "", /no heading in this page has the anchor #setup/);
});

test("an anchor into another page is checked against that page's headings", async (t) => {
  const problems = await problemsIn(t, { "README.md": "[ok](docs/a.md#usage) [bad](docs/a.md#install)\n", "docs/a.md": "# Usage\n" });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /no heading in docs\/a\.md has the anchor #install/);
});

test("an anchor that two headings share fails, since the link lands on the first only", async (t) => {
  const problems = await problemsIn(t, { "README.md": "[usage](#usage)\n\n## Usage\n\n## Usage\n" });
  assert.match(problems[0] ?? "", /2 headings in this page claim #usage/);
});

test("repeated headings are not a problem while no link names them", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "## Example\n\n## Example\n" }), []);
});

test("an anchor on a file that is not Markdown must be a line anchor", async (t) => {
  const problems = await problemsIn(t, { "README.md": "[a](src/a.ts#L3) [b](src/a.ts#main)\n", "src/a.ts": "\n\nx\n" });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /src\/a\.ts#main: only #L<line> anchors/);
});

test("an empty link destination fails", async (t) => {
  assert.match((await problemsIn(t, { "README.md": "See [this]().\n" }))[0] ?? "", /empty link destination/);
});

test("an empty anchor fails", async (t) => {
  assert.match((await problemsIn(t, { "README.md": "See [this](#).\n" }))[0] ?? "", /empty anchor/);
});

test("a link without text fails", async (t) => {
  assert.match((await problemsIn(t, { "README.md": "See [](other.md).\n", "other.md": "o\n" }))[0] ?? "", /has no text/);
});

test("a link whose text is a code span has text", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "[`config`](#config)\n\n## `config`\n" }), []);
});

test("a reference link whose definition is missing fails", async (t) => {
  assert.match((await problemsIn(t, { "README.md": "See [the guide][guide].\n" }))[0] ?? "", /reference \[guide\] is not defined/);
});

test("a reference definition's destination is checked like a link", async (t) => {
  const problems = await problemsIn(t, { "README.md": "See [the guide][guide].\n\n[guide]: docs/missing.md\n" });
  assert.match(problems[0] ?? "", /docs\/missing\.md does not exist/);
});

test("a link that wraps onto the next line is found, on the line it starts", async (t) => {
  const problems = await problemsIn(t, { "README.md": "Intro.\n\nThe [whole\nguide](gone.md) is here.\n" });
  assert.match(problems[0] ?? "", /^README\.md:3: /);
});

test("links in fenced code blocks and code spans are not checked", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "```md\n[x](missing.md)\n```\n\nInline `[y](missing.md)` too.\n" }), []);
});

test("links in HTML comments are not checked", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "<!-- [x](missing.md) -->\n" }), []);
});

test("external links are not checked", async (t) => {
  assert.deepEqual(await problemsIn(t, { "README.md": "[site](https://example.com/x.md) [mail](mailto:a@example.com)\n" }), []);
});

test("relative links in HTML are checked", async (t) => {
  assert.match((await problemsIn(t, { "README.md": '<a href="docs/gone.md">gone</a>\n' }))[0] ?? "", /docs\/gone\.md does not exist/);
});

test("node_modules, dist, .venv and .git are not walked", async (t) => {
  const broken = "[x](missing.md)\n";
  assert.deepEqual(
    await problemsIn(t, { "node_modules/p/README.md": broken, "dist/a.md": broken, ".venv/b.md": broken, ".git/c.md": broken, "README.md": "ok\n" }),
    [],
  );
});
