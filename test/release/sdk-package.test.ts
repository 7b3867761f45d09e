// The SDK's npm package, made as `npm run release` makes it, checked the way a
// user meets it: what the tarball holds, and a project outside this
// repository that installs it, runs it with plain Node and type-checks
// against its declarations.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "../support/paths.ts";
import { startPlugin } from "../support/plugin-process.ts";
import { buildSdkPackage } from "../../scripts/release.ts";

const SDK_DIR = join(ROOT, "packages", "sdk");
const workspace = JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8")) as { name: string; version: string; license: string; dependencies: Record<string, string> };
const TSC = join(ROOT, "node_modules", ".bin", "tsc");

interface Manifest {
  name: string;
  version: string;
  license: string;
  type: string;
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  scripts?: unknown;
  devDependencies?: unknown;
}

let dir: string;
let files: string[];
let manifest: Manifest;
let project: string;
let installed: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sdk-package-"));
  const tarball = buildSdkPackage(join(dir, "stage"), join(dir, "packed"));
  files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n").sort();
  // A user's project: the package unpacked where npm would put it, its
  // dependencies linked from this workspace (the same locked versions, no network).
  project = join(dir, "project");
  installed = join(project, "node_modules", "@vault-plugin-ai", "sdk");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Manifest;
  for (const dep of [...Object.keys(manifest.dependencies), "@types/node"]) {
    mkdirSync(dirname(join(project, "node_modules", dep)), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", dep), join(project, "node_modules", dep));
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sdkModules(at = join(SDK_DIR, "src"), prefix = ""): string[] {
  return readdirSync(at, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sdkModules(join(at, e.name), `${prefix}${e.name}/`) : e.name.endsWith(".ts") ? [`${prefix}${e.name.slice(0, -3)}`] : [],
  );
}

test("the tarball holds package.json, README, CHANGELOG and a .js and .d.ts for each SDK module: no sources, tests or protos", () => {
  const expected = [
    "package/package.json",
    "package/README.md",
    "package/CHANGELOG.md",
    ...(existsSync(join(ROOT, "LICENSE")) ? ["package/LICENSE"] : []),
    ...sdkModules().flatMap((m) => [`package/dist/${m}.js`, `package/dist/${m}.d.ts`]),
  ].sort();
  assert.deepEqual(files, expected);
  // The generated protocol code ships too (compiled), as the runtime imports it.
  assert.ok(files.includes("package/dist/proto/pb/backend.js"));
});

test("both entry points map to shipped declarations and JavaScript", () => {
  assert.deepEqual(manifest.exports, {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./testing": { types: "./dist/testing/index.d.ts", default: "./dist/testing/index.js" },
    "./package.json": "./package.json",
  });
  for (const f of ["dist/index.d.ts", "dist/index.js", "dist/testing/index.d.ts", "dist/testing/index.js"]) assert.ok(files.includes(`package/${f}`), f);
});

test("package.json carries the workspace's name, version, license and runtime dependencies, and nothing for development", () => {
  assert.equal(manifest.name, workspace.name);
  assert.equal(manifest.version, workspace.version);
  assert.equal(manifest.license, workspace.license);
  assert.equal(manifest.type, "module");
  assert.deepEqual(manifest.dependencies, workspace.dependencies);
  assert.equal(manifest.scripts, undefined);
  assert.equal(manifest.devDependencies, undefined);
});

test("the README is the workspace's guide, and the changelog has an entry for this version", () => {
  assert.equal(readFileSync(join(installed, "README.md"), "utf8"), readFileSync(join(SDK_DIR, "README.md"), "utf8"));
  assert.match(readFileSync(join(installed, "CHANGELOG.md"), "utf8"), new RegExp(`^## ${workspace.version.replaceAll(".", "\\.")}$`, "m"));
});

test("the declarations import the shipped .js files, never the .ts sources", () => {
  for (const f of files.filter((f) => f.endsWith(".d.ts"))) {
    const text = readFileSync(join(installed, f.slice("package/".length)), "utf8");
    assert.doesNotMatch(text, /(?:from|import)\s*\(?\s*["']\.\.?\/[^"']*\.ts["']/, f);
  }
});

test("a project imports both entry points with plain Node and runs a backend through the test kit", () => {
  writeFileSync(
    join(project, "echo.mjs"),
    `import { defineBackend, invalidRequest, LogicalError } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
const factory = defineBackend({
  help: "Echo.",
  paths: [{
    pattern: "echo/<name>",
    fields: { name: { type: "name-string" }, times: { type: "int", default: 1 } },
    operations: {
      update: ({ fields }) => {
        if (fields.number("times") > 3) throw invalidRequest("too many");
        return { data: { said: fields.string("name").repeat(fields.number("times")) } };
      },
    },
  }],
}, () => ({}));
const tb = await TestBackend.create(factory);
const ok = await tb.write("echo/ab", { times: "2" });
const refused = await tb.write("echo/ab", { times: 9 }).then(
  () => "accepted",
  (err) => (err instanceof LogicalError ? err.status : String(err)),
);
console.log(JSON.stringify({ said: ok?.data?.said, refused }));
`,
  );
  const r = spawnSync(process.execPath, ["--no-experimental-strip-types", "echo.mjs"], { cwd: project, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { said: "abab", refused: 400 });
});

test("a plugin made with the installed package completes go-plugin's handshake, offering its TLS certificate", async () => {
  const main = join(project, "plugin.mjs");
  writeFileSync(
    main,
    `#!${process.execPath} --no-experimental-strip-types
import { defineBackend, serve } from "@vault-plugin-ai/sdk";
const factory = defineBackend({ help: "Nothing.", paths: [] }, () => ({}));
process.exitCode = await serve({ name: "consumer-plugin", version: "v1.2.3", factory });
`,
  );
  chmodSync(main, 0o755);
  const plugin = await startPlugin(main);
  try {
    assert.equal(plugin.handshake.coreVersion, "1");
    assert.equal(plugin.handshake.protocolVersion, "5");
    assert.equal(plugin.handshake.network, "unix");
    assert.equal(plugin.handshake.protocol, "grpc");
    assert.ok(plugin.handshake.serverCertDer.length > 100, "the handshake carries the plugin's certificate");
  } finally {
    plugin.child.kill("SIGKILL");
    await plugin.exited;
  }
});

function typeCheck(name: string, source: string): { status: number | null; output: string } {
  const sub = join(project, name);
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, "consumer.ts"), source);
  writeFileSync(
    join(sub, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, types: ["node"], skipLibCheck: false },
      files: ["consumer.ts"],
    }),
  );
  const r = spawnSync(TSC, ["-p", join(sub, "tsconfig.json")], { encoding: "utf8" });
  return { status: r.status, output: r.stdout + r.stderr };
}

test("the README's plugin and its test type-check against the shipped declarations (strict, library checks on)", () => {
  const readme = readFileSync(join(SDK_DIR, "README.md"), "utf8");
  const [plugin, testCode] = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(plugin && testCode, "the README has the plugin and its test");
  const imports = testCode.match(/^import .*$/gm) ?? [];
  const source = `${imports.join("\n")}\n${plugin}\n${testCode.replace(/^import .*$/gm, "")}`;
  const r = typeCheck("readme", source);
  assert.equal(r.status, 0, r.output);
});

test("the shipped declarations are real types: a consumer's misuse fails to type-check", () => {
  const r = typeCheck(
    "misuse",
    `import { defineBackend } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
const factory = defineBackend({ help: "x", paths: [{ pattern: "p", fields: { n: { type: "no-such-type" } }, operations: {} }] }, () => ({}));
void TestBackend.create(factory).then((tb) => tb.read(42));
`,
  );
  assert.notEqual(r.status, 0);
  assert.match(r.output, /consumer\.ts\(3,\d+\): error TS2322/);
  assert.match(r.output, /consumer\.ts\(4,\d+\): error TS2345/);
});

test("npm pack in the workspace's packages/sdk is refused: its exports are TypeScript sources", () => {
  const r = spawnSync("npm", ["pack", "--dry-run"], { cwd: SDK_DIR, encoding: "utf8" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /npm run release/);
});
