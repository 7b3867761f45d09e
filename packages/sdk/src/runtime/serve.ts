// The plugin process: go-plugin's server side, as Vault and OpenBao expect it.
// Order matters: check the cookie, negotiate, build TLS, bind the socket, and
// only then print the one handshake line on stdout.
import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "node:crypto";
import { existsSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendService as BackendServiceDefinition } from "../proto/pb/backend.ts";
import { HealthCheckResponse_ServingStatus, HealthService } from "../proto/grpc/health/v1/health.ts";
import { PluginVersionService } from "../proto/logical/logical.ts";
import { GRPCBrokerService, GRPCControllerService, GRPCStdioService } from "../proto/plugin/go_plugin.ts";
import { PluginMultiplexingService } from "../proto/pluginutil/multiplexing.ts";
import type { BackendFactory } from "../logical/types.ts";
import { BackendService } from "./backend-service.ts";
import { Broker, UNLIMITED_MESSAGES } from "./broker.ts";
import {
  BACKEND_COOKIE_KEY,
  BACKEND_COOKIE_VALUE,
  brokerMultiplexing,
  type Env,
  negotiateProtocolVersion,
  readHostVariable,
  resolveSocketGroup,
  SocketGroupError,
  UNIX_SOCKET_DIR_ENV,
  UNIX_SOCKET_GROUP_ENV,
} from "./env.ts";
import { createLogger, type Logger, parseLogLevel } from "./logger.ts";
import { BridgeDirectory, defaultBridgeCandidates, makeGroupWritable, MultiplexedListener } from "./mux.ts";
import { generatePluginIdentity, parseHostCertificate, PluginCertificateError } from "./tls.ts";

export interface ServeOptions {
  /** The plugin's name, as in the catalog; used in logs and messages. */
  name: string;
  /** Reported to the server by the version service, e.g. "v0.1.0". */
  version: string;
  /** Printed by --version after the version. */
  commit?: string;
  factory: BackendFactory;
  /** Serve every mount from one process (protocol 5 multiplexing). Default true. */
  multiplexing?: boolean;
  env?: Env;
  argv?: readonly string[];
}

export type ExitCode = 0 | 1;

function usage(name: string): string {
  return (
    `${name} is a HashiCorp Vault / OpenBao secrets engine plugin; it is started by the server, not by hand.\n` +
    `Register it with the server, then mount it:\n` +
    `  sha256sum ${name}    # copy the executable into the server's plugin_directory first\n` +
    `  bao plugin register -sha256=<sum> secret ${name}    # or: vault plugin register ...\n` +
    `  bao secrets enable -path=<path> ${name}\n`
  );
}

function hostGoneWatcher(exit: (code: ExitCode, why: string) => void): NodeJS.Timeout {
  // If the host dies without closing our connection (SIGKILL, OOM), the
  // kernel reparents us; exiting then keeps us from lingering as an orphan.
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) exit(0, "the host process is gone");
  }, 1000);
  timer.unref();
  return timer;
}

/**
 * Runs the plugin until the host shuts it down. Resolves with an exit code
 * only when start-up fails; otherwise the process exits on Shutdown.
 */
export async function serve(options: ServeOptions): Promise<ExitCode> {
  const env = options.env ?? process.env;
  const argv = options.argv ?? process.argv.slice(2);
  const write = (s: string) => process.stderr.write(s);

  if (argv.includes("--version") || argv.includes("-version")) {
    process.stdout.write(`${options.name} ${options.version}${options.commit ? ` (commit ${options.commit})` : ""}\n`);
    return 0;
  }

  const level = parseLogLevel(env["PLUGIN_LOG_LEVEL"]) ?? parseLogLevel(readHostVariable(env, "LOG_LEVEL")) ?? "info";
  const logger = createLogger({ level, module: options.name });

  if (env[BACKEND_COOKIE_KEY] !== BACKEND_COOKIE_VALUE) {
    // The server also probes every untyped plugin as a database plugin
    // (another cookie). Failing fast here is what classifies us correctly.
    if (env["VAULT_DATABASE_PLUGIN"] !== undefined) {
      write(`${options.name}: not a database plugin\n`);
    } else {
      write(usage(options.name));
    }
    return 1;
  }

  const protocolVersion = negotiateProtocolVersion(env["PLUGIN_PROTOCOL_VERSIONS"]);
  if (protocolVersion === undefined) {
    logger.error(`unsupported plugin protocol versions offered by the host: "${env["PLUGIN_PROTOCOL_VERSIONS"] ?? ""}"; this plugin speaks 5 and 4`);
    return 1;
  }

  let hostCertPem: string;
  try {
    hostCertPem = parseHostCertificate(env["PLUGIN_CLIENT_CERT"]);
  } catch (err) {
    if (!(err instanceof PluginCertificateError)) throw err;
    logger.error(err.message);
    return 1;
  }
  const identity = await generatePluginIdentity();

  // The socket must sit directly in PLUGIN_UNIX_SOCKET_DIR: for a container
  // that directory is a bind mount, and the host maps our path to its own by
  // swapping the directory.
  const socketDir = env[UNIX_SOCKET_DIR_ENV] || tmpdir();
  const socketPath = join(socketDir, `plugin${randomBytes(6).readUIntBE(0, 6)}`);
  if (Buffer.byteLength(socketPath) > 103) {
    logger.error(`unix socket path ${socketPath} is longer than the 103 bytes a socket address holds; set PLUGIN_UNIX_SOCKET_DIR or TMPDIR to a shorter directory`);
    return 1;
  }
  const group = env[UNIX_SOCKET_GROUP_ENV];
  let socketGid: number | undefined;
  if (group) {
    try {
      socketGid = resolveSocketGroup(group);
    } catch (err) {
      if (!(err instanceof SocketGroupError)) throw err;
      logger.error(err.message);
      return 1;
    }
  }
  const multiplexing = brokerMultiplexing(env);

  const server = new grpc.Server(UNLIMITED_MESSAGES);
  let listener: MultiplexedListener | undefined;
  let exiting = false;
  const exit = (code: ExitCode, why: string) => {
    if (exiting) return;
    exiting = true;
    logger.debug("plugin exiting", { reason: why });
    broker.close(why);
    listener?.close(why);
    server.forceShutdown();
    try {
      if (existsSync(socketPath)) unlinkSync(socketPath);
    } catch {
      // Nothing else can be done about a socket we cannot remove.
    }
    process.exit(code);
  };
  // The host holds the broker stream (and, multiplexed, its one connection)
  // for its whole life; when it goes, so does the host's client, and nobody
  // can reach us any more.
  const hostGone = (why: string) => setTimeout(() => exit(0, why), 200).unref();

  const broker = new Broker(
    { hostCertPem, certPem: identity.certPem, keyPem: identity.keyPem },
    logger.named("broker"),
    () => hostGone("the host closed the broker stream"),
    multiplexing.enabled
      ? {
          openStream: async () => {
            if (!listener) throw new Error("the multiplexed listener is not running");
            return (await listener.sessionReady(5_000)).open();
          },
          bridges: new BridgeDirectory(defaultBridgeCandidates(socketDir)),
        }
      : undefined,
  );
  const backends = new BackendService({ factory: options.factory, broker, logger });

  server.addService(HealthService, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: number }>) => {
      if (call.request.service === "" || call.request.service === "plugin") {
        callback(null, { status: HealthCheckResponse_ServingStatus.SERVING });
      } else {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` }, null);
      }
    },
  });
  server.addService(GRPCBrokerService, { startStream: broker.startStream });
  server.addService(GRPCControllerService, {
    shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<Record<string, never>>) => {
      callback(null, {});
      void backends.cleanupAll().finally(() => setTimeout(() => exit(0, "shutdown requested by the host"), 20));
    },
  });
  server.addService(GRPCStdioService, {
    // Our stdout and stderr are the process's own pipes, which the host reads
    // directly; the stream stays open and silent, as go-plugin's does when
    // nothing is redirected.
    streamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      call.on("cancelled", () => call.end());
    },
  });
  server.addService(PluginMultiplexingService, {
    multiplexingSupport: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ supported: boolean }>) =>
      callback(null, { supported: options.multiplexing ?? true }),
  });
  server.addService(PluginVersionService, {
    version: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ pluginVersion: string }>) =>
      callback(null, { pluginVersion: options.version }),
  });
  server.addService(BackendServiceDefinition, backends.implementation);

  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(hostCertPem),
    [{ private_key: Buffer.from(identity.keyPem), cert_chain: Buffer.from(identity.certPem) }],
    true,
  );
  try {
    if (multiplexing.enabled) {
      // Every gRPC connection of the host arrives as a yamux stream on its one
      // connection; grpc-js serves each like an accepted socket.
      const injector = server.createConnectionInjector(credentials);
      listener = new MultiplexedListener(
        socketPath,
        logger.named("mux"),
        (stream) => injector.injectConnection(stream),
        () => hostGone("the host closed the multiplexed connection"),
      );
      await listener.listen();
    } else {
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix://${socketPath}`, credentials, (err) => (err ? reject(err) : resolve())),
      );
    }
  } catch (err) {
    logger.error(`cannot listen on unix socket ${socketPath}: ${(err as Error).message}`);
    return 1;
  }
  if (socketGid !== undefined) {
    // By default only our own user may connect; a containerized plugin runs
    // as another user than the host, which reaches the socket through a
    // group both share.
    try {
      makeGroupWritable(socketPath, socketGid);
    } catch (err) {
      logger.error(`cannot hand the socket to group ${group}: ${(err as Error).message}`);
      exit(1, "socket group");
    }
  }

  process.on("SIGINT", () => {
    // A Ctrl-C on a foreground server reaches its whole process group; the
    // host must still be able to shut us down cleanly, so, like go-plugin,
    // we ignore it.
  });
  process.on("SIGTERM", () => exit(0, "SIGTERM"));
  hostGoneWatcher(exit);

  let line = `1|${protocolVersion}|unix|${socketPath}|grpc|${identity.certBase64Raw}`;
  // The seventh field says whether we support broker multiplexing (we do);
  // only hosts that asked can parse it.
  if (multiplexing.answer) line += "|true";
  process.stdout.write(line + "\n");
  logger.debug("plugin started", { protocol_version: protocolVersion, socket: socketPath, broker_multiplexed: multiplexing.enabled });
  return new Promise<ExitCode>(() => {
    // Runs until exit() ends the process.
  });
}

export type { Logger };
