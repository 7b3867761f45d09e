// Errors a backend throws to give the client a chosen HTTP status through the
// server. Each maps to one of the protocol's err_type values, which the host
// turns back into the Go SDK's sentinel errors.

export type ErrorKind =
  | "invalid-request" // 400, with the message shown to the client
  | "bad-request" // 400
  | "permission-denied" // 403
  | "unsupported-path" // 404
  | "unsupported-operation" // 405
  | "coded" // the chosen status
  | "read-only" // this node cannot write: the server forwards the request to the active node
  | "internal"; // 500

export class LogicalError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  /** Warnings still returned to the client alongside the error. */
  readonly warnings: string[];
  constructor(kind: ErrorKind, message: string, options: { status?: number; warnings?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LogicalError";
    this.kind = kind;
    this.status = options.status ?? defaultStatus(kind);
    this.warnings = options.warnings ?? [];
  }
}

function defaultStatus(kind: ErrorKind): number {
  switch (kind) {
    case "invalid-request":
    case "bad-request":
      return 400;
    case "permission-denied":
      return 403;
    case "unsupported-path":
      return 404;
    case "unsupported-operation":
      return 405;
    case "read-only":
      return 503;
    case "coded":
    case "internal":
      return 500;
  }
}

/** 400: the request is wrong; the message tells the caller what to fix. */
export const invalidRequest = (message: string, warnings?: string[]) =>
  new LogicalError("invalid-request", message, warnings ? { warnings } : {});
export const permissionDenied = (message = "permission denied") => new LogicalError("permission-denied", message);
export const unsupportedPath = (message = "unsupported path") => new LogicalError("unsupported-path", message);
export const unsupportedOperation = (message = "unsupported operation") => new LogicalError("unsupported-operation", message);
/**
 * The Go SDK's logical.ErrReadOnly. A read-enabled standby (OpenBao's
 * standby reads, Vault Enterprise's performance standbys) that gets it back
 * from a plugin forwards the request to the active node.
 */
export const READ_ONLY_MESSAGE = "cannot write to readonly storage";
export const readOnly = () => new LogicalError("read-only", READ_ONLY_MESSAGE);
/** Any HTTP status, as the Go SDK's logical.CodedError. */
export const codedError = (status: number, message: string) => new LogicalError("coded", message, { status });
