// Starts a plugin executable the way go-plugin's client does, for tests that
// check the process's own behaviour (handshake, TLS, shutdown) without a server.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { generatePluginIdentity, type PluginIdentity } from "../../packages/sdk/src/runtime/tls.ts";

export const BACKEND_COOKIE = { VAULT_BACKEND_PLUGIN: "6669da05-b1c8-4f49-97d9-c8e5bed98e20" };

export interface Handshake {
  line: string;
  coreVersion: string;
  protocolVersion: string;
  network: string;
  address: string;
  protocol: string;
  serverCertDer: Buffer;
  extra: string[];
}

export interface StartedPlugin {
  child: ChildProcess;
  handshake: Handshake;
  host: PluginIdentity;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function parseHandshake(line: string): Handshake {
  const parts = line.trim().split("|");
  const [coreVersion = "", protocolVersion = "", network = "", address = "", protocol = "", cert = "", ...extra] = parts;
  return { line: line.trim(), coreVersion, protocolVersion, network, address, protocol, serverCertDer: Buffer.from(cert, "base64"), extra };
}

export function runToExit(path: string, env: Record<string, string>, args: string[] = [], timeoutMs = 10_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const child = spawn(path, args, { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${path} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export async function startPlugin(path: string, extraEnv: Record<string, string> = {}): Promise<StartedPlugin> {
  const host = await generatePluginIdentity();
  const child = spawn(path, [], {
    env: {
      PATH: process.env["PATH"] ?? "",
      ...BACKEND_COOKIE,
      PLUGIN_PROTOCOL_VERSIONS: "5",
      PLUGIN_CLIENT_CERT: host.certPem,
      PLUGIN_LOG_LEVEL: "trace",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, "line").then(([l]) => String(l)),
    exited.then((e) => {
      throw new Error(`plugin exited before the handshake (code ${e.code}): ${stderr}`);
    }),
    new Promise<string>((_, reject) => setTimeout(() => reject(new Error(`no handshake within 10 s: ${stderr}`)), 10_000)),
  ]);
  return { child, handshake: parseHandshake(first), host, stderr: () => stderr, exited };
}
