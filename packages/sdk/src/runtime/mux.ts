// The plugin's side of go-plugin's gRPC broker multiplexing (the host's
// GRPCBrokerMultiplex, which Vault turns on for containerized plugins).
//
// The host dials the plugin's socket once and runs a yamux session over that
// connection as its client. Every gRPC connection is then a yamux stream:
// - the host opens streams for its own gRPC connection to the plugin (the
//   plugin's gRPC server, with the broker, controller and backend services);
//   these carry no id and all go to that server;
// - to reach one of the host's brokered servers (storage and system view,
//   one per backend Setup, id from the Setup call), the plugin "knocks": it
//   sends ConnInfo{service_id: id, knock: {knock: true}} on the broker
//   stream, waits for the host's ConnInfo{service_id: id, knock: {knock,
//   ack: true, error}}, and then opens a yamux stream, which the host hands
//   to the listener of that id. Nothing on the stream itself names the id:
//   knock, ack and open must not interleave with another dial, so dials are
//   made strictly one after another.
import * as grpc from "@grpc/grpc-js";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { Logger } from "./logger.ts";
import { YamuxSession, type YamuxStream } from "./yamux.ts";

/**
 * Listens on the plugin's socket and takes the host's first connection as
 * the yamux session; every stream the host opens is passed to onStream.
 */
export class MultiplexedListener {
  readonly path: string;
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly onStream: (stream: YamuxStream) => void;
  private session: YamuxSession | undefined;
  private readonly sessionWaiters: Array<{ resolve: (s: YamuxSession) => void; reject: (e: Error) => void }> = [];
  private closedReason: string | undefined;

  constructor(path: string, logger: Logger, onStream: (stream: YamuxStream) => void, onSessionClosed: (err: Error | undefined) => void) {
    this.path = path;
    this.logger = logger;
    this.onStream = onStream;
    this.server = createServer((conn) => {
      if (this.session) {
        // go-plugin's muxer takes exactly one connection; anything after it is
        // not the host's session.
        this.logger.warn("refusing a second connection to the multiplexed plugin socket");
        conn.destroy();
        return;
      }
      const session = new YamuxSession(conn, "server");
      this.session = session;
      session.on("stream", (stream) => this.onStream(stream));
      session.on("close", (err) => {
        this.logger.debug("multiplexed session closed", { reason: err?.message ?? "closed" });
        onSessionClosed(err);
      });
      for (const w of this.sessionWaiters.splice(0)) w.resolve(session);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.path, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** The host's session, once it has connected. */
  sessionReady(timeoutMs: number): Promise<YamuxSession> {
    if (this.session) return Promise.resolve(this.session);
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the host has not connected to the plugin's socket")), timeoutMs);
      this.sessionWaiters.push({
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  close(reason: string): void {
    this.closedReason = reason;
    for (const w of this.sessionWaiters.splice(0)) w.reject(new Error(reason));
    this.session?.close();
    this.server.close();
    try {
      if (existsSync(this.path)) unlinkSync(this.path);
    } catch {
      // Nothing else can be done about a socket we cannot remove.
    }
  }
}

/** Gives the socket at path to the group, read-write for it, as go-plugin's setGroupWritable does. */
export function makeGroupWritable(path: string, gid: number, mode = 0o660): void {
  chownSync(path, -1, gid);
  chmodSync(path, mode);
}

/**
 * A private directory for the dial bridges: the temporary directory if it is
 * writable (a container's /tmp), else the socket directory the host gave us.
 */
export class BridgeDirectory {
  private readonly candidates: string[];
  private dir: string | undefined;

  constructor(candidates: string[]) {
    this.candidates = candidates;
  }

  get(): string {
    if (this.dir) return this.dir;
    const errors: string[] = [];
    for (const base of this.candidates) {
      try {
        this.dir = mkdtempSync(join(base, "plugin-broker-"));
        return this.dir;
      } catch (err) {
        errors.push(`${base}: ${(err as Error).message}`);
      }
    }
    throw new Error(`cannot create a private directory for broker connections (${errors.join("; ")})`);
  }

  remove(): void {
    if (!this.dir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // Best effort at exit.
    }
    this.dir = undefined;
  }
}

export function defaultBridgeCandidates(socketDir: string): string[] {
  return [...new Set([tmpdir(), socketDir])];
}

/**
 * grpc-js channels can only dial addresses, not take a stream we hand them;
 * so each multiplexed dial target is a unix socket in a private directory,
 * and every connection grpc-js makes to it is joined to a fresh stream from
 * connect(). TLS runs end to end through it, between grpc-js and the host.
 */
export class DialBridge {
  readonly path: string;
  private readonly server: Server;
  private readonly connections = new Set<Socket | Duplex>();
  private readonly onClosed: (bridge: DialBridge) => void;
  private closed = false;

  private constructor(path: string, server: Server, onClosed: (bridge: DialBridge) => void) {
    this.path = path;
    this.server = server;
    this.onClosed = onClosed;
  }

  static async open(path: string, connect: () => Promise<Duplex>, logger: Logger, onClosed: (bridge: DialBridge) => void = () => undefined): Promise<DialBridge> {
    const server = createServer();
    const bridge = new DialBridge(path, server, onClosed);
    server.on("connection", (local) => bridge.join(local, connect, logger));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return bridge;
  }

  private join(local: Socket, connect: () => Promise<Duplex>, logger: Logger): void {
    this.connections.add(local);
    local.pause();
    local.on("close", () => this.connections.delete(local));
    local.on("error", () => undefined);
    connect().then(
      (remote) => {
        if (local.destroyed) {
          remote.destroy();
          return;
        }
        this.connections.add(remote);
        remote.on("close", () => {
          this.connections.delete(remote);
          local.destroy();
        });
        remote.on("error", (err: Error) => {
          logger.debug("brokered stream failed", { error: err.message });
          local.destroy();
        });
        local.on("close", () => remote.destroy());
        local.pipe(remote);
        remote.pipe(local);
        local.resume();
      },
      (err: Error) => {
        // grpc-js sees a failed connection attempt and retries with backoff.
        logger.warn("cannot open a multiplexed broker connection", { error: err.message });
        local.destroy();
      },
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
    this.server.close();
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    try {
      if (existsSync(this.path)) unlinkSync(this.path);
    } catch {
      // Best effort.
    }
  }
}

/** A channel whose close() also takes down the bridge it dials. */
export class BridgedChannel extends grpc.Channel {
  private readonly bridge: DialBridge;

  constructor(bridge: DialBridge, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) {
    super(`unix://${bridge.path}`, credentials, options);
    this.bridge = bridge;
  }

  override close(): void {
    super.close();
    this.bridge.close();
  }
}
