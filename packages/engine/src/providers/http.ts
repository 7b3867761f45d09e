// The HTTP layer shared by every provider client: timeouts, a response size
// cap, bounded concurrency per connection, and retries with jittered backoff
// that honour Retry-After. It knows nothing of Vault.

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
  headers: Headers;
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

async function readCapped(res: Response, limit: number, provider: string): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ProviderError(provider, `${provider} sent a response larger than ${limit} bytes; refusing it`, { status: res.status });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class HttpClient {
  readonly provider: string;
  private readonly options: HttpClientOptions;
  private readonly retry: RetryPolicy;
  private readonly semaphore: Semaphore;

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.provider = options.provider;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.semaphore = new Semaphore(options.maxConcurrency ?? 16);
  }

  private url(path: string, query?: Record<string, string | number | undefined>): string {
    const base = this.options.baseUrl.replace(/\/+$/, "");
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
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
    try {
      const init: RequestInit = { method, headers: { Accept: "application/json", ...this.options.headers() }, redirect: "error", signal: AbortSignal.timeout(timeoutMs) };
      if (options.body !== undefined) {
        init.body = JSON.stringify(options.body);
        (init.headers as Record<string, string>)["Content-Type"] = "application/json";
      }
      let res: Response;
      try {
        res = await fetch(this.url(path, options.query), init);
      } catch (err) {
        const timedOut = (err as Error)?.name === "TimeoutError";
        const code = networkCode(err);
        record(timedOut ? "timeout" : "network-error");
        const refused = code === "ECONNREFUSED";
        return {
          kind: "error",
          safeToResend: refused,
          error: new ProviderError(
            this.provider,
            // Only the error code is shown: a message can quote the request
            // (Node's fetch repeats an invalid header value, the key included).
            timedOut ? `${this.provider} did not answer ${options.operation} within ${timeoutMs} ms` : `cannot reach ${this.provider} for ${options.operation}${code ? `: ${code}` : ""}`,
            { retryable: timedOut || code !== undefined, cause: err },
          ),
        };
      }
      let text: string;
      try {
        text = await readCapped(res, this.options.maxResponseBytes ?? 1 << 20, this.provider);
      } catch (err) {
        record(res.status);
        if (err instanceof ProviderError) return { kind: "error", error: err, safeToResend: false };
        const timedOut = (err as Error)?.name === "TimeoutError";
        return {
          kind: "error",
          safeToResend: false,
          error: new ProviderError(this.provider, `${this.provider} ${timedOut ? "timed out while sending" : "broke off"} the response to ${options.operation}`, { retryable: true, cause: err }),
        };
      }
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
      const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
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
