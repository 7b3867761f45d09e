// creds issue and revoke through HashiCorp Vault against the OpenAI Admin API
// emulator (zero added latency), for our engine and the seed Go plugin side
// by side on the same server and the same emulator. Prints a table.
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

async function main() {
  const seed = goPlugin("vault-plugin-secrets-openai");
  const emu = spawn(join(root, "node_modules", ".bin", "node"), [join(root, "tools", "emulators", "main.ts"), "--provider", "openai"], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(createInterface({ input: emu.stdout! }), "line")) as [string];
  const em = JSON.parse(line) as { baseUrl: string; adminKey: string; adminKeyId: string; organizationId: string; projects: Array<{ id: string }> };
  // Vault, because the seed plugin's config write fails on OpenBao (it calls
  // Vault's rotation-manager RPCs, which OpenBao does not have).
  const vault = execFileSync("bash", [join(root, "scripts", "get-vault.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
  const server = await DevServer.start("vault", vault, [ours, seed], { logLevel: "warn" });
  try {
    const mounts = { TypeScript: "ts", Go: "go" } as const;
    await server.cliOk(["secrets", "enable", "-path=ts", "vault-plugin-secrets-ai"]);
    await server.cliOk(["secrets", "enable", "-path=go", "vault-plugin-secrets-openai"]);
    for (const m of Object.values(mounts)) {
      await server.cliOk(["write", `${m}/config`, `admin_api_key=${em.adminKey}`, `admin_api_key_id=${em.adminKeyId}`, `organization_id=${em.organizationId}`, `api_endpoint=${em.baseUrl}`]);
      await server.cliOk(["write", `${m}/roles/bench`, `project_id=${em.projects[0]!.id}`, "ttl=1h", "max_ttl=2h"]);
    }
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
    for (const [label, m] of Object.entries(mounts)) {
      for (let i = 0; i < 20; i++) await revoke(await issue(m));
      const issueT: number[] = [];
      const revokeT: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const [ti, lease] = await timed(() => issue(m));
        const [tr] = await timed(() => revoke(lease));
        issueT.push(ti);
        revokeT.push(tr);
      }
      issueT.sort((a, b) => a - b);
      revokeT.sort((a, b) => a - b);
      rows[label] = { issue: issueT, revoke: revokeT, rate: {} };
    }
    for (const clients of [1, 8, 32]) {
      for (const [label, m] of Object.entries(mounts)) {
        const deadline = Date.now() + SECONDS * 1000;
        let issued = 0;
        await Promise.all(
          Array.from({ length: clients }, async () => {
            while (Date.now() < deadline) {
              await issue(m);
              issued++;
            }
          }),
        );
        rows[label]!.rate[clients] = issued / SECONDS;
        await server.cliOk(["lease", "revoke", "-sync", "-prefix", `${m}/creds/`]);
      }
    }
    const out = (s: string) => process.stdout.write(s + "\n");
    const ts = rows["TypeScript"]!;
    const go = rows["Go"]!;
    out(`\n## creds through Vault against the OpenAI emulator (${SEQUENTIAL} sequential issue+revoke pairs; ${SECONDS} s per concurrency level)\n`);
    out("| measure | TypeScript engine | Go seed plugin | ratio TS/Go |");
    out("|---|---|---|---|");
    for (const [name, a, b] of [["issue p50", pct(ts.issue, 50), pct(go.issue, 50)], ["issue p99", pct(ts.issue, 99), pct(go.issue, 99)], ["revoke p50", pct(ts.revoke, 50), pct(go.revoke, 50)], ["revoke p99", pct(ts.revoke, 99), pct(go.revoke, 99)]] as const) {
      out(`| ${name} | ${ms(a)} | ${ms(b)} | ${(a / b).toFixed(2)} |`);
    }
    for (const c of [1, 8, 32]) out(`| keys issued per second, ${c} client${c > 1 ? "s" : ""} | ${ts.rate[c]!.toFixed(1)} | ${go.rate[c]!.toFixed(1)} | ${(ts.rate[c]! / go.rate[c]!).toFixed(2)} |`);
  } finally {
    await server.stop();
    emu.kill("SIGTERM");
  }
}

await main();
