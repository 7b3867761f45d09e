// A dev-mode OpenBao or Vault server on a loopback port, with a plugin
// directory holding copies of our executables, driven through its CLI and
// its HTTP API. Each test file starts its own and stops it when done.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export type ServerKind = "openbao" | "vault";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult {
  status: number;
  body: Record<string, unknown> & { data?: Record<string, unknown>; errors?: string[]; warnings?: string[] | null };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export class DevServer {
  readonly kind: ServerKind;
  readonly binary: string;
  readonly addr: string;
  readonly token = "root";
  readonly pluginDir: string;
  readonly workDir: string;
  private child: ChildProcess | undefined;
  private logText = "";

  private constructor(kind: ServerKind, binary: string, addr: string, workDir: string) {
    this.kind = kind;
    this.binary = binary;
    this.addr = addr;
    this.workDir = workDir;
    this.pluginDir = join(workDir, "plugins");
  }

  /**
   * Starts the server; every executable in `plugins` is copied in and registered by the server itself.
   * `config` is extra server configuration (HCL) given with -config beside the dev flags: OpenBao, for
   * one, takes audit devices only from its configuration.
   */
  static async start(kind: ServerKind, binary: string, plugins: string[], options: { logLevel?: string; config?: string } = {}): Promise<DevServer> {
    const workDir = mkdtempSync(join(tmpdir(), `${kind}-e2e-`));
    const port = await freePort();
    const server = new DevServer(kind, binary, `http://127.0.0.1:${port}`, workDir);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(server.pluginDir);
    for (const p of plugins) copyFileSync(p, join(server.pluginDir, basename(p)));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: workDir };
    delete env["VAULT_ADDR"];
    delete env["BAO_ADDR"];
    const extra: string[] = [];
    if (options.config !== undefined) {
      const file = join(workDir, "extra-config.hcl");
      writeFileSync(file, options.config);
      extra.push(`-config=${file}`);
    }
    const child = spawn(
      binary,
      [
        "server",
        "-dev",
        `-dev-root-token-id=${server.token}`,
        `-dev-listen-address=127.0.0.1:${port}`,
        `-dev-plugin-dir=${server.pluginDir}`,
        `-log-level=${options.logLevel ?? "debug"}`,
        ...extra,
      ],
      // Its own process group: a Ctrl-C in the terminal reaches only us, so
      // we can still revoke leases through the server before stopping it.
      { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    server.child = child;
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.removeListener("exit", killOnExit));
    const append = (d: Buffer) => (server.logText += d.toString());
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${kind} server exited with ${child.exitCode}:\n${server.logText}`);
      try {
        const res = await fetch(`${server.addr}/v1/sys/health`);
        if (res.status === 200) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await server.stop();
    throw new Error(`${kind} server did not become healthy within 60 s:\n${server.logText}`);
  }

  get log(): string {
    return this.logText;
  }

  /** Runs the server's own CLI (bao or vault) against it. */
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

  async http(method: string, path: string, body?: unknown, token: string = this.token): Promise<HttpResult> {
    const init: RequestInit = { method, headers: { "X-Vault-Token": token } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    const res = await fetch(`${this.addr}/v1/${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as HttpResult["body"]) : {} };
  }

  /** PIDs of running processes whose executable is the named plugin in this server's plugin dir. */
  async pluginPids(name: string): Promise<number[]> {
    const { readdirSync, readlinkSync } = await import("node:fs");
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

  /** Kills the server the hard way, as a crash or OOM would. */
  kill(): void {
    this.child?.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await Promise.race([new Promise((r) => child.once("exit", r)), new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    writeFileSync(join(tmpdir(), `last-${this.kind}-e2e.log`), this.logText);
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { readFileSync };
