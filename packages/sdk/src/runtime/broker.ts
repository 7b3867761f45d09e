// The plugin's half of go-plugin's gRPC broker. The host announces each of its
// brokered servers (storage and system view, one per backend Setup) as a
// ConnInfo on the StartStream stream, possibly before, possibly after the
// Setup call that names its id; dial() waits for whichever comes second.
//
// With broker multiplexing (see mux.ts) the host announces nothing: the
// plugin knocks for the id on the same stream and, once the host acks, opens
// a yamux stream on the main connection that the host gives to that server.
import * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { ConnInfo } from "../proto/plugin/go_plugin.ts";
import type { Logger } from "./logger.ts";
import { type BridgeDirectory, BridgedChannel, DialBridge } from "./mux.ts";
import type { YamuxStream } from "./yamux.ts";

// Storage entries may be larger than gRPC's default 4 MiB message cap. Channelz
// keeps per-call statistics and traces for a debugging service that no one can
// reach over this private socket: off, it saves work on every call.
export const UNLIMITED_MESSAGES: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
  "grpc.enable_channelz": 0,
};

// Retries need a service config, which the host never sends: without the
// retry machinery, each storage call is one call object fewer.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...UNLIMITED_MESSAGES,
  "grpc.enable_retries": 0,
  "grpc.ssl_target_name_override": "localhost",
  "grpc.default_authority": "localhost",
};

export interface TlsMaterial {
  hostCertPem: string;
  certPem: string;
  keyPem: string;
}

type Waiter = { resolve: (info: ConnInfo) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class BrokerError extends Error {}

/** How the broker reaches the host's servers when the broker is multiplexed. */
export interface MultiplexedDialing {
  /** Opens a yamux stream to the host on the main connection. */
  openStream: () => Promise<YamuxStream>;
  /** Where the per-dial bridge sockets go. */
  bridges: BridgeDirectory;
}

/** go-plugin's own bound on waiting for a knock's ack. */
const KNOCK_TIMEOUT_MS = 5_000;
/**
 * The host starts listening for knocks on an id only when its AcceptAndServe
 * goroutine runs; a knock that arrives just before is acked with an error.
 * A few quick retries ride that out.
 */
const KNOCK_ATTEMPTS = 4;
const KNOCK_RETRY_MS = 50;

export class Broker {
  private readonly offers = new Map<number, ConnInfo>();
  private readonly waiters = new Map<number, Waiter[]>();
  private stream: grpc.ServerDuplexStream<ConnInfo, ConnInfo> | undefined;
  private readonly streamWaiters: Array<() => void> = [];
  private readonly ackWaiters = new Map<number, (info: ConnInfo) => void>();
  private dialQueue: Promise<unknown> = Promise.resolve();
  private readonly bridges = new Set<DialBridge>();
  private bridgeCount = 0;
  private closedReason: string | undefined;

  private readonly tls: TlsMaterial;
  private readonly logger: Logger;
  private readonly onHostGone: () => void;
  private readonly multiplexed: MultiplexedDialing | undefined;

  constructor(tls: TlsMaterial, logger: Logger, onHostGone: () => void, multiplexed?: MultiplexedDialing) {
    this.tls = tls;
    this.logger = logger;
    this.onHostGone = onHostGone;
    this.multiplexed = multiplexed;
  }

  /** The StartStream handler: the host keeps this stream open for its whole life. */
  readonly startStream = (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>): void => {
    this.stream = call;
    for (const wake of this.streamWaiters.splice(0)) wake();
    call.on("data", (info: ConnInfo) => this.offer(info));
    const ended = (why: string) => {
      if (this.stream !== call) return;
      this.stream = undefined;
      this.logger.debug("broker stream closed", { reason: why });
      this.onHostGone();
    };
    call.on("end", () => {
      ended("end");
      call.end();
    });
    call.on("cancelled", () => ended("cancelled"));
    call.on("error", (err: Error) => ended(err.message));
  };

  private offer(info: ConnInfo): void {
    if (info.knock?.knock && info.knock.ack) {
      const waiter = this.ackWaiters.get(info.serviceId);
      if (waiter) {
        this.ackWaiters.delete(info.serviceId);
        waiter(info);
      } else {
        this.logger.debug("broker ack for no pending knock", { id: info.serviceId });
      }
      return;
    }
    if (info.knock?.knock) {
      // The host knocks only to reach a server the plugin brokers, and a
      // backend plugin brokers none; refuse rather than leave it waiting.
      this.stream?.write({
        serviceId: info.serviceId,
        network: "",
        address: "",
        knock: { knock: true, ack: true, error: `no listener for id ${info.serviceId}: this plugin serves no brokered servers` },
      });
      return;
    }
    this.logger.trace("broker offer", { id: info.serviceId, network: info.network });
    const waiting = this.waiters.get(info.serviceId);
    if (waiting && waiting.length > 0) {
      this.waiters.delete(info.serviceId);
      for (const w of waiting) {
        clearTimeout(w.timer);
        w.resolve(info);
      }
    }
    this.offers.set(info.serviceId, info);
  }

  private waitFor(id: number, timeoutMs: number): Promise<ConnInfo> {
    const known = this.offers.get(id);
    if (known) return Promise.resolve(known);
    if (this.closedReason) return Promise.reject(new BrokerError(this.closedReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(id) ?? [];
        this.waiters.set(id, list.filter((w) => w.timer !== timer));
        reject(new BrokerError(`timeout waiting for the host's broker connection ${id}`));
      }, timeoutMs);
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject, timer });
      this.waiters.set(id, list);
    });
  }

  /**
   * Opens a channel to the host's brokered server with this id, over mTLS:
   * our certificate as client certificate, the host's as the only CA.
   */
  async dial(id: number, timeoutMs = 10_000): Promise<grpc.Channel> {
    if (this.multiplexed) return this.dialMultiplexed(id, this.multiplexed);
    const info = await this.waitFor(id, timeoutMs);
    this.offers.delete(id);
    const target = info.network === "unix" ? `unix://${info.address}` : info.address;
    return new grpc.Channel(target, this.channelCredentials(), CHANNEL_OPTIONS);
  }

  private channelCredentials(): grpc.ChannelCredentials {
    return grpc.credentials.createSsl(Buffer.from(this.tls.hostCertPem), Buffer.from(this.tls.keyPem), Buffer.from(this.tls.certPem));
  }

  // The channel connects lazily, as a non-multiplexed one does: Setup without
  // storage (the server's type detection) never opens a stream.
  private async dialMultiplexed(id: number, mux: MultiplexedDialing): Promise<grpc.Channel> {
    if (this.closedReason) throw new BrokerError(this.closedReason);
    const path = join(mux.bridges.get(), `${++this.bridgeCount}`);
    const bridge = await DialBridge.open(path, () => this.connectMultiplexed(id, mux), this.logger, (b) => this.bridges.delete(b));
    this.bridges.add(bridge);
    return new BridgedChannel(bridge, this.channelCredentials(), CHANNEL_OPTIONS);
  }

  /** One knock-and-open at a time, each ending only once the host has taken its stream. */
  private connectMultiplexed(id: number, mux: MultiplexedDialing): Promise<Duplex> {
    const attempt = async (): Promise<Duplex> => {
      await this.knock(id);
      const stream = await mux.openStream();
      await stream.established;
      this.logger.trace("multiplexed broker connection open", { id, stream: stream.id });
      return stream;
    };
    const result = this.dialQueue.then(attempt, attempt);
    this.dialQueue = result.catch(() => undefined);
    return result;
  }

  private async knock(id: number): Promise<void> {
    let lastError = "";
    for (let i = 0; i < KNOCK_ATTEMPTS; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, KNOCK_RETRY_MS));
      const ack = await this.sendKnock(id);
      if (!ack.knock?.error) return;
      lastError = ack.knock.error;
      this.logger.debug("broker knock refused", { id, error: lastError });
    }
    throw new BrokerError(`the host refused the broker knock for id ${id}: ${lastError}`);
  }

  private async sendKnock(id: number): Promise<ConnInfo> {
    const stream = await this.brokerStream(KNOCK_TIMEOUT_MS);
    if (this.ackWaiters.has(id)) throw new BrokerError(`a knock for id ${id} is already waiting`);
    return new Promise<ConnInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiters.delete(id);
        reject(new BrokerError(`timeout waiting for the host to ack the broker knock for id ${id}`));
      }, KNOCK_TIMEOUT_MS);
      this.ackWaiters.set(id, (info) => {
        clearTimeout(timer);
        resolve(info);
      });
      stream.write({ serviceId: id, network: "", address: "", knock: { knock: true, ack: false, error: "" } });
    });
  }

  private brokerStream(timeoutMs: number): Promise<grpc.ServerDuplexStream<ConnInfo, ConnInfo>> {
    if (this.closedReason) return Promise.reject(new BrokerError(this.closedReason));
    if (this.stream) return Promise.resolve(this.stream);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BrokerError("the host has not opened the broker stream")), timeoutMs);
      this.streamWaiters.push(() => {
        clearTimeout(timer);
        if (this.stream) resolve(this.stream);
        else reject(new BrokerError(this.closedReason ?? "the broker stream is closed"));
      });
    });
  }

  close(reason: string): void {
    this.closedReason = reason;
    for (const wake of this.streamWaiters.splice(0)) wake();
    for (const bridge of [...this.bridges]) bridge.close();
    this.multiplexed?.bridges.remove();
    for (const [, list] of this.waiters) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(new BrokerError(reason));
      }
    }
    this.waiters.clear();
  }
}
