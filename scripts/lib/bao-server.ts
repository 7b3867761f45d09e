// A production-mode (non-dev) OpenBao or Vault server on a loopback port:
// single-node integrated storage (raft; OpenBao 2 has no file storage) that
// survives a restart, a real plugin catalog with our executables registered
// by sha256, initialised with one unseal key. The server can be stopped,
// killed and started again on the same data, and must then be unsealed
// again, as in production. Used by the restart reliability tests.
// (scripts/lib/raft-cluster.ts is the multi-node counterpart.)
//
//   const server = await BaoServer.start("openbao", BAO, [AI_PLUGIN]);
//   await server.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-ai"]);
//   await server.stop();            // SIGTERM; or server.kill() for SIGKILL
//   await server.restart();         // same data, unsealed again
//   await server.destroy();         // stops it and removes its directory
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { freePort, type CliResult, type HttpResult, type ServerKind } from "./dev-server.ts";

const execFileAsync = promisify(execFile);

export interface BaoServerOptions {
  /** Server log level (default "debug", which includes the plugins' own log lines). */
  logLevel?: string;
  /** Enables sys/raw, for tests that inspect or age storage entries (default true). */
  rawStorageEndpoint?: boolean;
  /** Extra top-level HCL lines for the configuration file. */
  extraConfig?: string;
  /** Registers every plugin in the catalog after the first unseal (default true). */
  registerPlugins?: boolean;
}

export type Health = "active" | "standby" | "sealed" | "uninitialized" | "down";

export class BaoServer {
  readonly kind: ServerKind;
  readonly binary: string;
  readonly addr: string;
  readonly workDir: string;
  readonly pluginDir: string;
  readonly dataDir: string;
  readonly configFile: string;
  /** The root token from initialisation. */
  token = "";
  /** The single unseal key (base64) from initialisation. */
  unsealKey = "";
  private readonly options: BaoServerOptions;
  private readonly plugins: string[];
  private child: ChildProcess | undefined;
  private logText = "";

  private constructor(kind: ServerKind, binary: string, addr: string, workDir: string, plugins: string[], options: BaoServerOptions) {
    this.kind = kind;
    this.binary = binary;
    this.addr = addr;
    this.workDir = workDir;
    this.pluginDir = join(workDir, "plugins");
    this.dataDir = join(workDir, "data");
    this.configFile = join(workDir, "config.hcl");
    this.plugins = plugins;
    this.options = options;
  }

  /**
   * Writes the configuration, starts the server, initialises it with one
   * unseal key, unseals it and registers every executable in `plugins` in
   * the catalog as a secrets plugin named after its file.
   */
  static async start(kind: ServerKind, binary: string, plugins: string[], options: BaoServerOptions = {}): Promise<BaoServer> {
    const workDir = mkdtempSync(join(tmpdir(), `${kind}-server-`));
    const server = new BaoServer(kind, binary, `http://127.0.0.1:${await freePort()}`, workDir, plugins, options);
    try {
      mkdirSync(server.pluginDir);
      mkdirSync(server.dataDir);
      for (const p of plugins) copyFileSync(p, join(server.pluginDir, basename(p)));
      server.writeConfig(await freePort());
      await server.spawn();
      const init = await server.http("PUT", "sys/init", { secret_shares: 1, secret_threshold: 1 }, "");
      if (init.status !== 200) throw new Error(`initialisation failed (${init.status}): ${JSON.stringify(init.body)}`);
      server.unsealKey = String((init.body["keys_base64"] as string[] | undefined)?.[0] ?? "");
      server.token = String(init.body["root_token"] ?? "");
      await server.unseal();
      if (options.registerPlugins !== false) for (const p of plugins) await server.registerPlugin(basename(p));
      return server;
    } catch (err) {
      await server.destroy();
      throw err;
    }
  }

  private writeConfig(clusterPort: number): void {
    const port = new URL(this.addr).port;
    writeFileSync(
      this.configFile,
      [
        `storage "raft" {`,
        `  path = "${this.dataDir}"`,
        `  node_id = "node1"`,
        `}`,
        `listener "tcp" {`,
        `  address = "127.0.0.1:${port}"`,
        `  cluster_address = "127.0.0.1:${clusterPort}"`,
        `  tls_disable = true`,
        `}`,
        `api_addr = "${this.addr}"`,
        `cluster_addr = "https://127.0.0.1:${clusterPort}"`,
        `plugin_directory = "${this.pluginDir}"`,
        // OpenBao dropped mlock and refuses the setting; Vault needs it off to run unprivileged.
        this.kind === "vault" ? `disable_mlock = true` : "",
        `ui = false`,
        `raw_storage_endpoint = ${this.options.rawStorageEndpoint ?? true}`,
        this.options.extraConfig ?? "",
      ].join("\n") + "\n",
    );
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the server wrote to stdout and stderr since it was first started (the plugins' log lines included). */
  get log(): string {
    return this.logText;
  }

  private async spawn(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.workDir };
    for (const k of ["VAULT_ADDR", "BAO_ADDR", "VAULT_TOKEN", "BAO_TOKEN"]) delete env[k];
    // Its own process group, as DevServer's: a Ctrl-C reaches only the test.
    const child = spawn(this.binary, ["server", `-config=${this.configFile}`, `-log-level=${this.options.logLevel ?? "debug"}`], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.removeListener("exit", killOnExit));
    const append = (d: Buffer) => {
      this.logText += d.toString();
      // A long soak must not grow the test process without bound.
      if (this.logText.length > 8_000_000) this.logText = this.logText.slice(-4_000_000);
    };
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    await waitUntil("the server to listen", 60_000, async () => {
      if (!this.running) throw new Error(`${this.kind} server exited with ${child.exitCode ?? child.signalCode}:\n${this.logText.slice(-4000)}`);
      return (await this.health()) === "down" ? undefined : true;
    });
  }

  /** The server's state from its unauthenticated health endpoint. */
  async health(): Promise<Health> {
    if (!this.running) return "down";
    try {
      const res = await fetch(`${this.addr}/v1/sys/health?standbyok=true&perfstandbyok=true`);
      const body = (await res.json()) as { initialized?: boolean; sealed?: boolean; standby?: boolean };
      if (!body.initialized) return "uninitialized";
      if (body.sealed) return "sealed";
      return body.standby ? "standby" : "active";
    } catch {
      return "down";
    }
  }

  /** Unseals with the key from initialisation and waits until the server is active. */
  async unseal(): Promise<void> {
    const res = await this.http("PUT", "sys/unseal", { key: this.unsealKey }, "");
    if (res.status !== 200) throw new Error(`unseal failed (${res.status}): ${JSON.stringify(res.body.errors)}`);
    await waitUntil("the server to become active", 60_000, async () => ((await this.health()) === "active" ? true : undefined));
  }

  /** Registers an executable in the plugin directory by its sha256, as an operator would. */
  async registerPlugin(name: string, type: "secret" | "auth" = "secret"): Promise<void> {
    const sha256 = createHash("sha256").update(readFileSync(join(this.pluginDir, name))).digest("hex");
    const res = await this.http("PUT", `sys/plugins/catalog/${type}/${name}`, { sha256, command: name });
    if (res.status >= 300) throw new Error(`registering ${name} failed (${res.status}): ${JSON.stringify(res.body.errors)}`);
  }

  /** Stops the server with SIGTERM (a clean shutdown: it seals itself); SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.running) {
      child.kill("SIGKILL");
      await exited;
    }
  }

  /** Kills the server as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Starts a stopped server again on its data and unseals it. */
  async restart(): Promise<void> {
    if (this.running) throw new Error("the server is still running");
    await this.spawn();
    await this.unseal();
  }

  /** Stops the server, keeps its log in the temp directory, and removes its files. */
  async destroy(): Promise<void> {
    if (this.running) await this.stop();
    writeFileSync(join(tmpdir(), `last-${this.kind}-server.log`), this.logText);
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Runs the server's own CLI (bao or vault) against it, with the root token. */
  async cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const prefix = this.kind === "openbao" ? "BAO" : "VAULT";
    try {
      const { stdout, stderr } = await execFileAsync(this.binary, args, {
        env: { ...process.env, HOME: this.workDir, [`${prefix}_ADDR`]: this.addr, [`${prefix}_TOKEN`]: this.token, ...env },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
    }
  }

  async cliOk(args: string[], env: Record<string, string> = {}): Promise<string> {
    const r = await this.cli(args, env);
    if (r.code !== 0) {
      // Arguments may carry credentials (key=value writes): show their names only.
      const shown = args.map((a) => a.replace(/^([\w-]+)=.*$/, "$1=…"));
      throw new Error(`${basename(this.binary)} ${shown.join(" ")} failed (${r.code}): ${r.stderr}`);
    }
    return r.stdout;
  }

  /** One request to the HTTP API; a body that is not JSON comes back as the single error. */
  async http(method: string, path: string, body?: unknown, token: string = this.token): Promise<HttpResult> {
    const headers: Record<string, string> = token ? { "X-Vault-Token": token } : {};
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const res = await fetch(`${this.addr}/v1/${path}`, init);
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

  /** PIDs of running processes whose executable is the named plugin in this server's plugin directory. */
  pluginPids(name: string): number[] {
    const target = join(this.pluginDir, name);
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
}

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
