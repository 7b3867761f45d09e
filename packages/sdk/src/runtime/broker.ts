// The plugin's half of go-plugin's gRPC broker. The host announces each of its
// brokered servers (storage and system view, one per backend Setup) as a
// ConnInfo on the StartStream stream, possibly before, possibly after the
// Setup call that names its id; dial() waits for whichever comes second.
import * as grpc from "@grpc/grpc-js";
import type { ConnInfo } from "../proto/plugin/go_plugin.ts";
import type { Logger } from "./logger.ts";

export const UNLIMITED_MESSAGES: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
};

export interface TlsMaterial {
  hostCertPem: string;
  certPem: string;
  keyPem: string;
}

type Waiter = { resolve: (info: ConnInfo) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class BrokerError extends Error {}

export class Broker {
  private readonly offers = new Map<number, ConnInfo>();
  private readonly waiters = new Map<number, Waiter[]>();
  private stream: grpc.ServerDuplexStream<ConnInfo, ConnInfo> | undefined;
  private closedReason: string | undefined;

  private readonly tls: TlsMaterial;
  private readonly logger: Logger;
  private readonly onHostGone: () => void;

  constructor(tls: TlsMaterial, logger: Logger, onHostGone: () => void) {
    this.tls = tls;
    this.logger = logger;
    this.onHostGone = onHostGone;
  }

  /** The StartStream handler: the host keeps this stream open for its whole life. */
  readonly startStream = (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>): void => {
    this.stream = call;
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
    if (info.knock?.knock) {
      // Knocks belong to broker multiplexing over one connection, which we
      // never advertise; refuse rather than leave the host waiting.
      this.stream?.write({
        serviceId: info.serviceId,
        network: "",
        address: "",
        knock: { knock: true, ack: true, error: "broker multiplexing is not supported by this plugin" },
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
    const info = await this.waitFor(id, timeoutMs);
    this.offers.delete(id);
    const target = info.network === "unix" ? `unix://${info.address}` : info.address;
    const creds = grpc.credentials.createSsl(
      Buffer.from(this.tls.hostCertPem),
      Buffer.from(this.tls.keyPem),
      Buffer.from(this.tls.certPem),
    );
    return new grpc.Channel(target, creds, {
      ...UNLIMITED_MESSAGES,
      "grpc.ssl_target_name_override": "localhost",
      "grpc.default_authority": "localhost",
    });
  }

  close(reason: string): void {
    this.closedReason = reason;
    for (const [, list] of this.waiters) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(new BrokerError(reason));
      }
    }
    this.waiters.clear();
  }
}
