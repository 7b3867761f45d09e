// A real OpenBao (or Vault) cluster on loopback: N server processes with
// integrated storage (raft), initialised with one unseal key, every node
// unsealed and joined, our executables in every node's plugin directory.
// Nodes can be killed the hard way and started again on the same data, to
// test failover. Used by the HA reliability tests.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { freePort, type CliResult, type HttpResult, type ServerKind } from "./dev-server.ts";

const execFileAsync = promisify(execFile);

export interface RaftClusterOptions {
  nodes?: number;
  logLevel?: string;
  /**
   * Raft's timing multiplier: 1 is the tightest (and what a test wants, so a
   * failover takes seconds); servers default to 5 when unset.
   */
  performanceMultiplier?: number;
  /** Extra top-level HCL lines for every node's configuration. */
  extraConfig?: string;
}

export class RaftNode {
  readonly name: string;
  readonly addr: string;
  readonly clusterAddr: string;
  readonly dir: string;
  readonly pluginDir: string;
  readonly configFile: string;
  child: ChildProcess | undefined;
  logText = "";

  constructor(name: string, addr: string, clusterAddr: string, dir: string) {
    this.name = name;
    this.addr = addr;
    this.clusterAddr = clusterAddr;
    this.dir = dir;
    this.pluginDir = join(dir, "plugins");
    this.configFile = join(dir, "config.hcl");
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}

export interface LeaderInfo {
  ha_enabled: boolean;
  is_self: boolean;
  leader_address: string;
  leader_cluster_address: string;
  active_time?: string;
}

export class RaftCluster {
  readonly kind: ServerKind;
  readonly binary: string;
  readonly nodes: RaftNode[];
  readonly workDir: string;
  token = "";
  unsealKey = "";
  private readonly options: RaftClusterOptions;

  private constructor(kind: ServerKind, binary: string, workDir: string, nodes: RaftNode[], options: RaftClusterOptions) {
    this.kind = kind;
    this.binary = binary;
    this.workDir = workDir;
    this.nodes = nodes;
    this.options = options;
  }

  /** Starts, initialises, unseals and joins every node; the first node is the first leader. */
  static async start(kind: ServerKind, binary: string, plugins: string[], options: RaftClusterOptions = {}): Promise<RaftCluster> {
    const count = options.nodes ?? 3;
    const workDir = mkdtempSync(join(tmpdir(), `${kind}-raft-`));
    const nodes: RaftNode[] = [];
    for (let i = 1; i <= count; i++) {
      const dir = join(workDir, `node${i}`);
      const node = new RaftNode(`node${i}`, `http://127.0.0.1:${await freePort()}`, `https://127.0.0.1:${await freePort()}`, dir);
      mkdirSync(join(dir, "raft"), { recursive: true });
      mkdirSync(node.pluginDir);
      for (const p of plugins) copyFileSync(p, join(node.pluginDir, basename(p)));
      nodes.push(node);
    }
    const cluster = new RaftCluster(kind, binary, workDir, nodes, options);
    try {
      for (const node of nodes) cluster.writeConfig(node);
      const [first, ...rest] = nodes as [RaftNode, ...RaftNode[]];
      await cluster.spawn(first);
      const init = JSON.parse(await cluster.cliOk(first, ["operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json"], false)) as {
        unseal_keys_b64: string[];
        root_token: string;
      };
      cluster.unsealKey = init.unseal_keys_b64[0] ?? "";
      cluster.token = init.root_token;
      await cluster.unseal(first);
      await cluster.waitActive(first);
      // Autopilot keeps a new node a non-voter until it has been healthy this
      // long (10 s by default); a test cluster need not wait.
      await cluster.cliOk(first, ["operator", "raft", "autopilot", "set-config", "-server-stabilization-time=1s"]);
      for (const node of rest) {
        await cluster.spawn(node);
        await cluster.cliOk(node, ["operator", "raft", "join", first.addr], false);
        await cluster.unseal(node);
      }
      // Every node is a voter and healthy before anything else happens.
      await cluster.waitUntil("every node to join the raft configuration", async () => {
        const res = await cluster.http(first, "GET", "sys/storage/raft/configuration");
        const servers = ((res.body.data?.["config"] as { servers?: Array<{ node_id: string; voter: boolean }> } | undefined)?.servers ?? []).filter((s) => s.voter);
        return servers.length === count ? true : undefined;
      }, 60_000);
      for (const node of rest) await cluster.waitUntil(`${node.name} to be an unsealed standby`, async () => ((await cluster.health(node)) === "standby" ? true : undefined), 60_000);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private writeConfig(node: RaftNode): void {
    const port = new URL(node.addr).port;
    const clusterPort = new URL(node.clusterAddr).port;
    const multiplier = this.options.performanceMultiplier ?? 1;
    writeFileSync(
      node.configFile,
      [
        `storage "raft" {`,
        `  path = "${join(node.dir, "raft")}"`,
        `  node_id = "${node.name}"`,
        `  performance_multiplier = ${multiplier}`,
        `}`,
        `listener "tcp" {`,
        `  address = "127.0.0.1:${port}"`,
        `  cluster_address = "127.0.0.1:${clusterPort}"`,
        `  tls_disable = true`,
        `}`,
        `api_addr = "${node.addr}"`,
        `cluster_addr = "${node.clusterAddr}"`,
        `plugin_directory = "${node.pluginDir}"`,
        `disable_mlock = true`,
        `ui = false`,
        this.options.extraConfig ?? "",
      ].join("\n") + "\n",
    );
  }

  private async spawn(node: RaftNode): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: node.dir };
    for (const k of ["VAULT_ADDR", "BAO_ADDR", "VAULT_TOKEN", "BAO_TOKEN"]) delete env[k];
    const child = spawn(this.binary, ["server", `-config=${node.configFile}`, `-log-level=${this.options.logLevel ?? "info"}`], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    node.child = child;
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.removeListener("exit", killOnExit));
    const append = (d: Buffer) => {
      node.logText += d.toString();
      // A long soak must not grow the test process without bound.
      if (node.logText.length > 4_000_000) node.logText = node.logText.slice(-2_000_000);
    };
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    await this.waitUntil(`${node.name} to listen`, async () => {
      if (!node.running) throw new Error(`${node.name} exited with ${child.exitCode ?? child.signalCode}:\n${node.logText}`);
      try {
        await fetch(`${node.addr}/v1/sys/health`);
        return true;
      } catch {
        return undefined;
      }
    }, 60_000);
  }

  async unseal(node: RaftNode): Promise<void> {
    await this.cliOk(node, ["operator", "unseal", this.unsealKey], false);
  }

  /** "active", "standby", "sealed", "uninitialized", or "down", from the node's own health endpoint. */
  async health(node: RaftNode): Promise<string> {
    if (!node.running) return "down";
    try {
      const res = await fetch(`${node.addr}/v1/sys/health?standbyok=true&perfstandbyok=true`);
      const body = (await res.json()) as { initialized?: boolean; sealed?: boolean; standby?: boolean };
      if (!body.initialized) return "uninitialized";
      if (body.sealed) return "sealed";
      return body.standby ? "standby" : "active";
    } catch {
      return "down";
    }
  }

  private async waitActive(node: RaftNode): Promise<void> {
    await this.waitUntil(`${node.name} to become active`, async () => ((await this.health(node)) === "active" ? true : undefined), 60_000);
  }

  /** The node that is active now, asking the running nodes; waits until one is. */
  async leader(timeoutMs = 60_000): Promise<RaftNode> {
    return this.waitUntil("an active node", async () => {
      for (const node of this.nodes) if ((await this.health(node)) === "active") return node;
      return undefined;
    }, timeoutMs);
  }

  /** Running nodes other than the active one. */
  async standbys(): Promise<RaftNode[]> {
    const out: RaftNode[] = [];
    for (const node of this.nodes) if ((await this.health(node)) === "standby") out.push(node);
    return out;
  }

  /** sys/leader as one node sees it. */
  async leaderSeenBy(node: RaftNode): Promise<LeaderInfo | undefined> {
    try {
      const res = await fetch(`${node.addr}/v1/sys/leader`);
      return res.status === 200 ? ((await res.json()) as LeaderInfo) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kills a node as a crash or an OOM kill would: SIGKILL, no chance to step down. */
  async kill(node: RaftNode): Promise<void> {
    const child = node.child;
    if (!child || !node.running) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Starts a stopped node again on its data directory and unseals it; it rejoins as a standby. */
  async restart(node: RaftNode): Promise<void> {
    if (node.running) throw new Error(`${node.name} is still running`);
    await this.spawn(node);
    await this.unseal(node);
    await this.waitUntil(`${node.name} to be unsealed again`, async () => {
      const h = await this.health(node);
      return h === "standby" || h === "active" ? true : undefined;
    }, 60_000);
  }

  async cli(node: RaftNode, args: string[], withToken = true): Promise<CliResult> {
    const prefix = this.kind === "openbao" ? "BAO" : "VAULT";
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: node.dir, [`${prefix}_ADDR`]: node.addr };
    if (withToken) env[`${prefix}_TOKEN`] = this.token;
    try {
      const { stdout, stderr } = await execFileAsync(this.binary, args, { env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
    }
  }

  async cliOk(node: RaftNode, args: string[], withToken = true): Promise<string> {
    const r = await this.cli(node, args, withToken);
    if (r.code !== 0) {
      // Arguments may carry credentials (key=value writes, unseal keys): show their shape only.
      const shown = args.map((a, i) => (args[i - 1] === "unseal" ? "…" : a.replace(/^([\w-]+)=.*$/, "$1=…")));
      throw new Error(`${basename(this.binary)} ${shown.join(" ")} on ${node.name} failed (${r.code}): ${r.stderr}`);
    }
    return r.stdout;
  }

  async http(node: RaftNode, method: string, path: string, body?: unknown): Promise<HttpResult> {
    const init: RequestInit = { method, headers: { "X-Vault-Token": this.token } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    const res = await fetch(`${node.addr}/v1/${path}`, init);
    const text = await res.text();
    let parsed: HttpResult["body"] = {};
    if (text) {
      try {
        parsed = JSON.parse(text) as HttpResult["body"];
      } catch {
        parsed = { errors: [text.slice(0, 500)] };
      }
    }
    return { status: res.status, body: parsed };
  }

  /** Registers an executable, already in every node's plugin directory, in the (replicated) catalog. */
  async registerPlugin(node: RaftNode, type: "secret" | "auth", name: string, sha256: string): Promise<void> {
    await this.cliOk(node, ["plugin", "register", `-sha256=${sha256}`, `-command=${name}`, type, name]);
  }

  /** PIDs of the running processes of the named plugin executable in this node's plugin directory. */
  pluginPids(node: RaftNode, name: string): number[] {
    const target = join(node.pluginDir, name);
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/exe`) === target) pids.push(Number(entry));
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  }

  async waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Every node's log, for a failure message or a post-mortem file. */
  logs(): string {
    return this.nodes.map((n) => `===== ${n.name} =====\n${n.logText}`).join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.child;
        if (!child || !node.running) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (node.running) child.kill("SIGKILL");
      }),
    );
    writeFileSync(join(tmpdir(), `last-${this.kind}-raft.log`), this.logs());
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
