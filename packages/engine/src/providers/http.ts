// The HTTP layer shared by every provider client: timeouts, a response size
// cap, bounded concurrency per connection, and retries with jittered backoff
// that honour Retry-After. It knows nothing of Vault.
//
// It speaks node:http(s) with a keep-alive agent per client rather than
// fetch: fetch's WHATWG objects and WebAssembly parser cost about twice the
// CPU per call, and a key's issue and revoke are each one call.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts after this much time has passed since the first attempt. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 8_000, maxTotalMs: 20_000 };

/** How long one attempt waits for the provider's answer, body included. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface RequestRecord {
  provider: string;
  method: string;
  /** The path template, e.g. "/organization/projects/{id}", never with ids or secrets. */
  operation: string;
  status: number | "network-error" | "timeout";
  durationMs: number;
  attempt: number;
}

export interface HttpClientOptions {
  provider: string;
  baseUrl: string;
  headers: () => Record<string, string>;
  /**
   * The connection's credential, cut out of every error: providers echo keys
   * they do not know (LiteLLM: "Received=<key>"), in forms no pattern covers.
   */
  credential?: () => string;
  timeoutMs?: number;
  maxResponseBytes?: number;
  retry?: Partial<RetryPolicy>;
  /** Requests in flight at once on this connection; further ones queue. */
  maxConcurrency?: number;
  /** For an https base URL: the only CAs to trust (PEM), instead of the system's; or no verification at all. */
  tls?: { ca?: string; insecure?: boolean };
  onRequest?: (record: RequestRecord) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** An error from a provider call, safe to show: no secret, no response dump. */
export class ProviderError extends Error {
  readonly provider: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryable: boolean;
  constructor(provider: string, message: string, options: { status?: number; code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProviderError";
    this.provider = provider;
    this.status = options.status;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
  }
}

export interface RequestOptions {
  /** A template naming the operation for logs and metrics. */
  operation: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /**
   * Safe to send twice. Non-idempotent requests are retried only when the
   * provider certainly did not act on them: a 429, a 503, or a connection
   * that was refused before anything was sent.
   */
  idempotent: boolean;
  /** Per call; defaults to the client's. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  body: unknown;
  headers: IncomingHttpHeaders;
}

class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];
  constructor(size: number) {
    this.available = size;
  }
  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return () => {
      const next = this.waiters.shift();
      if (next) next();
      else this.available++;
    };
  }
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why an attempt failed before a whole response arrived. */
class AttemptFailure extends Error {
  readonly stage: "connect" | "body" | "body-timeout" | "timeout" | "too-large";
  /** The response's status, when its headers had arrived. */
  readonly status: number | undefined;
  constructor(stage: AttemptFailure["stage"], cause: unknown, status?: number) {
    super(stage, { cause });
    this.stage = stage;
    this.status = status;
  }
}

/** The scheme as requests will see it: URL parsing lowercases and trims what was stored as typed. */
function protocolOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).protocol;
  } catch {
    return "";
  }
}

/** Whether a failure is the provider's TLS certificate being refused (OpenSSL's verification codes). */
export function certificateRefused(err: unknown): boolean {
  const code = networkCode(err instanceof ProviderError ? err.cause : err);
  return code !== undefined && /^(UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|ERR_TLS_CERT_ALTNAME_INVALID$)/.test(code);
}

/** Idle connections are closed before a provider would close them under us (undici's default). */
const KEEP_ALIVE_MS = 4_000;

// Only a failure of the network, never a programming error, is worth retrying.
const NETWORK_CODES = /^(?!ERR_)E[A-Z0-9_]+$/;

export class HttpClient {
  readonly provider: string;
  private readonly options: HttpClientOptions;
  private readonly retry: RetryPolicy;
  private readonly semaphore: Semaphore;
  // Chosen together from the base URL: an https request needs the https agent.
  private readonly agent: HttpAgent;
  private readonly sendRequest: typeof httpRequest;

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.provider = options.provider;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.semaphore = new Semaphore(options.maxConcurrency ?? 16);
    // HTTP(S)_PROXY and NO_PROXY apply when NODE_USE_ENV_PROXY is set, as they did for fetch.
    const agentOptions = { keepAlive: true, timeout: KEEP_ALIVE_MS, ...(process.env["NODE_USE_ENV_PROXY"] ? { proxyEnv: process.env } : {}) };
    const https = protocolOf(options.baseUrl) === "https:";
    this.agent = https
      ? new HttpsAgent({ ...agentOptions, ...(options.tls?.ca ? { ca: options.tls.ca } : {}), rejectUnauthorized: options.tls?.insecure !== true })
      : new HttpAgent(agentOptions);
    this.sendRequest = https ? httpsRequest : httpRequest;
  }

  /** Closes the idle connections this client keeps open; a later request opens new ones. */
  close(): void {
    this.agent.destroy();
  }

  /** One attempt: the status, headers and whole body, or why there are none. */
  private send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, limit: number): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      let settled = false;
      const fail = (failure: AttemptFailure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(failure);
      };
      const req = this.sendRequest(url, { method, headers, agent: this.agent });
      const timer = setTimeout(() => fail(new AttemptFailure(response ? "body-timeout" : "timeout", undefined, response?.statusCode)), timeoutMs);
      req.on("error", (err) => fail(new AttemptFailure(response ? "body" : "connect", err, response?.statusCode)));
      req.on("response", (res) => {
        response = res;
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers["content-length"]);
        if (declared > limit) return fail(new AttemptFailure("too-large", undefined, res.statusCode));
        res.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > limit) return fail(new AttemptFailure("too-large", undefined, res.statusCode));
          chunks.push(chunk);
        });
        res.on("error", (err) => fail(new AttemptFailure("body", err, res.statusCode)));
        res.on("close", () => {
          if (!res.complete) fail(new AttemptFailure("body", undefined, res.statusCode));
        });
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.end(body);
    });
  }

  private url(path: string, query?: Record<string, string | number | undefined>): URL {
    const base = this.options.baseUrl.replace(/\/+$/, "");
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const jittered = exp / 2 + Math.random() * (exp / 2);
    return Math.min(this.retry.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  async request(method: string, path: string, options: RequestOptions): Promise<HttpResponse> {
    const started = Date.now();
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.once(method, path, options, attempt);
      if (outcome.kind === "ok") return outcome.response;
      const canRetry =
        attempt < this.retry.maxAttempts &&
        (options.idempotent ? outcome.error.retryable : outcome.safeToResend) &&
        Date.now() - started < this.retry.maxTotalMs;
      if (!canRetry) throw this.withoutCredential(outcome.error);
      const delay = this.backoff(attempt, outcome.retryAfterMs);
      if (Date.now() - started + delay > this.retry.maxTotalMs) throw this.withoutCredential(outcome.error);
      await sleep(delay);
    }
  }

  private withoutCredential(err: ProviderError): ProviderError {
    const secret = this.options.credential?.() ?? "";
    if (secret.length < 4 || !err.message.includes(secret)) return err;
    return new ProviderError(err.provider, err.message.split(secret).join("[redacted]"), {
      ...(err.status === undefined ? {} : { status: err.status }),
      ...(err.code === undefined ? {} : { code: err.code }),
      retryable: err.retryable,
    });
  }

  private async once(
    method: string,
    path: string,
    options: RequestOptions,
    attempt: number,
  ): Promise<{ kind: "ok"; response: HttpResponse } | { kind: "error"; error: ProviderError; safeToResend: boolean; retryAfterMs?: number }> {
    const release = await this.semaphore.acquire();
    const t0 = Date.now();
    const record = (status: RequestRecord["status"]) =>
      this.options.onRequest?.({ provider: this.provider, method, operation: options.operation, status, durationMs: Date.now() - t0, attempt });
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const limit = this.options.maxResponseBytes ?? 1 << 20;
    try {
      const headers: Record<string, string> = { Accept: "application/json", ...this.options.headers() };
      let payload: string | undefined;
      if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers["Content-Type"] = "application/json";
      }
      let res: { status: number; headers: IncomingHttpHeaders; text: string };
      try {
        res = await this.send(this.url(path, options.query), method, headers, payload, timeoutMs, limit);
      } catch (err) {
        const stage = err instanceof AttemptFailure ? err.stage : "connect";
        const cause = err instanceof AttemptFailure ? err.cause : err;
        const status = err instanceof AttemptFailure ? err.status : undefined;
        if (stage === "too-large") {
          record(status ?? "network-error");
          return { kind: "error", safeToResend: false, error: new ProviderError(this.provider, `${this.provider} sent a response larger than ${limit} bytes; refusing it`, status === undefined ? {} : { status }) };
        }
        if (stage === "body" || stage === "body-timeout") {
          record(status ?? "network-error");
          const what = stage === "body" ? "broke off" : "timed out while sending";
          return { kind: "error", safeToResend: false, error: new ProviderError(this.provider, `${this.provider} ${what} the response to ${options.operation}`, { retryable: true, cause }) };
        }
        const timedOut = stage === "timeout";
        const code = networkCode(cause);
        record(timedOut ? "timeout" : "network-error");
        return {
          kind: "error",
          safeToResend: code === "ECONNREFUSED",
          error: new ProviderError(
            this.provider,
            // Only the error code is shown: a message can quote the request
            // (an invalid header value, the key included).
            timedOut ? `${this.provider} did not answer ${options.operation} within ${timeoutMs} ms` : `cannot reach ${this.provider} for ${options.operation}${code ? `: ${code}` : ""}`,
            { retryable: timedOut || (code !== undefined && NETWORK_CODES.test(code)), cause },
          ),
        };
      }
      const text = res.text;
      record(res.status);
      let body: unknown = undefined;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      if (res.status >= 200 && res.status < 300) {
        if (text.length > 0 && body === undefined) {
          return { kind: "error", safeToResend: false, error: new ProviderError(this.provider, `${this.provider} answered ${options.operation} with a body that is not JSON`, { status: res.status }) };
        }
        return { kind: "ok", response: { status: res.status, body, headers: res.headers } };
      }
      const retryable = res.status === 429 || res.status >= 500;
      const { message, code } = describeError(body);
      const retryAfter = res.headers["retry-after"];
      const retryAfterMs = parseRetryAfter(typeof retryAfter === "string" ? retryAfter : null);
      return {
        kind: "error",
        safeToResend: res.status === 429 || res.status === 503,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        error: new ProviderError(this.provider, `${this.provider} refused ${options.operation} (HTTP ${res.status})${message ? `: ${message}` : ""}`, {
          status: res.status,
          ...(code ? { code } : {}),
          retryable,
        }),
      };
    } finally {
      release();
    }
  }
}

/** Pulls a human message out of the error envelopes providers use, cut short and cleaned of key-like strings. */
export function describeError(body: unknown): { message: string; code: string | undefined } {
  let message = "";
  let code: string | undefined;
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const inner = (b["error"] && typeof b["error"] === "object" ? b["error"] : b) as Record<string, unknown>;
    if (typeof inner["message"] === "string") message = inner["message"];
    else if (typeof b["error"] === "string") message = b["error"];
    else if (typeof b["detail"] === "string") message = b["detail"];
    if (typeof inner["code"] === "string" || typeof inner["code"] === "number") code = String(inner["code"]);
    if (typeof inner["type"] === "string" && !message.includes(inner["type"])) message = message ? `${inner["type"]}: ${message}` : inner["type"];
  }
  return { message: redactSecrets(message).slice(0, 300), code };
}

/** Replaces anything shaped like an API key, so a provider echoing one never puts it in an error. */
export function redactSecrets(text: string): string {
  return text.replace(/\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}/g, "[redacted]").replace(/Bearer\s+\S+/gi, "Bearer [redacted]");
}

/**
 * Whether the provider certainly did not act on a request: it answered with
 * a client error other than a timeout or a rate limit. After a 5xx, a
 * timeout or a broken connection, it may have.
 */
export function providerRefused(err: unknown): boolean {
  return err instanceof ProviderError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}
