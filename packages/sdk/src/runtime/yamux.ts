// Yamux, the stream multiplexer go-plugin uses to carry the gRPC broker over
// the plugin's one connection (GRPCBrokerMultiplex, containerized plugins).
// Written from the protocol's specification and checked against HashiCorp's
// Go implementation on the wire by the conformance harness.
//
// Frames are a 12-byte header (version 0, type, flags, stream id, length),
// followed by `length` payload bytes for data frames only. Each stream starts
// with a 256 KiB receive window on both sides; only data bytes count against
// it, and the receiver grants more with window updates as its reader drains.
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";

const HEADER_SIZE = 12;
const PROTOCOL_VERSION = 0;

export const FrameType = { data: 0, windowUpdate: 1, ping: 2, goAway: 3 } as const;
export const Flag = { syn: 1, ack: 2, fin: 4, rst: 8 } as const;
export const GoAwayCode = { normal: 0, protocolError: 1, internalError: 2 } as const;

/** The window each side assumes for a new stream (yamux's initialStreamWindow). */
export const INITIAL_STREAM_WINDOW = 256 * 1024;
/** Largest data frame we send; the window bounds it too. */
const MAX_FRAME_PAYLOAD = 64 * 1024;

export interface FrameHeader {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

export function encodeHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt8(PROTOCOL_VERSION, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(flags, 2);
  header.writeUInt32BE(streamId >>> 0, 4);
  header.writeUInt32BE(length >>> 0, 8);
  return header;
}

export function decodeHeader(buf: Buffer): FrameHeader {
  return {
    version: buf.readUInt8(0),
    type: buf.readUInt8(1),
    flags: buf.readUInt16BE(2),
    streamId: buf.readUInt32BE(4),
    length: buf.readUInt32BE(8),
  };
}

export class YamuxError extends Error {}

export type YamuxRole = "client" | "server";

type PendingWrite = { data: Buffer; callback: (err?: Error | null) => void };

/** One multiplexed stream: a Duplex that is open for its id until both sides send FIN, or either sends RST. */
export class YamuxStream extends Duplex {
  readonly id: number;
  /** Settles when the peer acknowledges (ACK) or refuses (RST) a stream we opened; already settled for accepted streams. */
  readonly established: Promise<void>;

  private readonly session: YamuxSession;
  private sendWindow = INITIAL_STREAM_WINDOW;
  private recvWindow = INITIAL_STREAM_WINDOW;
  private readonly pending: PendingWrite[] = [];
  private localFin = false;
  private remoteFin = false;
  private reset = false;
  private settleEstablished: { resolve: () => void; reject: (err: Error) => void } | undefined;

  /** @internal Created by YamuxSession only. */
  constructor(session: YamuxSession, id: number, outbound: boolean) {
    super({ allowHalfOpen: true });
    this.session = session;
    this.id = id;
    if (outbound) {
      this.established = new Promise<void>((resolve, reject) => (this.settleEstablished = { resolve, reject }));
      // A refused stream is also reported through 'error'; an unobserved
      // rejection here must not crash the process.
      this.established.catch(() => undefined);
    } else {
      this.established = Promise.resolve();
    }
  }

  /** @internal A frame for this stream arrived; the session has checked the header. */
  receive(header: FrameHeader, payload: Buffer | undefined): void {
    if (header.flags & Flag.ack) {
      this.settleEstablished?.resolve();
      this.settleEstablished = undefined;
    }
    if (header.type === FrameType.windowUpdate && header.length > 0) {
      this.sendWindow += header.length;
      this.flush();
    }
    if (payload && payload.length > 0) {
      if (payload.length > this.recvWindow) {
        throw new YamuxError(`stream ${this.id} exceeded its receive window (${payload.length} bytes with ${this.recvWindow} left)`);
      }
      this.recvWindow -= payload.length;
      if (!this.remoteFin && !this.reset) this.push(payload);
      this.grantWindow();
    }
    if (header.flags & Flag.fin && !this.remoteFin) {
      this.remoteFin = true;
      this.push(null);
      this.maybeForget();
    }
    if (header.flags & Flag.rst) this.remoteReset();
  }

  private remoteReset(): void {
    if (this.reset) return;
    this.reset = true;
    const err = new YamuxError(`stream ${this.id} was reset by the peer`);
    this.settleEstablished?.reject(err);
    this.settleEstablished = undefined;
    this.failPending(err);
    this.session.forget(this.id);
    // An orderly end needs no error event for the reader.
    if (this.remoteFin && this.localFin) this.destroy();
    else this.destroy(err);
  }

  /** @internal The session ended under this stream. */
  sessionClosed(err: Error): void {
    if (this.reset || this.destroyed) return;
    this.reset = true;
    this.settleEstablished?.reject(err);
    this.settleEstablished = undefined;
    this.failPending(err);
    this.destroy(this.remoteFin && this.localFin ? undefined : err);
  }

  // As yamux's Go receiver does: once the reader has drained at least half a
  // window, tell the sender it may send that much more.
  private grantWindow(): void {
    if (this.remoteFin || this.reset) return;
    const delta = INITIAL_STREAM_WINDOW - this.readableLength - this.recvWindow;
    if (delta < INITIAL_STREAM_WINDOW / 2) return;
    this.recvWindow += delta;
    this.session.sendFrame(FrameType.windowUpdate, 0, this.id, delta);
  }

  override _read(): void {
    this.grantWindow();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.reset) {
      callback(new YamuxError(`stream ${this.id} was reset`));
      return;
    }
    this.pending.push({ data: chunk, callback });
    this.flush();
  }

  private flush(): void {
    while (this.pending.length > 0 && this.sendWindow > 0 && !this.reset) {
      const head = this.pending[0]!;
      const n = Math.min(head.data.length, this.sendWindow, MAX_FRAME_PAYLOAD);
      this.session.sendFrame(FrameType.data, 0, this.id, n, head.data.subarray(0, n));
      this.sendWindow -= n;
      if (n === head.data.length) {
        this.pending.shift();
        head.callback();
      } else {
        head.data = head.data.subarray(n);
      }
    }
  }

  private failPending(err: Error): void {
    for (const w of this.pending.splice(0)) w.callback(err);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (!this.reset && !this.localFin) {
      this.localFin = true;
      this.session.sendFrame(FrameType.windowUpdate, Flag.fin, this.id, 0);
      this.maybeForget();
    }
    callback();
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    if (!this.reset && !(this.localFin && this.remoteFin)) {
      // Closed before both sides finished: tell the peer to drop it too.
      this.reset = true;
      this.session.sendFrame(FrameType.windowUpdate, Flag.rst, this.id, 0);
      this.settleEstablished?.reject(err ?? new YamuxError(`stream ${this.id} was closed before the peer acknowledged it`));
      this.settleEstablished = undefined;
      this.failPending(err ?? new YamuxError(`stream ${this.id} was closed`));
    }
    this.session.forget(this.id);
    callback(err);
  }

  private maybeForget(): void {
    if (this.localFin && this.remoteFin) this.session.forget(this.id);
  }
}

export interface YamuxSessionEvents {
  stream: [YamuxStream];
  close: [Error | undefined];
}

/**
 * A yamux session over one connection. The side that dialled the connection
 * is the client and numbers its streams odd; the server numbers them even.
 * In go-plugin the host is the client and the plugin the server.
 */
export class YamuxSession extends EventEmitter<YamuxSessionEvents> {
  private readonly socket: Duplex;
  private readonly streams = new Map<number, YamuxStream>();
  private nextId: number;
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  private header: FrameHeader | undefined;
  private closed = false;
  private remoteGoAway = false;

  constructor(socket: Duplex, role: YamuxRole) {
    super();
    this.socket = socket;
    this.nextId = role === "client" ? 1 : 2;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.terminate(new YamuxError("the connection was closed by the peer")));
    socket.on("close", () => this.terminate(new YamuxError("the connection was closed")));
    socket.on("error", (err: Error) => this.terminate(err));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Opens a stream. Data may be written at once; `established` settles when
   * the peer accepts (ACK) or refuses (RST) it.
   */
  open(): YamuxStream {
    if (this.closed) throw new YamuxError("the yamux session is closed");
    if (this.remoteGoAway) throw new YamuxError("the peer is not accepting new streams (go away)");
    const id = this.nextId;
    if (id >= 0xffff_fffe) throw new YamuxError("stream ids exhausted");
    this.nextId += 2;
    const stream = new YamuxStream(this, id, true);
    this.streams.set(id, stream);
    this.sendFrame(FrameType.windowUpdate, Flag.syn, id, 0);
    return stream;
  }

  /** Sends a go away with the code and closes the connection; every stream ends. */
  close(code: number = GoAwayCode.normal): void {
    if (this.closed) return;
    this.sendFrame(FrameType.goAway, 0, 0, code);
    this.terminate(undefined, true);
  }

  /** @internal */
  sendFrame(type: number, flags: number, streamId: number, length: number, payload?: Buffer): void {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return;
    const header = encodeHeader(type, flags, streamId, length);
    this.socket.write(payload && payload.length > 0 ? Buffer.concat([header, payload]) : header);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  // graceful: end the connection after what is already written (a go away)
  // instead of discarding it; the peer then closes its side.
  private terminate(err: Error | undefined, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    const cause = err ?? new YamuxError("the yamux session was closed");
    for (const stream of [...this.streams.values()]) stream.sessionClosed(cause);
    this.streams.clear();
    if (graceful && !this.socket.destroyed) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    } else if (!this.socket.destroyed) {
      this.socket.destroy();
    }
    this.emit("close", err);
  }

  private protocolError(message: string): void {
    if (this.closed) return;
    this.sendFrame(FrameType.goAway, 0, 0, GoAwayCode.protocolError);
    this.terminate(new YamuxError(message), true);
  }

  private onData(chunk: Buffer): void {
    this.buffered.push(chunk);
    this.bufferedLength += chunk.length;
    try {
      for (;;) {
        if (this.closed) return;
        if (!this.header) {
          if (this.bufferedLength < HEADER_SIZE) return;
          this.header = decodeHeader(this.take(HEADER_SIZE));
          if (this.header.version !== PROTOCOL_VERSION) return this.protocolError(`unsupported yamux version ${this.header.version}`);
          if (this.header.type > FrameType.goAway) return this.protocolError(`unknown yamux frame type ${this.header.type}`);
        }
        const header = this.header;
        const payloadLength = header.type === FrameType.data ? header.length : 0;
        if (this.bufferedLength < payloadLength) return;
        this.header = undefined;
        this.handle(header, payloadLength > 0 ? this.take(payloadLength) : undefined);
      }
    } catch (err) {
      this.protocolError((err as Error).message);
    }
  }

  private take(n: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered, this.bufferedLength);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedLength = rest.length;
    return out;
  }

  private handle(header: FrameHeader, payload: Buffer | undefined): void {
    switch (header.type) {
      case FrameType.ping:
        if (header.flags & Flag.syn) this.sendFrame(FrameType.ping, Flag.ack, 0, header.length);
        return;
      case FrameType.goAway:
        if (header.length === GoAwayCode.normal) {
          this.remoteGoAway = true;
        } else {
          this.terminate(new YamuxError(`the peer ended the yamux session with error code ${header.length}`));
        }
        return;
    }
    if (header.flags & Flag.syn) {
      if (this.streams.has(header.streamId)) return this.protocolError(`duplicate yamux stream ${header.streamId}`);
      const stream = new YamuxStream(this, header.streamId, false);
      this.streams.set(header.streamId, stream);
      // Accept at once: go-plugin's host closes the whole session if a stream
      // it opened is not acknowledged within its open timeout.
      this.sendFrame(FrameType.windowUpdate, Flag.ack, header.streamId, 0);
      stream.receive(header, payload);
      this.emit("stream", stream);
      return;
    }
    // Frames for a stream we already dropped (after a reset) are ignored,
    // their payload already consumed.
    this.streams.get(header.streamId)?.receive(header, payload);
  }
}
