// Runtime benchmark: start-to-handshake time, storage-backed read round trips
// through OpenBao's HTTP API, and plugin memory with one and ten mounts, for
// our TypeScript plugin beside the Go seed plugin on the same server.
// Prints tables; it asserts nothing (see README: benchmarks never gate tests).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DevServer } from "../scripts/lib/dev-server.ts";
import { goPlugin, pct, root } from "./lib.ts";
import { generatePluginIdentity } from "../packages/sdk/src/runtime/tls.ts";

const bao = join(root, ".venv", "bin", "bao");
const ours = join(root, "dist", "bin", "vault-plugin-example-kv");
const STARTS = Number(process.env["BENCH_STARTS"] ?? 20);
const READS = Number(process.env["BENCH_READS"] ?? 2000);

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;

async function timeToHandshake(path: string): Promise<number[]> {
  const host = await generatePluginIdentity();
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const started = process.hrtime.bigint();
    const child = spawn(path, [], {
      // What the server sets for a v5 launch; a Go plugin without the
      // AutoMTLS flag falls back to the legacy unwrap-token flow.
      env: {
        PATH: process.env["PATH"] ?? "",
        VAULT_BACKEND_PLUGIN: "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
        PLUGIN_PROTOCOL_VERSIONS: "5",
        PLUGIN_CLIENT_CERT: host.certPem,
        VAULT_PLUGIN_AUTOMTLS_ENABLED: "true",
        VAULT_VERSION: "1.21.4",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, "exit").then(() => {
      throw new Error(`${path} exited before its handshake: ${stderr.slice(0, 500)}`);
    });
    await Promise.race([once(createInterface({ input: child.stdout! }), "line"), exited]);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    child.kill("SIGKILL");
    await exited.catch(() => undefined);
  }
  return times.sort((a, b) => a - b);
}

async function roundTrips(server: DevServer, method: string, path: string): Promise<{ p50: number; p99: number; status: number }> {
  const url = `${server.addr}/v1/${path}`;
  let status = 0;
  const run = async () => {
    const t0 = process.hrtime.bigint();
    const res = await fetch(url, { method, headers: { "X-Vault-Token": server.token } });
    await res.arrayBuffer();
    status = res.status;
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (let i = 0; i < 100; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < READS; i++) times.push(await run());
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99), status };
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function main() {
  const seed = goPlugin("vault-plugin-secrets-openai");
  process.stderr.write(`Go plugin: ${seed}\nTypeScript plugin: ${ours}\n`);

  const [tsStart, goStart] = [await timeToHandshake(ours), await timeToHandshake(seed)];

  const server = await DevServer.start("openbao", bao, [ours, seed], { logLevel: "warn" });
  try {
    await server.cliOk(["secrets", "enable", "-path=kv", "vault-plugin-example-kv"]);
    await server.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-openai"]);
    await server.cliOk(["write", "kv/data/bench", "a=1"]);
    const tsGet = await roundTrips(server, "GET", "kv/data/bench");
    const tsEmptyList = await roundTrips(server, "LIST", "kv/revocations/");
    const goEmptyList = await roundTrips(server, "LIST", "openai/roles");
    const builtin = await roundTrips(server, "GET", "sys/mounts/kv");

    const [tsPid] = await server.pluginPids("vault-plugin-example-kv");
    const goPids1 = await server.pluginPids("vault-plugin-secrets-openai");
    const tsOne = rssKb(tsPid!);
    const goOne = goPids1.reduce((s, p) => s + rssKb(p), 0);
    for (let i = 1; i < 10; i++) {
      await server.cliOk(["secrets", "enable", `-path=kv${i}`, "vault-plugin-example-kv"]);
      await server.cliOk(["write", `kv${i}/data/bench`, "a=1"]);
      await server.cliOk(["secrets", "enable", `-path=openai${i}`, "vault-plugin-secrets-openai"]);
      await server.cli(["list", `openai${i}/roles`]);
    }
    const tsPids = await server.pluginPids("vault-plugin-example-kv");
    const goPids = await server.pluginPids("vault-plugin-secrets-openai");
    const tsTen = tsPids.reduce((s, p) => s + rssKb(p), 0);
    const goTen = goPids.reduce((s, p) => s + rssKb(p), 0);

    const out = (s: string) => process.stdout.write(s + "\n");
    out(`\n## Runtime benchmark (OpenBao ${execFileSync(bao, ["version"], { encoding: "utf8" }).split(" ")[1]}, ${STARTS} starts, ${READS} sequential requests per row)\n`);
    out("| measure | TypeScript (example KV) | Go (seed openai plugin) | ratio TS/Go |");
    out("|---|---|---|---|");
    out(`| start to handshake, p50 (min–max) | ${ms(pct(tsStart, 50))} (${ms(tsStart[0]!)}–${ms(tsStart.at(-1)!)}) | ${ms(pct(goStart, 50))} (${ms(goStart[0]!)}–${ms(goStart.at(-1)!)}) | ${(pct(tsStart, 50) / pct(goStart, 50)).toFixed(2)} |`);
    out(`| storage list read via HTTP (empty → 404), p50 | ${ms(tsEmptyList.p50)} | ${ms(goEmptyList.p50)} | ${(tsEmptyList.p50 / goEmptyList.p50).toFixed(2)} |`);
    out(`| storage list read via HTTP (empty → 404), p99 | ${ms(tsEmptyList.p99)} | ${ms(goEmptyList.p99)} | ${(tsEmptyList.p99 / goEmptyList.p99).toFixed(2)} |`);
    out(`| storage get read via HTTP (200), p50 / p99 | ${ms(tsGet.p50)} / ${ms(tsGet.p99)} | – | |`);
    out(`| plugin RSS, one mount | ${mb(tsOne)} (1 process) | ${mb(goOne)} (${goPids1.length} process) | ${(tsOne / goOne).toFixed(2)} |`);
    out(`| plugin RSS, ten mounts | ${mb(tsTen)} (${tsPids.length} process) | ${mb(goTen)} (${goPids.length} processes) | ${(tsTen / goTen).toFixed(2)} |`);
    out(`| ten TS mounts vs one Go process | ${(tsTen / goOne).toFixed(2)}× | | |`);
    out(`\nServer baseline (no plugin, GET sys/mounts/kv): p50 ${ms(builtin.p50)}, p99 ${ms(builtin.p99)}. Statuses: TS list ${tsEmptyList.status}, Go list ${goEmptyList.status}, TS get ${tsGet.status}.`);
  } finally {
    await server.stop();
  }
}

await main();
