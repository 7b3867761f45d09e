// Translation between the wire messages and the logical layer: the rules a
// Go host enforces when it parses what the plugin sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { errorToWire, ErrType, requestFromWire, responseToWire, WireFormatError } from "../src/runtime/translate.ts";
import { LogicalError } from "../src/logical/errors.ts";
import { parseJson, stringifyJson } from "../src/logical/json.ts";
import { hclogTimestamp, createLogger } from "../src/runtime/logger.ts";
import { negotiateProtocolVersion } from "../src/runtime/env.ts";
import { InMemoryStorage } from "../src/testing/index.ts";
import * as pb from "../src/proto/pb/backend.ts";

const wireRequest = (over: Partial<pb.Request>): pb.Request => ({
  id: "r", ReplicationCluster: "", operation: "read", path: "p", data: "null", secret: undefined, auth: undefined, headers: {},
  clientToken: "", clientTokenAccessor: "", displayName: "", mountPoint: "m/", mountType: "", mountAccessor: "", wrapInfo: undefined,
  clientTokenRemainingUses: 0n, entityId: "", policyOverride: false, unauthenticated: false, connection: undefined, requiresSnapshotId: "",
  ...over,
});

test("request data of \"null\" becomes an empty object", () => {
  assert.deepEqual(requestFromWire(wireRequest({ data: "null" }), new InMemoryStorage()).data, {});
});

test("integers beyond 2^53 in request data keep every digit", () => {
  const req = requestFromWire(wireRequest({ data: '{"n": 9223372036854775807, "small": 5}' }), new InMemoryStorage());
  assert.equal(req.data["n"], 9223372036854775807n);
  assert.equal(req.data["small"], 5);
});

test("request data nested 10,000 levels deep, as Go's JSON decoder allows, is read", () => {
  const deep = `{"a":${"[".repeat(10_000)}1${"]".repeat(10_000)}}`;
  const req = requestFromWire(wireRequest({ data: deep }), new InMemoryStorage());
  assert.ok(Array.isArray(req.data["a"]));
});

test("request data too deeply nested to keep its big integers exact is refused as such, not as invalid JSON", () => {
  const data = `{"n":9007199254740993,"a":${"[".repeat(10_000)}1${"]".repeat(10_000)}}`;
  assert.throws(() => requestFromWire(wireRequest({ data }), new InMemoryStorage()), (err: unknown) => err instanceof WireFormatError && err.message === "request data is nested too deeply");
});

test("big integers serialize back as plain JSON numbers", () => {
  assert.equal(stringifyJson({ n: 9223372036854775807n }), '{"n":9223372036854775807}');
  assert.deepEqual(parseJson("[1.5, 2]"), [1.5, 2]);
});

test("a response without data sends JSON null, never an empty string", () => {
  assert.equal(responseToWire({}).data, "null");
});

test("a secret always carries an issue time and JSON internal data, with durations in nanoseconds", () => {
  const wire = responseToWire({ data: {}, secret: { internalData: {}, leaseOptions: { ttl: 60, maxTtl: 120 } } });
  assert.ok(wire.secret?.leaseOptions?.issueTime instanceof Date);
  assert.equal(wire.secret?.internalData, "{}");
  assert.equal(wire.secret?.leaseOptions?.TTL, 60_000_000_000n);
  assert.equal(wire.secret?.leaseOptions?.MaxTTL, 120_000_000_000n);
});

test("a lease duration beyond Go's int64 nanoseconds is sent as the longest one, so the response still encodes", () => {
  const wire = responseToWire({ data: {}, secret: { internalData: {}, leaseOptions: { ttl: 1e30, maxTtl: -1e300, increment: Number.NaN } } });
  assert.equal(wire.secret?.leaseOptions?.TTL, 9223372036n * 1_000_000_000n);
  assert.equal(wire.secret?.leaseOptions?.MaxTTL, -9223372036n * 1_000_000_000n);
  assert.equal(wire.secret?.leaseOptions?.increment, 0n);
  assert.ok(pb.Response.encode(wire).finish().length > 0);
});

test("the lease of a renew or revoke arrives in seconds with its internal data", () => {
  const req = requestFromWire(
    wireRequest({
      operation: "renew",
      secret: { leaseId: "", internalData: '{"secret_type":"t","id":"x"}', leaseOptions: { TTL: 5_000_000_000n, MaxTTL: 0n, renewable: true, increment: 7_000_000_000n, issueTime: new Date(0) } },
    }),
    new InMemoryStorage(),
  );
  assert.deepEqual(req.secret?.internalData, { secret_type: "t", id: "x" });
  assert.equal(req.secret?.leaseOptions.ttl, 5);
  assert.equal(req.secret?.leaseOptions.increment, 7);
});

test("a lease whose issue time no Date can hold is refused as malformed", () => {
  // Timestamp seconds of 2^62, encoded by hand: no Date can be encoded with it.
  const w = new BinaryWriter();
  w.uint32(50).fork().uint32(10).fork().uint32(34).fork().uint32(8).int64(2n ** 62n).join().join().uint32(18).string("{}").join();
  const req = pb.Request.decode(Uint8Array.from([...pb.Request.encode(wireRequest({ operation: "renew" })).finish(), ...w.finish()]));
  assert.throws(() => requestFromWire(req, new InMemoryStorage()), (err: unknown) => err instanceof WireFormatError && /issue_time is out of range/.test(err.message));
});

test("an invalid-request error travels as the Go framework's error response plus 'invalid request'", () => {
  const wire = errorToWire(new LogicalError("invalid-request", 'field "x" is wrong'));
  assert.equal(wire.response?.data, '{"error":"field \\"x\\" is wrong"}');
  assert.equal(wire.err.errType, ErrType.invalidRequest);
});

test("each error kind maps to the err_type the host turns into its HTTP status", () => {
  const cases: Array<[LogicalError, number]> = [
    [new LogicalError("bad-request", "x"), ErrType.statusBadRequest],
    [new LogicalError("permission-denied", "x"), ErrType.permissionDenied],
    [new LogicalError("unsupported-path", "x"), ErrType.unsupportedPath],
    [new LogicalError("unsupported-operation", "x"), ErrType.unsupportedOperation],
    [new LogicalError("internal", "x"), ErrType.internal],
  ];
  for (const [err, type] of cases) assert.equal(errorToWire(err).err.errType, type, err.kind);
  const coded = errorToWire(new LogicalError("coded", "teapot", { status: 418 }));
  assert.equal(coded.err.errType, ErrType.coded);
  assert.equal(coded.err.errCode, 418n);
});

test("a read-only error travels as Go's logical.ErrReadOnly does, its message untyped, which a standby matches to forward the request", () => {
  const wire = errorToWire(new LogicalError("read-only", "anything"));
  assert.equal(wire.err.errType, ErrType.unknown);
  assert.equal(wire.err.errMsg, "cannot write to readonly storage");
});

test("an unknown operation is refused as unsupported", () => {
  assert.throws(() => requestFromWire(wireRequest({ operation: "explode" }), new InMemoryStorage()), /unsupported operation/);
});

test("log timestamps have the six fractional digits Go's hclog parser needs", () => {
  assert.equal(hclogTimestamp(new Date("2026-01-02T03:04:05.678Z")), "2026-01-02T03:04:05.678000Z");
});

test("log records below the level are dropped, and fields never override @level or @message", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", module: "m", write: (l) => lines.push(l) });
  log.debug("hidden");
  log.info("shown", { "@level": 5, "@message": null, k: 1n });
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(rec["@level"], "info");
  assert.equal(rec["@message"], "shown");
  assert.equal(rec["k"], "1");
  assert.equal(rec["@module"], "m");
});

test("protocol negotiation prefers 5, accepts 4, and refuses anything else", () => {
  assert.equal(negotiateProtocolVersion("5"), 5);
  assert.equal(negotiateProtocolVersion("4,3"), 4);
  assert.equal(negotiateProtocolVersion("3,4,5"), 5);
  assert.equal(negotiateProtocolVersion("3"), undefined);
  assert.equal(negotiateProtocolVersion(undefined), undefined);
});
