// creds issue and revoke through HashiCorp Vault against the OpenAI Admin API
// and LiteLLM emulators (zero added latency), for our engine and the Go seed
// plugins side by side on the same server and the same emulators. Prints a
// table per provider. A Go plugin that cannot be built here (the Go module
// proxy refuses it) gets its column marked as such.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DevServer } from "../scripts/lib/dev-server.ts";
import { goPlugin, pct, root } from "./lib.ts";

const ours = join(root, "dist", "bin", "vault-plugin-secrets-ai");
const SEQUENTIAL = Number(process.env["BENCH_SEQUENTIAL"] ?? 200);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 10);

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const v = await f();
  return [Number(process.hrtime.bigint() - t0) / 1e6, v];
}

interface Mount {
  label: string;
  path: string;
  plugin: string;
}

function startEmulator(provider: string) {
  const emu = spawn(join(root, "node_modules", ".bin", "node"), [join(root, "tools", "emulators", "main.ts"), "--provider", provider], { stdio: ["ignore", "pipe", "inherit"] });
  return { emu, ready: once(createInterface({ input: emu.stdout! }), "line").then(([line]) => JSON.parse(line as string) as Record<string, unknown>) };
}

function tryGoPlugin(name: string): { path?: string; why?: string } {
  try {
    return { path: goPlugin(name) };
  } catch (err) {
    return { why: `scripts/get-go-plugins.sh ${name} failed (${(err as Error).message.split("\n")[0]}); its Go error is printed above` };
  }
}

async function main() {
  const seedOpenAI = goPlugin("vault-plugin-secrets-openai");
  const seedLiteLLM = tryGoPlugin("vault-plugin-secrets-litellm");
  const openai = startEmulator("openai");
  const litellm = startEmulator("litellm");
  const em = (await openai.ready) as { baseUrl: string; adminKey: string; adminKeyId: string; organizationId: string; projects: Array<{ id: string }> };
  const ll = (await litellm.ready) as { baseUrl: string; masterKey: string };
  // Vault, because the seed plugin's config write fails on OpenBao (it calls
  // Vault's rotation-manager RPCs, which OpenBao does not have).
  const vault = execFileSync("bash", [join(root, "scripts", "get-vault.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
  const plugins = [ours, seedOpenAI, ...(seedLiteLLM.path ? [seedLiteLLM.path] : [])];
  const server = await DevServer.start("vault", vault, plugins, { logLevel: "warn" });
  try {
    const openaiMounts: Mount[] = [
      { label: "TypeScript engine", path: "ts", plugin: "vault-plugin-secrets-ai" },
      { label: "Go seed plugin", path: "go", plugin: "vault-plugin-secrets-openai" },
    ];
    const litellmMounts: Mount[] = [
      { label: "TypeScript engine", path: "tsll", plugin: "vault-plugin-secrets-ai" },
      ...(seedLiteLLM.path ? [{ label: "Go seed plugin", path: "goll", plugin: "vault-plugin-secrets-litellm" }] : []),
    ];
    for (const m of [...openaiMounts, ...litellmMounts]) await server.cliOk(["secrets", "enable", `-path=${m.path}`, m.plugin]);
    for (const m of openaiMounts) {
      await server.cliOk(["write", `${m.path}/config`, `admin_api_key=${em.adminKey}`, `admin_api_key_id=${em.adminKeyId}`, `organization_id=${em.organizationId}`, `api_endpoint=${em.baseUrl}`]);
      await server.cliOk(["write", `${m.path}/roles/bench`, `project_id=${em.projects[0]!.id}`, "ttl=1h", "max_ttl=2h"]);
    }
    for (const m of litellmMounts) {
      // The field names the Go LiteLLM plugin itself takes (our engine takes them as aliases).
      await server.cliOk(["write", `${m.path}/config`, `url=${ll.baseUrl}`, `admin_key=${ll.masterKey}`]);
      await server.cliOk(["write", `${m.path}/roles/bench`, `key_request=${JSON.stringify({ models: ["gpt-4o-mini"], max_budget: 5 })}`, "ttl=1h", "max_ttl=2h"]);
    }
    const out = (s: string) => process.stdout.write(s + "\n");
    await measure(server, "OpenAI", openaiMounts, out);
    await measure(server, "LiteLLM", litellmMounts, out, seedLiteLLM.why);
  } finally {
    await server.stop();
    openai.emu.kill("SIGTERM");
    litellm.emu.kill("SIGTERM");
  }
}

async function measure(server: DevServer, provider: string, mounts: Mount[], out: (s: string) => void, goMissing?: string) {
  const issue = async (m: string) => {
    const res = await server.http("GET", `${m}/creds/bench`);
    if (res.status !== 200) throw new Error(`${m} issue failed: ${res.status} ${JSON.stringify(res.body.errors)}`);
    return String(res.body["lease_id"]);
  };
  const revoke = async (leaseId: string) => {
    const res = await server.http("PUT", "sys/leases/revoke", { lease_id: leaseId, sync: true });
    if (res.status !== 204) throw new Error(`revoke failed: ${res.status}`);
  };
  const rows: Record<string, { issue: number[]; revoke: number[]; rate: Record<number, number> }> = {};
  for (const m of mounts) {
    for (let i = 0; i < 20; i++) await revoke(await issue(m.path));
    const issueT: number[] = [];
    const revokeT: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const [ti, lease] = await timed(() => issue(m.path));
      const [tr] = await timed(() => revoke(lease));
      issueT.push(ti);
      revokeT.push(tr);
    }
    issueT.sort((a, b) => a - b);
    revokeT.sort((a, b) => a - b);
    rows[m.label] = { issue: issueT, revoke: revokeT, rate: {} };
  }
  for (const clients of [1, 8, 32]) {
    for (const m of mounts) {
      const deadline = Date.now() + SECONDS * 1000;
      let issued = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (Date.now() < deadline) {
            await issue(m.path);
            issued++;
          }
        }),
      );
      rows[m.label]!.rate[clients] = issued / SECONDS;
      await server.cliOk(["lease", "revoke", "-sync", "-prefix", `${m.path}/creds/`]);
    }
  }
  const ts = rows["TypeScript engine"]!;
  const go = rows["Go seed plugin"];
  out(`\n## ${provider}: creds through Vault against the emulator (${SEQUENTIAL} sequential issue+revoke pairs; ${SECONDS} s per concurrency level)\n`);
  out("| measure | TypeScript engine | Go seed plugin | ratio TS/Go |");
  out("|---|---|---|---|");
  const cell = (v: number | undefined, f: (v: number) => string) => (v === undefined ? "–" : f(v));
  const ratio = (a: number, b: number | undefined) => (b === undefined ? "–" : (a / b).toFixed(2));
  const p = (list: number[] | undefined, q: number) => (list ? pct(list, q) : undefined);
  for (const [name, key, q] of [["issue p50", "issue", 50], ["issue p99", "issue", 99], ["revoke p50", "revoke", 50], ["revoke p99", "revoke", 99]] as const) {
    const a = pct(ts[key], q);
    const b = p(go?.[key], q);
    out(`| ${name} | ${ms(a)} | ${cell(b, ms)} | ${ratio(a, b)} |`);
  }
  for (const c of [1, 8, 32]) out(`| keys issued per second, ${c} client${c > 1 ? "s" : ""} | ${ts.rate[c]!.toFixed(1)} | ${cell(go?.rate[c], (v) => v.toFixed(1))} | ${ratio(ts.rate[c]!, go?.rate[c])} |`);
  if (!go && goMissing) out(`\nGo seed plugin: not measured, it cannot be built here: ${goMissing}`);
}

await main();
