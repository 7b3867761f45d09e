// Yamux as the Go implementation speaks it on the wire: each test plays the
// peer with raw frames, so what is checked is the byte format and the
// protocol rules, not our session talking to itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { type Duplex, duplexPair } from "node:stream";
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  INITIAL_STREAM_WINDOW,
  type FrameHeader,
  YamuxSession,
  type YamuxStream,
} from "../src/runtime/yamux.ts";

type Frame = FrameHeader & { payload: Buffer };

/** The peer's end of the connection: raw frames in and out. */
class RawPeer {
  readonly frames: Frame[] = [];
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private readonly socket: Duplex;

  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        if (this.buf.length < 12) break;
        const h = decodeHeader(this.buf);
        const n = h.type === FrameType.data ? h.length : 0;
        if (this.buf.length < 12 + n) break;
        this.frames.push({ ...h, payload: this.buf.subarray(12, 12 + n) });
        this.buf = this.buf.subarray(12 + n);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(type: number, flags: number, id: number, length: number, payload?: Buffer): void {
    this.socket.write(payload ? Buffer.concat([encodeHeader(type, flags, id, length), payload]) : encodeHeader(type, flags, id, length));
  }

  sendData(id: number, payload: Buffer, flags = 0): void {
    this.send(FrameType.data, flags, id, payload.length, payload);
  }

  /** Waits until a frame matching pred has arrived and returns it. */
  async next(pred: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (;;) {
      const f = this.frames.slice(from).find(pred);
      if (f) return f;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  dataFor(id: number): Buffer {
    return Buffer.concat(this.frames.filter((f) => f.type === FrameType.data && f.streamId === id).map((f) => f.payload));
  }
}

function pair(role: "client" | "server" = "server") {
  const [ours, theirs] = duplexPair();
  const session = new YamuxSession(ours, role);
  return { session, peer: new RawPeer(theirs), theirs };
}

// Not `for await`: that destroys a Duplex once its readable side ends, which
// would close the writable side too.
async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  await once(stream, "end");
  return Buffer.concat(chunks);
}

test("a frame header is 12 bytes: version 0, type, flags, stream id and length, big-endian", () => {
  const h = encodeHeader(FrameType.windowUpdate, Flag.syn | Flag.ack, 0x01020304, 0x0a0b0c0d);
  assert.deepEqual([...h], [0, 1, 0, 3, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d]);
  assert.deepEqual(decodeHeader(h), { version: 0, type: 1, flags: 3, streamId: 0x01020304, length: 0x0a0b0c0d });
});

test("as the server side it opens even-numbered streams with a SYN window update, and the client side odd ones", async () => {
  const server = pair("server");
  const client = pair("client");
  const a = server.session.open();
  const b = server.session.open();
  const c = client.session.open();
  assert.deepEqual([a.id, b.id, c.id], [2, 4, 1]);
  const syn = await server.peer.next((f) => f.streamId === 2);
  assert.equal(syn.type, FrameType.windowUpdate);
  assert.equal(syn.flags, Flag.syn);
  assert.equal(syn.length, 0);
});

test("a stream we open is established when the peer acks it", async () => {
  const { session, peer } = pair();
  const s = session.open();
  peer.send(FrameType.windowUpdate, Flag.ack, s.id, 0);
  await s.established;
});

test("a stream we open and the peer resets fails its establishment", async () => {
  const { session, peer } = pair();
  const s = session.open();
  s.on("error", () => undefined);
  peer.send(FrameType.windowUpdate, Flag.rst, s.id, 0);
  await assert.rejects(s.established, /reset by the peer/);
});

test("a stream the peer opens is acknowledged at once and delivered with the data that came with the SYN", async () => {
  const { session, peer } = pair();
  const accepted = once(session, "stream") as Promise<[YamuxStream]>;
  peer.send(FrameType.data, Flag.syn, 1, 5, Buffer.from("hello"));
  const [stream] = await accepted;
  assert.equal(stream.id, 1);
  const ack = await peer.next((f) => f.streamId === 1);
  assert.equal(ack.type, FrameType.windowUpdate);
  assert.equal(ack.flags, Flag.ack);
  peer.send(FrameType.windowUpdate, Flag.fin, 1, 0);
  assert.equal((await readAll(stream)).toString(), "hello");
});

test("writes become data frames on the stream, and end() sends FIN", async () => {
  const { session, peer } = pair();
  const s = session.open();
  s.end(Buffer.from("abc"));
  const fin = await peer.next((f) => f.streamId === s.id && (f.flags & Flag.fin) !== 0);
  assert.equal(fin.type, FrameType.windowUpdate);
  assert.equal(peer.dataFor(s.id).toString(), "abc");
});

test("after the peer's FIN the stream ends for reading but can still be written (half close)", async () => {
  const { session, peer } = pair();
  const accepted = once(session, "stream") as Promise<[YamuxStream]>;
  peer.send(FrameType.windowUpdate, Flag.syn, 1, 0);
  const [stream] = await accepted;
  peer.sendData(1, Buffer.from("question"), Flag.fin);
  assert.equal((await readAll(stream)).toString(), "question");
  stream.end(Buffer.from("answer"));
  await peer.next((f) => f.streamId === 1 && (f.flags & Flag.fin) !== 0);
  assert.equal(peer.dataFor(1).toString(), "answer");
  assert.equal(peer.frames.some((f) => f.streamId === 1 && (f.flags & Flag.rst) !== 0), false, "an orderly close sends no RST");
});

test("the sender stops at the peer's 256 KiB window and continues by exactly what a window update grants", async () => {
  const { session, peer } = pair();
  const s = session.open();
  s.write(Buffer.alloc(INITIAL_STREAM_WINDOW + 1000, 7));
  // Frames go out in order on one connection: whatever data precedes the
  // ping's answer is all the sender would send without more window.
  peer.send(FrameType.ping, Flag.syn, 0, 41);
  const pong = await peer.next((f) => f.type === FrameType.ping);
  const before = peer.frames.indexOf(pong);
  const sent = () => peer.frames.slice(0, before).filter((f) => f.type === FrameType.data).reduce((n, f) => n + f.payload.length, 0);
  assert.equal(sent(), INITIAL_STREAM_WINDOW);
  peer.send(FrameType.windowUpdate, 0, s.id, 600);
  peer.send(FrameType.ping, Flag.syn, 0, 42);
  const pong2 = await peer.next((f) => f.type === FrameType.ping && f.length === 42);
  const total = peer.frames.slice(0, peer.frames.indexOf(pong2)).filter((f) => f.type === FrameType.data).reduce((n, f) => n + f.payload.length, 0);
  assert.equal(total, INITIAL_STREAM_WINDOW + 600);
});

test("as its reader drains, the receiver grants the window back once half of it is consumed", async () => {
  const { session, peer } = pair();
  const accepted = once(session, "stream") as Promise<[YamuxStream]>;
  peer.send(FrameType.windowUpdate, Flag.syn, 1, 0);
  const [stream] = await accepted;
  let received = 0;
  stream.on("data", (c: Buffer) => (received += c.length));
  const chunk = Buffer.alloc(32 * 1024, 1);
  for (let i = 0; i < 4; i++) peer.sendData(1, chunk);
  const grant = await peer.next((f) => f.streamId === 1 && f.type === FrameType.windowUpdate && f.flags === 0);
  assert.equal(grant.length, 128 * 1024);
  assert.equal(received, 128 * 1024);
});

test("more data than the receive window allows is a protocol error: go away with code 1, and the session closes", async () => {
  const { session, peer } = pair();
  const closed = once(session, "close");
  const accepted = once(session, "stream") as Promise<[YamuxStream]>;
  peer.send(FrameType.windowUpdate, Flag.syn, 1, 0);
  const [stream] = await accepted;
  stream.on("error", () => undefined);
  stream.pause();
  peer.sendData(1, Buffer.alloc(INITIAL_STREAM_WINDOW + 1));
  const goAway = await peer.next((f) => f.type === FrameType.goAway);
  assert.equal(goAway.length, GoAwayCode.protocolError);
  const [err] = (await closed) as [Error];
  assert.match(err.message, /exceeded its receive window/);
});

test("a ping is answered with an ACK carrying the same opaque value", async () => {
  const { peer } = pair();
  peer.send(FrameType.ping, Flag.syn, 0, 0xdeadbeef);
  const pong = await peer.next((f) => f.type === FrameType.ping);
  assert.equal(pong.flags, Flag.ack);
  assert.equal(pong.streamId, 0);
  assert.equal(pong.length, 0xdeadbeef);
});

test("a frame with another protocol version ends the session with a protocol-error go away", async () => {
  const { session, theirs, peer } = pair();
  const closed = once(session, "close");
  const bad = encodeHeader(FrameType.ping, Flag.syn, 0, 1);
  bad[0] = 1;
  theirs.write(bad);
  const goAway = await peer.next((f) => f.type === FrameType.goAway);
  assert.equal(goAway.length, GoAwayCode.protocolError);
  await closed;
  assert.equal(session.isClosed, true);
});

test("destroying a stream before both sides finished sends RST", async () => {
  const { session, peer } = pair();
  const s = session.open();
  s.destroy();
  const rst = await peer.next((f) => f.streamId === s.id && (f.flags & Flag.rst) !== 0);
  assert.equal(rst.type, FrameType.windowUpdate);
  assert.equal(session.streamCount, 0);
});

test("a RST from the peer fails the stream for its reader", async () => {
  const { session, peer } = pair();
  const accepted = once(session, "stream") as Promise<[YamuxStream]>;
  peer.send(FrameType.windowUpdate, Flag.syn, 1, 0);
  const [stream] = await accepted;
  const failed = once(stream, "error");
  peer.send(FrameType.windowUpdate, Flag.rst, 1, 0);
  const [err] = (await failed) as [Error];
  assert.match(err.message, /reset by the peer/);
});

test("data for a stream that no longer exists is skipped, and later frames are still read", async () => {
  const { session, peer } = pair();
  peer.sendData(99, Buffer.from("stale payload"));
  const accepted = once(session, "stream") as Promise<[YamuxStream]>;
  peer.send(FrameType.windowUpdate, Flag.syn, 3, 0);
  const [stream] = await accepted;
  assert.equal(stream.id, 3);
  assert.equal(session.isClosed, false);
});

test("a duplicate SYN for an open stream is a protocol error", async () => {
  const { session, peer } = pair();
  session.on("stream", (s) => s.on("error", () => undefined));
  peer.send(FrameType.windowUpdate, Flag.syn, 1, 0);
  peer.send(FrameType.windowUpdate, Flag.syn, 1, 0);
  const goAway = await peer.next((f) => f.type === FrameType.goAway);
  assert.equal(goAway.length, GoAwayCode.protocolError);
  assert.equal(session.isClosed, true);
});

test("after the peer's normal go away, no new stream can be opened but the session stays up", async () => {
  const { session, peer } = pair();
  peer.send(FrameType.goAway, 0, 0, GoAwayCode.normal);
  peer.send(FrameType.ping, Flag.syn, 0, 1);
  await peer.next((f) => f.type === FrameType.ping);
  assert.throws(() => session.open(), /not accepting new streams/);
  assert.equal(session.isClosed, false);
});

test("when the connection closes, open streams fail and pending establishments reject", async () => {
  const { session, theirs } = pair();
  const s = session.open();
  s.on("error", () => undefined);
  theirs.destroy();
  await assert.rejects(s.established, /closed/);
  assert.equal(session.isClosed, true);
});

test("close() sends a normal go away and ends every stream", async () => {
  const { session, peer } = pair();
  const s = session.open();
  s.on("error", () => undefined);
  session.close();
  const goAway = await peer.next((f) => f.type === FrameType.goAway);
  assert.equal(goAway.length, GoAwayCode.normal);
  await assert.rejects(s.established);
});
