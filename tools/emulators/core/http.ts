// The request and response values handlers work with. Handlers return a
// response instead of writing to the socket so that faults can act on it
// afterwards: mangle its body, withhold it, or drop it once the side effect
// has happened.
import type { IncomingHttpHeaders } from "node:http";

export interface EmulatorRequest {
  readonly method: string;
  /** The URL path, without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Values of the route's ":name" segments, URL-decoded. */
  readonly params: Record<string, string>;
  /** The parsed JSON body; undefined when the body was empty. */
  readonly body: unknown;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialized as JSON unless rawBody is set. */
  body?: unknown;
  /** Sent byte for byte; takes precedence over body. */
  rawBody?: string | Buffer;
}

export type Handler = (req: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;

export function json(status: number, body: unknown, headers?: Record<string, string>): EmulatorResponse {
  return headers === undefined ? { status, body } : { status, body, headers };
}

/** The body bytes and content type a response will be sent with. */
export function serializeBody(res: EmulatorResponse): { bytes: Buffer; contentType: string | undefined } {
  if (res.rawBody !== undefined) {
    return { bytes: Buffer.isBuffer(res.rawBody) ? res.rawBody : Buffer.from(res.rawBody, "utf8"), contentType: undefined };
  }
  if (res.body === undefined) return { bytes: Buffer.alloc(0), contentType: undefined };
  return { bytes: Buffer.from(JSON.stringify(res.body), "utf8"), contentType: "application/json" };
}

export function header(req: EmulatorRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0];
  return value;
}

/**
 * The token of an "Authorization: Bearer <token>" header. Undefined when the
 * header is absent or uses another scheme. The scheme is matched
 * case-insensitively, as RFC 7235 requires.
 */
export function bearerToken(req: EmulatorRequest): string | undefined {
  const value = header(req, "authorization");
  if (value === undefined) return undefined;
  const match = /^bearer\s+(.*)$/i.exec(value.trim());
  if (!match) return undefined;
  const token = (match[1] ?? "").trim();
  return token === "" ? undefined : token;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Replaces anything that looks like a key in a path, so logs never hold one. */
export function redactPath(path: string): string {
  return path
    .split("/")
    .map((segment) => (/^sk-/i.test(segment) || /^sk-/i.test(safeDecode(segment)) ? "sk-***" : segment))
    .join("/");
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A response a helper returns instead of a value, e.g. a 400 from body
 * validation. A class, so that checking for it cannot be confused with a
 * request body that happens to have a "status" field.
 */
export class Refusal {
  readonly response: EmulatorResponse;
  constructor(response: EmulatorResponse) {
    this.response = response;
  }
}
