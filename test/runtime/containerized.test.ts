// The plugin process as Vault starts a containerized plugin: the broker
// multiplexed over one connection (PLUGIN_MULTIPLEX_GRPC), the socket in a
// shared directory and handed to a group (PLUGIN_UNIX_SOCKET_DIR/_GROUP).
// The test plays the host with the SDK's own yamux; the Go conformance
// harness checks the same against go-plugin's client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { HealthClient } from "../../packages/sdk/src/proto/grpc/health/v1/health.ts";
import { type ConnInfo, GRPCBrokerClient } from "../../packages/sdk/src/proto/plugin/go_plugin.ts";
import { createLogger } from "../../packages/sdk/src/runtime/logger.ts";
import { generatePluginIdentity } from "../../packages/sdk/src/runtime/tls.ts";
import { DialBridge } from "../../packages/sdk/src/runtime/mux.ts";
import { YamuxSession } from "../../packages/sdk/src/runtime/yamux.ts";
import { KV_PLUGIN, requireFile } from "../support/paths.ts";
import { BACKEND_COOKIE, runToExit, startPlugin, type StartedPlugin } from "../support/plugin-process.ts";

const plugin = requireFile(KV_PLUGIN, "run `npm run build` first");
const channelOptions = { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" };
const logger = createLogger({ level: "error", module: "test-host" });

function credentialsFor(p: StartedPlugin): grpc.ChannelCredentials {
  const serverPem = new X509Certificate(p.handshake.serverCertDer).toString();
  return grpc.credentials.createSsl(Buffer.from(serverPem), Buffer.from(p.host.keyPem), Buffer.from(p.host.certPem));
}

async function stop(p: StartedPlugin) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await p.exited;
}

/** The host's side: one connection, a yamux client session on it, and grpc-js reaching the plugin through streams of it. */
async function hostSession(p: StartedPlugin, dir: string) {
  const socket = connect(p.handshake.address);
  await once(socket, "connect");
  const session = new YamuxSession(socket, "client");
  const bridge = await DialBridge.open(join(dir, "host"), async () => session.open(), logger);
  return { socket, session, bridge, target: `unix://${bridge.path}` };
}

function healthStatus(target: string, creds: grpc.ChannelCredentials): Promise<number> {
  const health = new HealthClient(target, creds, channelOptions);
  return new Promise<number>((resolve, reject) =>
    health.check({ service: "plugin" }, (err, res) => (err ? reject(err) : resolve(res.status))),
  ).finally(() => health.close());
}

function groupNameOf(gid: number): string | undefined {
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const [name, , id] = line.split(":");
    if (name && id !== undefined && Number(id) === gid) return name;
  }
  return undefined;
}

test("multiplexed, the plugin's gRPC server answers over a yamux stream of the host's one connection", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mux-"));
  const p = await startPlugin(plugin, { PLUGIN_MULTIPLEX_GRPC: "true" });
  const host = await hostSession(p, dir);
  try {
    assert.deepEqual(p.handshake.extra, ["true"]);
    assert.equal(await healthStatus(host.target, credentialsFor(p)), 1);
    assert.equal(host.session.isClosed, false);
  } finally {
    host.bridge.close();
    host.session.close();
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("multiplexed, a second connection to the plugin's socket is refused and the first keeps serving", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mux-"));
  const p = await startPlugin(plugin, { PLUGIN_MULTIPLEX_GRPC: "true" });
  const host = await hostSession(p, dir);
  try {
    assert.equal(await healthStatus(host.target, credentialsFor(p)), 1);
    const intruder: Socket = connect(p.handshake.address);
    intruder.on("error", () => undefined);
    await once(intruder, "close");
    assert.equal(await healthStatus(host.target, credentialsFor(p)), 1);
  } finally {
    host.bridge.close();
    host.session.close();
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("multiplexed, a knock from the host is acked with an error, since the plugin brokers no servers of its own", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mux-"));
  const p = await startPlugin(plugin, { PLUGIN_MULTIPLEX_GRPC: "true" });
  const host = await hostSession(p, dir);
  const broker = new GRPCBrokerClient(host.target, credentialsFor(p), channelOptions);
  try {
    const stream = broker.startStream();
    stream.on("error", () => undefined);
    const reply = once(stream, "data") as Promise<[ConnInfo]>;
    stream.write({ serviceId: 7, network: "", address: "", knock: { knock: true, ack: false, error: "" } });
    const [ack] = await reply;
    assert.equal(ack.serviceId, 7);
    assert.equal(ack.knock?.knock, true);
    assert.equal(ack.knock?.ack, true);
    assert.match(ack.knock?.error ?? "", /no listener for id 7/);
    stream.cancel();
  } finally {
    broker.close();
    host.bridge.close();
    host.session.close();
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("multiplexed, when the host's connection closes the plugin exits with status 0", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mux-"));
  const p = await startPlugin(plugin, { PLUGIN_MULTIPLEX_GRPC: "true" });
  const host = await hostSession(p, dir);
  try {
    assert.equal(await healthStatus(host.target, credentialsFor(p)), 1);
    host.socket.destroy();
    const exit = await p.exited;
    assert.equal(exit.code, 0);
  } finally {
    host.bridge.close();
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("PLUGIN_UNIX_SOCKET_GROUP as a gid gives the socket that group, read-write for it (mode 660)", async () => {
  const gid = process.getegid!();
  const p = await startPlugin(plugin, { PLUGIN_UNIX_SOCKET_GROUP: String(gid) });
  try {
    const st = statSync(p.handshake.address);
    assert.ok(st.isSocket());
    assert.equal(st.gid, gid);
    assert.equal(st.mode & 0o777, 0o660);
  } finally {
    await stop(p);
  }
});

test("PLUGIN_UNIX_SOCKET_GROUP as a group name gives the socket that group", async (t) => {
  const gid = process.getegid!();
  const name = groupNameOf(gid);
  if (!name) return t.skip(`gid ${gid} has no name in /etc/group`);
  const p = await startPlugin(plugin, { PLUGIN_UNIX_SOCKET_GROUP: name, PLUGIN_MULTIPLEX_GRPC: "true" });
  try {
    const st = statSync(p.handshake.address);
    assert.equal(st.gid, gid);
    assert.equal(st.mode & 0o777, 0o660);
  } finally {
    await stop(p);
  }
});

test("an unknown PLUGIN_UNIX_SOCKET_GROUP stops the plugin before its handshake, with an error naming the group", async () => {
  const host = await generatePluginIdentity();
  const dir = mkdtempSync(join(tmpdir(), "sock-"));
  try {
    const r = await runToExit(plugin, {
      ...BACKEND_COOKIE,
      PLUGIN_PROTOCOL_VERSIONS: "5",
      PLUGIN_CLIENT_CERT: host.certPem,
      PLUGIN_UNIX_SOCKET_DIR: dir,
      PLUGIN_UNIX_SOCKET_GROUP: "no-such-group-here",
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /PLUGIN_UNIX_SOCKET_GROUP: unknown group \\"no-such-group-here\\"/);
    assert.deepEqual(readdirSync(dir), [], "no socket is left behind");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("multiplexed, the socket is created directly in PLUGIN_UNIX_SOCKET_DIR", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sock-"));
  const p = await startPlugin(plugin, { PLUGIN_UNIX_SOCKET_DIR: dir, PLUGIN_MULTIPLEX_GRPC: "true" });
  try {
    assert.deepEqual(readdirSync(dir).map((f) => join(dir, f)), [p.handshake.address]);
  } finally {
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});
