// The HTTP server every emulator runs on: loopback only, JSON in and out, a
// request log, run-time faults, global latency, an optional rate limit, and a
// control API under /__emulator/ (a prefix no real provider uses).
//
// Order of events for an API request:
//   read body -> global latency -> rate limit -> fault (before) -> route ->
//   fault (after: error, drop, stall, malformed) -> write.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Clock } from "./clock.ts";
import { FaultRuleError, FaultStore, globToRegExp, malform, type FaultAction, type FaultRule, type FaultRuleInput } from "./faults.ts";
import { isRecord, json, redactPath, serializeBody, type EmulatorRequest, type EmulatorResponse, type Handler } from "./http.ts";
import { SettingsError, type ProviderFactory, type ProviderSpec } from "./provider.ts";
import { RequestLog, type RequestLogEntry, type RequestStats } from "./request-log.ts";
import { Router } from "./router.ts";

export const CONTROL_PREFIX = "/__emulator";

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_LATENCY_MS = 10 * 60 * 1000;

export interface RateLimitSetting {
  /** Requests allowed per window. */
  requests: number;
  windowMs: number;
  /** Glob over the path; default every API path. */
  path?: string;
  method?: string;
}

/** Run-time control of a running emulator, shared by tests and the HTTP control API. */
export interface EmulatorControl {
  /** Validates the rule (it may come from JSON) and returns it with its id. */
  addFault(rule: FaultRuleInput): FaultRule;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): FaultRule[];
  /** Milliseconds added to every API request before it is handled. */
  setLatency(ms: number): void;
  latency(): number;
  /** Throttles API requests; over the limit the provider's 429 comes back with Retry-After. */
  setRateLimit(limit: RateLimitSetting | null): void;
  requests(options?: { since?: number; limit?: number }): RequestLogEntry[];
  clearRequests(): void;
  stats(options?: { windowMs?: number }): RequestStats;
  /** Moves the emulator's clock (expiry, created_at) forward; real time is untouched. */
  advanceClock(ms: number): void;
  now(): number;
  state(): unknown;
  settings(): Record<string, unknown>;
  updateSettings(patch: Record<string, unknown>): void;
  /** Seeded state and initial settings back; faults, log, latency, rate limit and clock cleared. */
  reset(): void;
}

export interface RunningServer {
  /** Origin, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly control: EmulatorControl;
  readonly provider: ProviderSpec;
  readonly clock: Clock;
  close(): Promise<void>;
}

export interface ServerOptions {
  port?: number;
  /** Serve https with this certificate (its name must be localhost); the URL becomes https://localhost:<port>. */
  tls?: { certPem: string; keyPem: string };
  latencyMs?: number;
  maxBodyBytes?: number;
  provider: ProviderFactory;
}

class Dropped extends Error {}

export async function startEmulatorServer(options: ServerOptions): Promise<RunningServer> {
  const clock = new Clock();
  const provider = options.provider(clock);
  const faults = new FaultStore();
  const log = new RequestLog();
  const shutdown = new AbortController();
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const initialLatency = checkLatency(options.latencyMs ?? 0);
  let latencyMs = initialLatency;
  let rateLimit: (RateLimitSetting & { regex: RegExp }) | null = null;
  let rateWindow: number[] = [];

  const control: EmulatorControl = {
    addFault: (rule) => faults.add(rule),
    removeFault: (id) => faults.remove(id),
    clearFaults: () => faults.clear(),
    faults: () => faults.list(),
    setLatency: (ms) => {
      latencyMs = checkLatency(ms);
    },
    latency: () => latencyMs,
    setRateLimit: (limit) => {
      rateLimit = limit === null ? null : parseRateLimit(limit);
      rateWindow = [];
    },
    requests: (o) => log.entries(o),
    clearRequests: () => log.clear(),
    stats: (o) => log.stats(o?.windowMs),
    advanceClock: (ms) => clock.advance(ms),
    now: () => clock.now(),
    state: () => provider.state(),
    settings: () => ({ ...provider.settings(), rateLimit: rateLimit === null ? null : publicRateLimit(rateLimit) }),
    updateSettings: (patch) => {
      const { rateLimit: rl, ...rest } = patch;
      if (Object.keys(rest).length > 0) provider.updateSettings(rest);
      if (rl !== undefined) control.setRateLimit(rl === null ? null : (rl as RateLimitSetting));
    },
    reset: () => {
      provider.reset();
      faults.clear();
      log.clear();
      latencyMs = initialLatency;
      rateLimit = null;
      rateWindow = [];
      clock.reset();
    },
  };

  const controlRouter = buildControlRouter(control, provider);

  function rateLimited(method: string, path: string): number | undefined {
    const limit = rateLimit;
    if (limit === null) return undefined;
    if (limit.method !== undefined && limit.method.toUpperCase() !== method.toUpperCase()) return undefined;
    if (!limit.regex.test(path)) return undefined;
    const now = Date.now();
    rateWindow = rateWindow.filter((t) => t > now - limit.windowMs);
    if (rateWindow.length >= limit.requests) {
      const oldest = rateWindow[0] ?? now;
      return Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000));
    }
    rateWindow.push(now);
    return undefined;
  }

  async function handleApi(nodeReq: IncomingMessage, nodeRes: ServerResponse, url: URL): Promise<void> {
    const method = (nodeReq.method ?? "GET").toUpperCase();
    let path = url.pathname;
    if (provider.ignoreTrailingSlash && path.length > 1 && path.endsWith("/")) path = path.replace(/\/+$/, "");
    const entry = log.start(method, redactPath(path));
    nodeRes.on("close", () => {
      if (!nodeRes.writableFinished) log.finish(entry, "aborted", null);
    });
    const req: { -readonly [K in keyof EmulatorRequest]: EmulatorRequest[K] } = {
      method,
      path,
      query: url.searchParams,
      headers: nodeReq.headers,
      params: {},
      body: undefined,
    };
    const ctx = { method, path };
    try {
      const raw = await readBody(nodeReq, maxBody);
      if (raw === "aborted") throw new Dropped();
      const route = provider.routes.lookup(method, path);
      if (route.kind === "match") entry.route = route.pattern;
      if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: shutdown.signal });

      const retryAfter = rateLimited(method, path);
      if (retryAfter !== undefined) {
        await write(nodeRes, entry, decorate(provider.errorResponse(429, { ...ctx, retryAfterSeconds: retryAfter }), req), {});
        return;
      }

      const fault = faults.take(method, path);
      const action: FaultAction | undefined = fault?.action;
      if (action !== undefined) entry.fault = action.type;

      if (action?.type === "latency") await sleep(action.ms, undefined, { signal: shutdown.signal });
      if (action?.type === "drop" && !action.afterHandler) return drop(nodeReq, nodeRes, entry);
      if (action?.type === "status" && !action.afterHandler) {
        await write(nodeRes, entry, decorate(injectedError(provider, action, ctx), req), {});
        return;
      }

      let response: EmulatorResponse;
      if (raw === "too-large") {
        response = provider.invalidBody(req, "too-large");
      } else {
        if (route.kind !== "match") {
          response = provider.unknownRoute(req, route.kind === "method-not-allowed");
        } else {
          req.params = route.params;
          const parsed = parseJson(raw);
          if (parsed === INVALID) {
            response = provider.invalidBody(req, "invalid-json");
          } else {
            req.body = parsed;
            response = await route.handler(req);
          }
        }
      }
      response = decorate(response, req);

      if (action?.type === "drop") return drop(nodeReq, nodeRes, entry);
      if (action?.type === "status") {
        await write(nodeRes, entry, decorate(injectedError(provider, action, ctx), req), {});
        return;
      }
      if (action?.type === "stall") {
        await write(nodeRes, entry, response, { stallMs: action.ms, stallPhase: action.phase ?? "headers" });
        return;
      }
      if (action?.type === "malformed") {
        const broken = malform(response, action);
        await write(nodeRes, entry, broken.response, { truncate: broken.truncate });
        return;
      }
      await write(nodeRes, entry, response, {});
    } catch (err) {
      if (err instanceof Dropped || shutdown.signal.aborted || nodeRes.destroyed) {
        drop(nodeReq, nodeRes, entry);
        return;
      }
      process.stderr.write(`emulator ${provider.name}: ${method} ${redactPath(path)} failed: ${(err as Error).stack ?? String(err)}\n`);
      if (!nodeRes.headersSent) await write(nodeRes, entry, decorate(provider.errorResponse(500, ctx), req), {}).catch(() => undefined);
      else drop(nodeReq, nodeRes, entry);
    }
  }

  function decorate(res: EmulatorResponse, req: EmulatorRequest): EmulatorResponse {
    return provider.decorate ? provider.decorate(res, req) : res;
  }

  function drop(nodeReq: IncomingMessage, nodeRes: ServerResponse, entry: RequestLogEntry): void {
    log.finish(entry, "dropped", null);
    nodeRes.destroy();
    nodeReq.socket.destroy();
  }

  async function write(
    nodeRes: ServerResponse,
    entry: RequestLogEntry,
    res: EmulatorResponse,
    opts: { stallMs?: number; stallPhase?: "headers" | "body"; truncate?: boolean },
  ): Promise<void> {
    const { bytes, contentType } = serializeBody(res);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) headers[k.toLowerCase()] = v;
    if (contentType !== undefined && headers["content-type"] === undefined) headers["content-type"] = contentType;
    headers["content-length"] = String(bytes.length);
    if (opts.stallMs !== undefined && opts.stallPhase === "headers") await sleep(opts.stallMs, undefined, { signal: shutdown.signal });
    if (nodeRes.destroyed) throw new Dropped();
    nodeRes.writeHead(res.status, headers);
    if (opts.stallMs !== undefined && opts.stallPhase === "body") {
      nodeRes.flushHeaders();
      await sleep(opts.stallMs, undefined, { signal: shutdown.signal });
      if (nodeRes.destroyed) throw new Dropped();
    }
    if (opts.truncate) {
      await new Promise<void>((resolve) => nodeRes.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => resolve()));
      // The declared Content-Length is never reached: the client sees the
      // connection end in the middle of the body.
      log.finish(entry, "dropped", res.status);
      nodeRes.destroy();
      return;
    }
    log.finish(entry, "response", res.status);
    nodeRes.end(bytes);
  }

  async function handleControl(nodeReq: IncomingMessage, nodeRes: ServerResponse, url: URL): Promise<void> {
    const method = (nodeReq.method ?? "GET").toUpperCase();
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    let res: EmulatorResponse;
    try {
      const raw = await readBody(nodeReq, maxBody);
      if (raw === "aborted") return;
      const parsed = raw === "too-large" ? INVALID : parseJson(raw);
      const core = controlRouter.lookup(method, path);
      const route = core.kind === "none" && provider.controlRoutes !== undefined ? provider.controlRoutes.lookup(method, path) : core;
      if (parsed === INVALID) res = json(400, { error: "control request body must be JSON" });
      else if (route.kind === "none") res = json(404, { error: `no control route ${method} ${path}` });
      else if (route.kind === "method-not-allowed") res = json(405, { error: `method ${method} not allowed on ${path}` });
      else res = await route.handler({ method, path, query: url.searchParams, headers: nodeReq.headers, params: route.params, body: parsed });
    } catch (err) {
      const known = err instanceof FaultRuleError || err instanceof SettingsError || err instanceof RangeError || err instanceof ControlInputError;
      res = json(known ? 400 : 500, { error: (err as Error).message });
    }
    const { bytes } = serializeBody(res);
    nodeRes.writeHead(res.status, { "content-type": "application/json", "content-length": String(bytes.length) });
    nodeRes.end(bytes);
  }

  const sockets = new Set<Socket>();
  const handler = (nodeReq: IncomingMessage, nodeRes: ServerResponse) => {
    const url = new URL(nodeReq.url ?? "/", "http://127.0.0.1");
    const isControl = url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`);
    const work = isControl ? handleControl(nodeReq, nodeRes, url) : handleApi(nodeReq, nodeRes, url);
    work.catch((err: unknown) => {
      process.stderr.write(`emulator ${provider.name}: ${String(err)}\n`);
      nodeRes.destroy();
    });
  };
  const server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler) : createServer(handler);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    port,
    control,
    provider,
    clock,
    close() {
      closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

class ControlInputError extends Error {}

function checkLatency(ms: unknown): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > MAX_LATENCY_MS) {
    throw new RangeError(`latency must be a number of milliseconds between 0 and ${MAX_LATENCY_MS}`);
  }
  return ms;
}

function parseRateLimit(value: unknown): RateLimitSetting & { regex: RegExp } {
  if (!isRecord(value)) throw new SettingsError("rateLimit must be an object or null");
  const requests = value["requests"];
  const windowMs = value["windowMs"];
  const path = value["path"];
  const method = value["method"];
  if (typeof requests !== "number" || !Number.isInteger(requests) || requests < 1 || requests > 1_000_000) {
    throw new SettingsError("rateLimit.requests must be a positive integer");
  }
  if (typeof windowMs !== "number" || !Number.isFinite(windowMs) || windowMs <= 0 || windowMs > 3_600_000) {
    throw new SettingsError("rateLimit.windowMs must be between 1 and 3600000");
  }
  if (path !== undefined && typeof path !== "string") throw new SettingsError("rateLimit.path must be a glob string");
  if (method !== undefined && typeof method !== "string") throw new SettingsError("rateLimit.method must be a string");
  const out: RateLimitSetting & { regex: RegExp } = { requests, windowMs, regex: globToRegExp(path ?? "**") };
  if (path !== undefined) out.path = path;
  if (method !== undefined) out.method = method;
  return out;
}

function publicRateLimit(limit: RateLimitSetting & { regex: RegExp }): RateLimitSetting {
  const { regex: _regex, ...rest } = limit;
  return rest;
}

function injectedError(provider: ProviderSpec, action: Extract<FaultAction, { type: "status" }>, ctx: { method: string; path: string }): EmulatorResponse {
  const retryAfter = action.retryAfter === undefined ? (action.status === 429 ? 1 : undefined) : action.retryAfter;
  const base = provider.errorResponse(action.status, typeof retryAfter === "number" ? { ...ctx, retryAfterSeconds: retryAfter } : ctx);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(base.headers ?? {})) {
    if (k.toLowerCase() !== "retry-after") headers[k.toLowerCase()] = v;
  }
  if (typeof retryAfter === "number") headers["retry-after"] = String(retryAfter);
  else if (typeof retryAfter === "string") headers["retry-after"] = retryAfter;
  for (const [k, v] of Object.entries(action.headers ?? {})) headers[k.toLowerCase()] = v;
  if (action.contentType !== undefined) headers["content-type"] = action.contentType;
  if (action.rawBody !== undefined) return { status: action.status, headers, rawBody: action.rawBody };
  if (action.body !== undefined) return { status: action.status, headers, body: action.body };
  return { ...base, status: action.status, headers };
}

const INVALID = Symbol("invalid-json");

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return INVALID;
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | "too-large" | "aborted"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | "too-large" | "aborted") => {
      if (done) return;
      done = true;
      resolve(value);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        // Keep draining so the answer can still be written on this socket.
        chunks.length = 0;
        finish("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("aborted", () => finish("aborted"));
    req.on("error", () => finish("aborted"));
  });
}

function buildControlRouter(control: EmulatorControl, provider: ProviderSpec): Router<Handler> {
  const r = new Router<Handler>();
  const body = (req: EmulatorRequest): Record<string, unknown> => {
    if (req.body === undefined) return {};
    if (!isRecord(req.body)) throw new ControlInputError("control request body must be a JSON object");
    return req.body;
  };
  r.add("GET", CONTROL_PREFIX, () => json(200, { provider: provider.name, control: controlIndex }));
  r.add("GET", `${CONTROL_PREFIX}/faults`, () => json(200, { faults: control.faults() }));
  r.add("POST", `${CONTROL_PREFIX}/faults`, (req) => {
    const b = body(req);
    const list = Array.isArray(b["faults"]) ? (b["faults"] as unknown[]) : [b];
    // The store validates each rule; the cast only hands unknown JSON to it.
    const added = list.map((rule) => control.addFault(rule as FaultRuleInput));
    return json(201, { faults: added });
  });
  r.add("DELETE", `${CONTROL_PREFIX}/faults`, () => {
    control.clearFaults();
    return json(200, { faults: [] });
  });
  r.add("DELETE", `${CONTROL_PREFIX}/faults/:id`, (req) =>
    control.removeFault(req.params["id"] ?? "") ? json(200, { deleted: true }) : json(404, { error: "no such fault" }),
  );
  r.add("GET", `${CONTROL_PREFIX}/latency`, () => json(200, { ms: control.latency() }));
  r.add("PUT", `${CONTROL_PREFIX}/latency`, (req) => {
    control.setLatency(body(req)["ms"] as number);
    return json(200, { ms: control.latency() });
  });
  r.add("GET", `${CONTROL_PREFIX}/settings`, () => json(200, control.settings()));
  r.add("PATCH", `${CONTROL_PREFIX}/settings`, (req) => {
    control.updateSettings(body(req));
    return json(200, control.settings());
  });
  r.add("GET", `${CONTROL_PREFIX}/requests`, (req) => {
    const since = Number(req.query.get("since") ?? "0");
    const limitParam = req.query.get("limit");
    const opts: { since: number; limit?: number } = { since: Number.isFinite(since) ? since : 0 };
    if (limitParam !== null && Number.isFinite(Number(limitParam))) opts.limit = Number(limitParam);
    return json(200, { requests: control.requests(opts) });
  });
  r.add("DELETE", `${CONTROL_PREFIX}/requests`, () => {
    control.clearRequests();
    return json(200, { requests: [] });
  });
  r.add("GET", `${CONTROL_PREFIX}/stats`, (req) => {
    const w = Number(req.query.get("window_ms") ?? "1000");
    return json(200, control.stats({ windowMs: Number.isFinite(w) ? w : 1000 }));
  });
  r.add("GET", `${CONTROL_PREFIX}/state`, () => json(200, control.state()));
  r.add("POST", `${CONTROL_PREFIX}/reset`, () => {
    control.reset();
    return json(200, { reset: true });
  });
  r.add("GET", `${CONTROL_PREFIX}/clock`, () => json(200, { now: control.now(), now_iso: new Date(control.now()).toISOString() }));
  r.add("POST", `${CONTROL_PREFIX}/clock`, (req) => {
    const advance = body(req)["advance_ms"];
    if (typeof advance !== "number") throw new ControlInputError("advance_ms must be a number");
    control.advanceClock(advance);
    return json(200, { now: control.now(), now_iso: new Date(control.now()).toISOString() });
  });
  return r;
}

const controlIndex = {
  "GET /__emulator/faults": "list fault rules",
  "POST /__emulator/faults": "add a rule, or {faults:[...]}",
  "DELETE /__emulator/faults[/<id>]": "remove one or all rules",
  "GET|PUT /__emulator/latency": "global added latency {ms}",
  "GET|PATCH /__emulator/settings": "provider settings and rateLimit",
  "GET|DELETE /__emulator/requests": "request log (?since=<seq>&limit=<n>)",
  "GET /__emulator/stats": "counters, peak rate (?window_ms=1000), peak concurrency",
  "GET /__emulator/state": "provider state, key values redacted",
  "POST /__emulator/reset": "back to the seeded state",
  "GET|POST /__emulator/clock": "emulator time; POST {advance_ms}",
};
