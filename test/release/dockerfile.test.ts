// The container image's Dockerfile (deploy/container/Dockerfile), checked
// without a container engine: dockerfile-utils' linter, and the properties
// Vault's containerized plugins and OpenBao's OCI plugin download rely on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate, ValidationSeverity } from "dockerfile-utils";
import { ROOT } from "../support/paths.ts";
import { ARCHES, artifactName, PLUGIN } from "../../scripts/release.ts";

const DOCKERFILE = join(ROOT, "deploy", "container", "Dockerfile");
const content = readFileSync(DOCKERFILE, "utf8");

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions in order, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + " " + lines[++i]!;
    const m = /^\s*(\S+)\s*(.*)$/.exec(line)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  return out;
}

const all = instructions(content);
const argDefaults = new Map(all.filter((i) => i.keyword === "ARG").map((i) => i.args.split("=") as [string, string?]).map(([k, v]) => [k, v]));
const lastFrom = all.map((i) => i.keyword).lastIndexOf("FROM");
const finalStage = all.slice(lastFrom);
const final = (keyword: string) => finalStage.filter((i) => i.keyword === keyword);

test("dockerfile-utils finds nothing to report, with every optional rule raised to an error", () => {
  const E = ValidationSeverity.ERROR;
  const diagnostics = validate(content, {
    deprecatedMaintainer: E,
    directiveCasing: E,
    emptyContinuationLine: E,
    instructionCasing: E,
    instructionCmdMultiple: E,
    instructionEntrypointMultiple: E,
    instructionHealthcheckMultiple: E,
    instructionJSONInSingleQuotes: E,
    instructionWorkdirRelative: E,
  });
  assert.deepEqual(
    diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
    [],
  );
});

test("the image is built on nothing (scratch): no shell and no package manager in it", () => {
  assert.equal(all[lastFrom]!.args, "scratch");
  assert.deepEqual(final("RUN"), [], "a RUN in the final stage would need a shell in the image");
});

test("the entrypoint is the plugin executable at the image root, in exec form, with no CMD", () => {
  const entrypoints = final("ENTRYPOINT");
  assert.equal(entrypoints.length, 1);
  // Exec form: Vault starts the container's entrypoint directly, with no
  // shell to run a string form, and go-plugin needs the plugin itself as
  // the process that prints the handshake.
  assert.deepEqual(JSON.parse(entrypoints[0]!.args), [`/${PLUGIN}`]);
  assert.deepEqual(final("CMD"), []);
});

test("the executable lies in the image root under the plugin's name, where OpenBao's OCI download looks for binary_name", () => {
  const copies = final("COPY");
  assert.deepEqual(copies.map((c) => c.args), ["--from=rootfs /rootfs/ /"]);
  assert.match(content, new RegExp(`install -m 0555 "\\$exe" /rootfs/${PLUGIN};`));
});

test("the image runs as a non-root user given by number", () => {
  const users = final("USER");
  assert.equal(users.length, 1);
  // A number needs no passwd lookup and lets Kubernetes' runAsNonRoot verify it.
  const [uid, gid] = users[0]!.args.split(":");
  assert.match(uid ?? "", /^\d+$/);
  assert.notEqual(Number(uid), 0);
  assert.match(gid ?? "", /^\d+$/);
  assert.ok(content.includes(`\\nnonroot:x:${uid}:${gid}:`), "the image's passwd names the user");
});

test("the executable is copied from the release, per architecture, and checked against SHA256SUMS", () => {
  const copy = all.find((i) => i.keyword === "COPY" && i.args.includes("SHA256SUMS"));
  assert.ok(copy, "a COPY of SHA256SUMS and the executable");
  const sources = copy.args.split(/\s+/).slice(0, -1);
  const pattern = sources.find((s) => s.startsWith(PLUGIN))!;
  const asRegExp = (arch: string) =>
    new RegExp(`^${pattern.replace("${TARGETARCH}", arch).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
  for (const arch of ARCHES) {
    assert.match(artifactName(arch), asRegExp(arch), `${arch}: the release's executable is what the image takes`);
    assert.doesNotMatch(`${artifactName(arch)}.cdx.json`, asRegExp(arch), `${arch}: not its SBOM`);
  }
  assert.match(content, /\| sha256sum -c -;/);
});

test("every base image is pinned by a tag or a digest, never latest", () => {
  const stages = new Set<string>();
  for (const from of all.filter((i) => i.keyword === "FROM")) {
    const [image = "", , alias] = from.args.split(/\s+/);
    if (alias) stages.add(alias);
    if (image === "scratch" || stages.has(image)) continue;
    const resolved = image.replace(/^\$\{(\w+)\}$/, (_, name: string) => argDefaults.get(name) ?? "");
    assert.match(resolved, /^[\w./-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/, `line ${from.line}: ${image}`);
    assert.ok(/:[\w.-]+|@sha256:/.test(resolved), `line ${from.line}: ${resolved} has no tag or digest`);
    assert.doesNotMatch(resolved, /:latest\b/, `line ${from.line}: ${resolved}`);
  }
});

test("the build proves the assembled image runs: the executable starts as the image's user in the image's own root", () => {
  const run = all.find((i) => i.keyword === "RUN")!;
  const user = final("USER")[0]!.args;
  assert.ok(run.args.trimEnd().endsWith(`chroot --userspec=${user} /rootfs /${PLUGIN} --version`), "the last build step");
  assert.match(run.args, /grep -q 'not found'/, "an unresolved library fails the build");
});
