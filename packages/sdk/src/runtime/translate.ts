// Conversion between the wire messages of package pb and the logical layer.
// The host parses every JSON string field with Go's json.Unmarshal, so an
// empty string there is an error; and it rejects lease options without an
// issue time. Both rules are enforced here, once.
import type * as pb from "../proto/pb/backend.ts";
import type { JsonObject, Operation, Request, Response, Secret, SpecialPaths, Storage } from "../logical/types.ts";
import { LogicalError, READ_ONLY_MESSAGE } from "../logical/errors.ts";
import { parseJson, stringifyJson } from "../logical/json.ts";

const NS_PER_SECOND = 1_000_000_000n;

// A Go time.Duration is int64 nanoseconds (about 292 years). A longer TTL
// cannot travel, so it is sent as the longest one (the server caps it at the
// mount's maximum anyway); NaN, which no Duration can hold either, as 0.
const MAX_DURATION_SECONDS = Number((2n ** 63n - 1n) / NS_PER_SECOND);

export const secondsToNanos = (seconds: number): bigint =>
  Number.isNaN(seconds) ? 0n : BigInt(Math.trunc(Math.min(Math.max(seconds, -MAX_DURATION_SECONDS), MAX_DURATION_SECONDS))) * NS_PER_SECOND;
export const nanosToSeconds = (nanos: bigint): number => Number(nanos / NS_PER_SECOND);

const OPERATIONS: ReadonlySet<string> = new Set<Operation>([
  "create", "read", "update", "patch", "delete", "list", "help", "revoke", "renew", "rollback",
  "alias-lookahead", "resolve-role", "header",
]);

export class WireFormatError extends Error {}

function parseObject(text: string, field: string): JsonObject {
  if (text === "" || text === "null") return {};
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    throw new WireFormatError(err instanceof RangeError ? `${field} is nested too deeply` : `${field} is not valid JSON`);
  }
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new WireFormatError(`${field} must be a JSON object`);
  }
  return value as JsonObject;
}

function headersFromWire(headers: { [key: string]: pb.Header }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = [...v.header];
  return out;
}

function headersToWire(headers: Record<string, string[]> | undefined): { [key: string]: pb.Header } {
  const out: { [key: string]: pb.Header } = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = { header: [...v] };
  return out;
}

function secretFromWire(secret: pb.Secret): Secret {
  const lo = secret.leaseOptions;
  // Go can send any int64 of seconds; a Date holds ±8.64e15 ms, and an
  // invalid one would fail the response's encoding instead.
  if (lo?.issueTime && Number.isNaN(lo.issueTime.getTime())) throw new WireFormatError("secret.lease_options.issue_time is out of range");
  return {
    leaseOptions: {
      ttl: lo ? nanosToSeconds(lo.TTL) : 0,
      maxTtl: lo ? nanosToSeconds(lo.MaxTTL) : 0,
      renewable: lo?.renewable ?? false,
      increment: lo ? nanosToSeconds(lo.increment) : 0,
      issueTime: lo?.issueTime ?? new Date(),
    },
    internalData: parseObject(secret.internalData, "secret.internal_data"),
    leaseId: secret.leaseId,
  };
}

export function requestFromWire(req: pb.Request, storage: Storage): Request {
  if (!OPERATIONS.has(req.operation)) {
    throw new LogicalError("unsupported-operation", `unsupported operation "${req.operation}"`);
  }
  const request: Request = {
    id: req.id,
    operation: req.operation as Operation,
    path: req.path,
    data: parseObject(req.data, "request data"),
    storage,
    mountPoint: req.mountPoint,
    mountType: req.mountType,
    mountAccessor: req.mountAccessor,
    displayName: req.displayName,
    entityId: req.entityId,
    clientTokenAccessor: req.clientTokenAccessor,
    clientToken: req.clientToken,
    unauthenticated: req.unauthenticated,
    headers: headersFromWire(req.headers),
    wrapTtl: req.wrapInfo ? nanosToSeconds(req.wrapInfo.TTL) : 0,
  };
  if (req.secret) request.secret = secretFromWire(req.secret);
  return request;
}

export function responseToWire(resp: Response, now: Date = new Date()): pb.Response {
  const out: pb.Response = {
    secret: undefined,
    auth: undefined,
    data: resp.data === undefined ? "null" : stringifyJson(resp.data),
    redirect: "",
    warnings: [...(resp.warnings ?? [])],
    wrapInfo: undefined,
    headers: headersToWire(resp.headers),
    mountType: "",
  };
  if (resp.secret) {
    const lo = resp.secret.leaseOptions;
    out.secret = {
      leaseOptions: {
        TTL: secondsToNanos(lo.ttl ?? 0),
        MaxTTL: secondsToNanos(lo.maxTtl ?? 0),
        renewable: lo.renewable ?? false,
        increment: secondsToNanos(lo.increment ?? 0),
        issueTime: lo.issueTime ?? now,
      },
      internalData: stringifyJson(resp.secret.internalData ?? {}),
      leaseId: "",
    };
  }
  return out;
}

/** err_type values of the protocol's ProtoError. */
export const ErrType = {
  unknown: 0,
  user: 1,
  internal: 2,
  coded: 3,
  statusBadRequest: 4,
  unsupportedOperation: 5,
  unsupportedPath: 6,
  invalidRequest: 7,
  permissionDenied: 8,
} as const;

export interface WireFailure {
  response: pb.Response | undefined;
  err: pb.ProtoError;
}

/**
 * Maps a LogicalError to what the Go SDK would send, so the server answers with
 * the same status and message as for a Go plugin. "invalid-request" is the Go
 * framework's ErrorResponse plus ErrInvalidRequest: the message travels in the
 * response's "error" key, and the server returns it with a 400.
 */
export function errorToWire(err: LogicalError): WireFailure {
  const warnings = err.warnings;
  switch (err.kind) {
    case "invalid-request":
      return {
        response: responseToWire({ data: { error: err.message }, warnings }),
        err: { errType: ErrType.invalidRequest, errMsg: "invalid request", errCode: 0n },
      };
    case "bad-request":
      return { response: undefined, err: { errType: ErrType.statusBadRequest, errMsg: err.message, errCode: 0n } };
    case "permission-denied":
      return { response: undefined, err: { errType: ErrType.permissionDenied, errMsg: "permission denied", errCode: 0n } };
    case "unsupported-path":
      return { response: undefined, err: { errType: ErrType.unsupportedPath, errMsg: "unsupported path", errCode: 0n } };
    case "unsupported-operation":
      return { response: undefined, err: { errType: ErrType.unsupportedOperation, errMsg: "unsupported operation", errCode: 0n } };
    case "coded":
      return { response: undefined, err: { errType: ErrType.coded, errMsg: err.message, errCode: BigInt(err.status) } };
    case "read-only":
      // As a Go plugin's errors.New value travels: the server matches the message to forward.
      return { response: undefined, err: { errType: ErrType.unknown, errMsg: READ_ONLY_MESSAGE, errCode: 0n } };
    case "internal":
      return { response: undefined, err: { errType: ErrType.internal, errMsg: err.message, errCode: 0n } };
  }
}

export function specialPathsToWire(paths: SpecialPaths): pb.Paths {
  return {
    root: [...(paths.root ?? [])],
    unauthenticated: [...(paths.unauthenticated ?? [])],
    localStorage: [...(paths.localStorage ?? [])],
    sealWrapStorage: [...(paths.sealWrapStorage ?? [])],
    writeForwardedStorage: [...(paths.writeForwardedStorage ?? [])],
    binary: [...(paths.binary ?? [])],
    limited: [...(paths.limited ?? [])],
    allowSnapshotRead: [...(paths.allowSnapshotRead ?? [])],
  };
}
