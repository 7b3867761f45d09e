// The plugin process as go-plugin's client sees it: start-up checks, the
// handshake line, mutual TLS on the socket, go-plugin's services, and exit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { HealthClient } from "../../packages/sdk/src/proto/grpc/health/v1/health.ts";
import { GRPCBrokerClient, GRPCControllerClient } from "../../packages/sdk/src/proto/plugin/go_plugin.ts";
import { KV_PLUGIN, requireFile } from "../support/paths.ts";
import { BACKEND_COOKIE, runToExit, startPlugin, type StartedPlugin } from "../support/plugin-process.ts";

const plugin = requireFile(KV_PLUGIN, "run `npm run build` first");

function credentialsFor(p: StartedPlugin): grpc.ChannelCredentials {
  const serverPem = new X509Certificate(p.handshake.serverCertDer).toString();
  return grpc.credentials.createSsl(Buffer.from(serverPem), Buffer.from(p.host.keyPem), Buffer.from(p.host.certPem));
}

const channelOptions = { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" };

async function stop(p: StartedPlugin) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await p.exited;
}

test("run by hand, it explains that it is a Vault/OpenBao plugin and how to register it, and exits 1", async () => {
  const r = await runToExit(plugin, {});
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /is a HashiCorp Vault \/ OpenBao secrets engine plugin/);
  assert.match(r.stderr, /plugin register -sha256=/);
});

test("launched with the database plugin cookie, as during type detection, it exits 1 without a handshake", async () => {
  const r = await runToExit(plugin, { VAULT_DATABASE_PLUGIN: "926a0820-aea2-be28-51d6-83cdf00e8edb", PLUGIN_PROTOCOL_VERSIONS: "5" });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /not a database plugin/);
});

test("garbage in PLUGIN_CLIENT_CERT gives a clear error naming the variable, without a stack trace", async () => {
  const r = await runToExit(plugin, { ...BACKEND_COOKIE, PLUGIN_PROTOCOL_VERSIONS: "5", PLUGIN_CLIENT_CERT: "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n" });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /PLUGIN_CLIENT_CERT could not be parsed as an X\.509 certificate/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test("a missing PLUGIN_CLIENT_CERT gives a clear error naming the variable", async () => {
  const r = await runToExit(plugin, { ...BACKEND_COOKIE, PLUGIN_PROTOCOL_VERSIONS: "5" });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /PLUGIN_CLIENT_CERT is not set/);
});

test("protocol versions other than 4 and 5 are refused with a clear error", async () => {
  const r = await runToExit(plugin, { ...BACKEND_COOKIE, PLUGIN_PROTOCOL_VERSIONS: "3", PLUGIN_CLIENT_CERT: "x" });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unsupported plugin protocol versions offered by the host: \\"3\\"/);
});

test("--version prints the plugin's name, version and commit", async () => {
  const r = await runToExit(plugin, {}, ["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^vault-plugin-example-kv v\d+\.\d+\.\d+ \(commit [0-9a-f]{7,}\)\n$/);
});

test("the handshake line is go-plugin's: core 1, protocol 5, a unix socket, grpc, and the certificate in unpadded base64", async () => {
  const p = await startPlugin(plugin);
  try {
    const h = p.handshake;
    assert.equal(h.coreVersion, "1");
    assert.equal(h.protocolVersion, "5");
    assert.equal(h.network, "unix");
    assert.equal(h.protocol, "grpc");
    assert.deepEqual(h.extra, []);
    assert.ok(h.address.startsWith("/"), "an absolute socket path");
    assert.ok(statSync(h.address).isSocket());
    const cert = new X509Certificate(h.serverCertDer);
    assert.match(cert.subjectAltName ?? "", /DNS:localhost/);
    assert.ok(cert.checkIssued(cert), "self-signed");
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  } finally {
    await stop(p);
  }
});

test("the certificate field carries no base64 padding", async () => {
  const p = await startPlugin(plugin);
  try {
    const certField = p.handshake.line.split("|")[5] ?? "";
    assert.ok(certField.length > 50, "go-plugin only loads a certificate field longer than 50 characters");
    assert.doesNotMatch(certField, /=/);
    assert.match(certField, /^[A-Za-z0-9+/]+$/, "standard alphabet");
  } finally {
    await stop(p);
  }
});

test("protocol 4 alone is negotiated as 4, and 4,5 as 5", async () => {
  const p4 = await startPlugin(plugin, { PLUGIN_PROTOCOL_VERSIONS: "4" });
  const p45 = await startPlugin(plugin, { PLUGIN_PROTOCOL_VERSIONS: "4,5" });
  try {
    assert.equal(p4.handshake.protocolVersion, "4");
    assert.equal(p45.handshake.protocolVersion, "5");
  } finally {
    await stop(p4);
    await stop(p45);
  }
});

test("the socket is created in PLUGIN_UNIX_SOCKET_DIR when it is set", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sock-"));
  const p = await startPlugin(plugin, { PLUGIN_UNIX_SOCKET_DIR: dir });
  try {
    assert.equal(join(dir, p.handshake.address.slice(dir.length + 1)), p.handshake.address);
    assert.ok(p.handshake.address.startsWith(dir + "/"));
  } finally {
    await stop(p);
  }
});

test("when the host asks for broker multiplexing, the handshake says in a seventh field that it is supported", async () => {
  const p = await startPlugin(plugin, { PLUGIN_MULTIPLEX_GRPC: "true" });
  try {
    assert.deepEqual(p.handshake.extra, ["true"]);
  } finally {
    await stop(p);
  }
});

test("a TLS client without the host's certificate is refused", async () => {
  const p = await startPlugin(plugin);
  try {
    const serverPem = new X509Certificate(p.handshake.serverCertDer).toString();
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ path: p.handshake.address, ca: serverPem, servername: "localhost", ALPNProtocols: ["h2"] });
      socket.on("error", (err) => resolve(`error: ${err.message}`));
      socket.on("secureConnect", () => {
        // TLS 1.3 finishes the client side before the server checks the
        // client certificate; the refusal arrives as an alert right after.
        socket.on("data", () => undefined);
        socket.on("close", () => resolve("closed without an alert"));
      });
    });
    assert.match(outcome, /^error: .*(certificate required|alert number 116)/i);
  } finally {
    await stop(p);
  }
});

test("with the host's certificate, the health service reports the plugin as serving", async () => {
  const p = await startPlugin(plugin);
  try {
    const health = new HealthClient(`unix://${p.handshake.address}`, credentialsFor(p), channelOptions);
    const status = await new Promise<number>((resolve, reject) =>
      health.check({ service: "plugin" }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
    assert.equal(status, 1);
    health.close();
  } finally {
    await stop(p);
  }
});

test("GRPCController/Shutdown ends the process with status 0 and removes the socket", async () => {
  const p = await startPlugin(plugin);
  const controller = new GRPCControllerClient(`unix://${p.handshake.address}`, credentialsFor(p), channelOptions);
  await new Promise<void>((resolve, reject) => controller.shutdown({}, (err) => (err ? reject(err) : resolve())));
  const exit = await p.exited;
  controller.close();
  assert.equal(exit.code, 0);
  assert.equal(existsSync(p.handshake.address), false);
});

test("when the host's broker stream goes away, the plugin exits instead of lingering as an orphan", async () => {
  const p = await startPlugin(plugin);
  const broker = new GRPCBrokerClient(`unix://${p.handshake.address}`, credentialsFor(p), channelOptions);
  const stream = broker.startStream();
  stream.on("error", () => undefined);
  await new Promise((r) => setTimeout(r, 200));
  stream.cancel();
  const exit = await p.exited;
  broker.close();
  assert.equal(exit.code, 0);
});

test("every stderr line is an hclog JSON record with string level, message and a six-digit timestamp", async () => {
  const p = await startPlugin(plugin);
  await new Promise((r) => setTimeout(r, 100));
  await stop(p);
  const lines = p.stderr().trim().split("\n").filter(Boolean);
  assert.ok(lines.length > 0, "the plugin logs its start at trace level");
  for (const line of lines) {
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(typeof record["@level"], "string");
    assert.equal(typeof record["@message"], "string");
    assert.match(String(record["@timestamp"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
});
