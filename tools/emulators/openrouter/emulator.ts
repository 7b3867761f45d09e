// An emulator of OpenRouter's key management API (/api/v1/keys, authenticated
// with a management key, formerly "provisioning key"), GET /api/v1/key, and
// POST /api/v1/chat/completions enforcing key existence, disabled, expiry and
// the per-key credit limit. Shapes follow OpenRouter's OpenAPI document
// (OpenRouterTeam/typescript-sdk .speakeasy/in.openapi.yaml, 2026-08-22).
import type { Clock } from "../core/clock.ts";
import { bearerToken, isRecord, json, Refusal, type EmulatorRequest, type EmulatorResponse, type Handler } from "../core/http.ts";
import { randomAlnum, randomHex, sha256Hex, uuid } from "../core/ids.ts";
import { applySettings, enumSetting, numberSetting, stringListSetting, type ProviderSpec } from "../core/provider.ts";
import { Router } from "../core/router.ts";
import { startEmulatorServer, type EmulatorControl } from "../core/server.ts";

export interface OpenRouterSettings {
  /** Model ids chat completions accept. */
  models: string[];
  /** USD charged per successful chat completion. */
  costPerRequest: number;
  /** The account's credit balance; at or below 0 completions get 402. */
  accountCredits: number;
  /**
   * What PATCH does with expires_at, which the documented PATCH body lacks:
   * "ignore" it (default), "accept" it, or "reject" the request with 400.
   */
  patchExpiresAt: "ignore" | "accept" | "reject";
}

const DEFAULT_SETTINGS: OpenRouterSettings = {
  models: ["openai/gpt-4o", "openai/gpt-4o-mini", "anthropic/claude-3.5-sonnet", "meta-llama/llama-3.1-8b-instruct"],
  costPerRequest: 0.001,
  accountCredits: 100,
  patchExpiresAt: "ignore",
};

export interface OpenRouterEmulatorOptions {
  port?: number;
  latencyMs?: number;
  /** The seeded management key (default: a fresh sk-or-v1-...). */
  managementKey?: string;
  settings?: Partial<OpenRouterSettings>;
}

export interface OpenRouterEmulator {
  /** Origin, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The origin plus /api/v1, where OpenRouter's API lives. */
  readonly baseUrl: string;
  readonly port: number;
  readonly managementKey: string;
  readonly managementKeyHash: string;
  readonly control: EmulatorControl;
  close(): Promise<void>;
}

type LimitReset = "daily" | "weekly" | "monthly";

interface ApiKey {
  /** Creation order, to break ties between keys made in the same millisecond. */
  seq: number;
  hash: string;
  value: string;
  name: string;
  disabled: boolean;
  limit: number | null;
  limitReset: LimitReset | null;
  includeByokInLimit: boolean;
  usage: { total: number; day: string; daily: number; week: string; weekly: number; month: string; monthly: number };
  createdAt: number;
  updatedAt: number | null;
  expiresAt: number | null;
  creatorUserId: string | null;
  workspaceId: string;
  management: boolean;
}

const PAGE_SIZE = 100;
const LIMIT_RESETS: readonly LimitReset[] = ["daily", "weekly", "monthly"];

function orError(status: number, message: string, metadata?: Record<string, unknown>, headers?: Record<string, string>): EmulatorResponse {
  const error: Record<string, unknown> = { code: status, message };
  if (metadata !== undefined) error["metadata"] = metadata;
  const res: EmulatorResponse = { status, body: { error } };
  if (headers !== undefined) res.headers = headers;
  return res;
}

/** The documented example bodies of OpenRouter's error responses. */
function statusError(status: number, retryAfterSeconds: number | undefined): EmulatorResponse {
  const messages: Record<number, string> = {
    400: "Invalid request parameters",
    401: "Missing Authentication header",
    402: "Insufficient credits. Add more using https://openrouter.ai/credits",
    403: "Only management keys can perform this operation",
    404: "Resource not found",
    408: "Operation timed out. Please try again later.",
    409: "Resource conflict. Please try again later.",
    413: "Request payload too large",
    429: "Rate limit exceeded",
    500: "Internal Server Error",
    502: "Provider returned error",
    503: "Service temporarily unavailable",
    524: "Request timed out. Please try again later.",
    529: "Provider returned error",
  };
  const headers = retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : undefined;
  return orError(status, messages[status] ?? `Request failed with status ${status}`, undefined, headers);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function periods(ms: number): { day: string; week: string; month: string } {
  const d = new Date(ms);
  const day = d.toISOString().slice(0, 10);
  // Weeks run Monday to Sunday (UTC).
  const monday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7)));
  return { day, week: monday.toISOString().slice(0, 10), month: day.slice(0, 7) };
}

export function createOpenRouterProvider(managementKey: string, clock: Clock, initialSettings: OpenRouterSettings): ProviderSpec {
  let settings: OpenRouterSettings = { ...initialSettings, models: [...initialSettings.models] };
  let credits = settings.accountCredits;
  const userId = `user_${randomAlnum(27)}`;
  const workspaceId = uuid();
  let keys = new Map<string, ApiKey>();
  let keySeq = 0;
  let byValue = new Map<string, string>();

  function seed(): void {
    keys = new Map();
    byValue = new Map();
    addKey(newKey(managementKey, "Management key", true));
  }

  function newKey(value: string, name: string, management: boolean): ApiKey {
    const now = clock.now();
    const p = periods(now);
    return {
      seq: ++keySeq,
      hash: sha256Hex(value),
      value,
      name,
      disabled: false,
      limit: null,
      limitReset: null,
      includeByokInLimit: false,
      usage: { total: 0, day: p.day, daily: 0, week: p.week, weekly: 0, month: p.month, monthly: 0 },
      createdAt: now,
      updatedAt: null,
      expiresAt: null,
      creatorUserId: userId,
      workspaceId,
      management,
    };
  }

  function addKey(k: ApiKey): void {
    keys.set(k.hash, k);
    byValue.set(k.value, k.hash);
  }

  // Period counters roll over lazily, at midnight UTC, on Monday, on the 1st.
  function usageNow(k: ApiKey): ApiKey["usage"] {
    const p = periods(clock.now());
    const u = k.usage;
    if (u.day !== p.day) {
      u.day = p.day;
      u.daily = 0;
    }
    if (u.week !== p.week) {
      u.week = p.week;
      u.weekly = 0;
    }
    if (u.month !== p.month) {
      u.month = p.month;
      u.monthly = 0;
    }
    return u;
  }

  function limitedUsage(k: ApiKey): number {
    const u = usageNow(k);
    switch (k.limitReset) {
      case "daily":
        return u.daily;
      case "weekly":
        return u.weekly;
      case "monthly":
        return u.monthly;
      default:
        return u.total;
    }
  }

  function limitRemaining(k: ApiKey): number | null {
    return k.limit === null ? null : Math.max(0, k.limit - limitedUsage(k));
  }

  function label(value: string): string {
    const secret = value.slice("sk-or-v1-".length);
    return `sk-or-v1-${secret.slice(0, 3)}...${secret.slice(-4)}`;
  }

  function keyJson(k: ApiKey) {
    const u = usageNow(k);
    return {
      hash: k.hash,
      name: k.name,
      label: label(k.value),
      disabled: k.disabled,
      limit: k.limit,
      limit_remaining: limitRemaining(k),
      limit_reset: k.limitReset,
      include_byok_in_limit: k.includeByokInLimit,
      usage: u.total,
      usage_daily: u.daily,
      usage_weekly: u.weekly,
      usage_monthly: u.monthly,
      byok_usage: 0,
      byok_usage_daily: 0,
      byok_usage_weekly: 0,
      byok_usage_monthly: 0,
      created_at: isoSeconds(k.createdAt),
      updated_at: k.updatedAt === null ? null : isoSeconds(k.updatedAt),
      expires_at: k.expiresAt === null ? null : isoSeconds(k.expiresAt),
      creator_user_id: k.creatorUserId,
      workspace_id: k.workspaceId,
    };
  }

  function isExpired(k: ApiKey): boolean {
    return k.expiresAt !== null && k.expiresAt <= clock.now();
  }

  /** The key behind the Authorization header, whatever its kind or state. */
  function caller(req: EmulatorRequest, missingMessage: string): ApiKey | Refusal {
    const token = bearerToken(req);
    if (token === undefined) return new Refusal(orError(401, missingMessage));
    const hash = byValue.get(token);
    const k = hash === undefined ? undefined : keys.get(hash);
    // Deleted, disabled and expired keys all look like unknown keys.
    if (k === undefined || k.disabled || isExpired(k)) return new Refusal(orError(401, "User not found."));
    return k;
  }

  const management =
    (handler: (req: EmulatorRequest) => EmulatorResponse): Handler =>
    (req) => {
      const k = caller(req, "Missing Authentication header");
      if (k instanceof Refusal) return k.response;
      if (!k.management) return orError(403, "Only management keys can perform this operation");
      return handler(req);
    };

  function userKeyOr404(hash: string): ApiKey | Refusal {
    const k = keys.get(hash);
    if (k === undefined || k.management) return new Refusal(orError(404, "Resource not found"));
    return k;
  }

  const r = new Router<Handler>();
  const BASE = "/api/v1";

  r.add(
    "GET",
    `${BASE}/keys`,
    management((req) => {
      const rawOffset = req.query.get("offset");
      let offset = 0;
      if (rawOffset !== null && rawOffset !== "") {
        if (!/^\d+$/.test(rawOffset)) return orError(400, "Invalid request parameters: offset must be a non-negative integer");
        offset = Number(rawOffset);
      }
      const includeDisabled = req.query.get("include_disabled") === "true";
      const list = [...keys.values()]
        .filter((k) => !k.management && (includeDisabled || !k.disabled))
        .sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
      return json(200, { data: list.slice(offset, offset + PAGE_SIZE).map(keyJson) });
    }),
  );
  r.add(
    "POST",
    `${BASE}/keys`,
    management((req) => {
      if (!isRecord(req.body)) return orError(400, "Invalid request parameters: body must be a JSON object");
      const b = req.body;
      const name = b["name"];
      if (typeof name !== "string" || name.length < 1) return orError(400, "Invalid request parameters: name is required and must be a non-empty string");
      const limit = parseLimit(b["limit"]);
      if (limit instanceof Refusal) return limit.response;
      const reset = parseLimitReset(b["limit_reset"]);
      if (reset instanceof Refusal) return reset.response;
      const byok = b["include_byok_in_limit"];
      if (byok !== undefined && typeof byok !== "boolean") return orError(400, "Invalid request parameters: include_byok_in_limit must be a boolean");
      const expiresAt = parseExpiresAt(b["expires_at"], clock.now());
      if (expiresAt instanceof Refusal) return expiresAt.response;
      const creator = b["creator_user_id"];
      if (creator !== undefined && creator !== null && (typeof creator !== "string" || creator === "")) {
        return orError(400, "Invalid request parameters: creator_user_id must be a non-empty string");
      }
      const k = newKey(`sk-or-v1-${randomHex(32)}`, name, false);
      k.limit = limit ?? null;
      k.limitReset = reset ?? null;
      k.includeByokInLimit = byok === true;
      k.expiresAt = expiresAt ?? null;
      if (typeof creator === "string") k.creatorUserId = creator;
      addKey(k);
      return json(201, { data: keyJson(k), key: k.value });
    }),
  );
  r.add(
    "GET",
    `${BASE}/keys/:hash`,
    management((req) => {
      const k = userKeyOr404(req.params["hash"] ?? "");
      return k instanceof Refusal ? k.response : json(200, { data: keyJson(k) });
    }),
  );
  r.add(
    "PATCH",
    `${BASE}/keys/:hash`,
    management((req) => {
      const k = userKeyOr404(req.params["hash"] ?? "");
      if (k instanceof Refusal) return k.response;
      if (!isRecord(req.body)) return orError(400, "Invalid request parameters: body must be a JSON object");
      const b = req.body;
      const name = b["name"];
      if (name !== undefined && (typeof name !== "string" || name.length < 1)) return orError(400, "Invalid request parameters: name must be a non-empty string");
      const disabled = b["disabled"];
      if (disabled !== undefined && typeof disabled !== "boolean") return orError(400, "Invalid request parameters: disabled must be a boolean");
      const limit = parseLimit(b["limit"]);
      if (limit instanceof Refusal) return limit.response;
      const reset = parseLimitReset(b["limit_reset"]);
      if (reset instanceof Refusal) return reset.response;
      const byok = b["include_byok_in_limit"];
      if (byok !== undefined && typeof byok !== "boolean") return orError(400, "Invalid request parameters: include_byok_in_limit must be a boolean");
      let expiresAt: number | null | undefined;
      if (b["expires_at"] !== undefined) {
        if (settings.patchExpiresAt === "reject") return orError(400, "Invalid request parameters: unrecognized key 'expires_at'");
        if (settings.patchExpiresAt === "accept") {
          const parsed = parseExpiresAt(b["expires_at"], clock.now());
          if (parsed instanceof Refusal) return parsed.response;
          expiresAt = parsed;
        }
      }
      if (typeof name === "string") k.name = name;
      if (typeof disabled === "boolean") k.disabled = disabled;
      if (limit !== undefined) k.limit = limit;
      if (reset !== undefined) k.limitReset = reset;
      if (typeof byok === "boolean") k.includeByokInLimit = byok;
      if (expiresAt !== undefined) k.expiresAt = expiresAt;
      k.updatedAt = clock.now();
      return json(200, { data: keyJson(k) });
    }),
  );
  r.add(
    "DELETE",
    `${BASE}/keys/:hash`,
    management((req) => {
      const k = userKeyOr404(req.params["hash"] ?? "");
      if (k instanceof Refusal) return k.response;
      keys.delete(k.hash);
      byValue.delete(k.value);
      return json(200, { deleted: true });
    }),
  );
  r.add("GET", `${BASE}/key`, (req) => {
    const k = caller(req, "Missing Authentication header");
    if (k instanceof Refusal) return k.response;
    const u = usageNow(k);
    return json(200, {
      data: {
        label: label(k.value),
        limit: k.limit,
        limit_remaining: limitRemaining(k),
        limit_reset: k.limitReset,
        include_byok_in_limit: k.includeByokInLimit,
        usage: u.total,
        usage_daily: u.daily,
        usage_weekly: u.weekly,
        usage_monthly: u.monthly,
        byok_usage: 0,
        byok_usage_daily: 0,
        byok_usage_weekly: 0,
        byok_usage_monthly: 0,
        is_free_tier: false,
        is_management_key: k.management,
        is_provisioning_key: k.management,
        expires_at: k.expiresAt === null ? null : isoSeconds(k.expiresAt),
        creator_user_id: k.creatorUserId,
        rate_limit: { requests: -1, interval: "10s", note: "This field is deprecated and safe to ignore." },
      },
    });
  });
  r.add("POST", `${BASE}/chat/completions`, (req) => {
    const k = caller(req, "No auth credentials found");
    if (k instanceof Refusal) return k.response;
    if (k.management) return orError(403, "Management keys cannot be used to make API calls to completion endpoints");
    if (k.limit !== null && limitedUsage(k) >= k.limit) {
      return orError(403, `Key limit exceeded (${k.limitReset ?? "total"} limit). Manage it using https://openrouter.ai/settings/keys`);
    }
    if (credits <= 0) return orError(402, "Insufficient credits. Add more using https://openrouter.ai/credits");
    const body = isRecord(req.body) ? req.body : {};
    const model = body["model"];
    if (typeof model !== "string" || !settings.models.includes(model)) {
      return orError(400, `${typeof model === "string" ? model : "undefined"} is not a valid model ID`);
    }
    const cost = settings.costPerRequest;
    const u = usageNow(k);
    u.total += cost;
    u.daily += cost;
    u.weekly += cost;
    u.monthly += cost;
    credits -= cost;
    return json(200, completionJson(model, clock.now(), cost));
  });

  seed();

  return {
    name: "openrouter",
    routes: r,
    ignoreTrailingSlash: true,
    errorResponse: (status, ctx) => statusError(status, ctx.retryAfterSeconds),
    unknownRoute: () => orError(404, "Not Found"),
    invalidBody: (_req, reason) => (reason === "too-large" ? orError(413, "Request payload too large") : orError(400, "Invalid JSON body")),
    state: () => ({
      account: { user_id: userId, workspace_id: workspaceId, credits },
      keys: [...keys.values()].map((k) => ({ ...keyJson(k), management: k.management })),
    }),
    reset: () => {
      settings = { ...initialSettings, models: [...initialSettings.models] };
      credits = settings.accountCredits;
      seed();
    },
    settings: () => ({ ...settings, models: [...settings.models], accountCredits: credits }),
    updateSettings: (patch) => {
      applySettings(settings, patch, {
        models: stringListSetting("models"),
        costPerRequest: numberSetting("costPerRequest", 0, 1e9),
        accountCredits: numberSetting("accountCredits", -1e12, 1e12),
        patchExpiresAt: enumSetting("patchExpiresAt", ["ignore", "accept", "reject"] as const),
      });
      if (patch["accountCredits"] !== undefined) credits = settings.accountCredits;
    },
  };
}

function parseLimit(value: unknown): number | null | undefined | Refusal {
  if (value === undefined || value === null) return value;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    return new Refusal(orError(400, "Invalid request parameters: limit must be a non-negative number or null"));
  }
  return value;
}

function parseLimitReset(value: unknown): LimitReset | null | undefined | Refusal {
  if (value === undefined || value === null) return value;
  if (typeof value !== "string" || !(LIMIT_RESETS as readonly string[]).includes(value)) {
    return new Refusal(orError(400, "Invalid request parameters: limit_reset must be one of daily, weekly, monthly, or null"));
  }
  return value as LimitReset;
}

/** ISO 8601 in UTC only ("Z" or a zero offset); other time zones are refused, as documented. */
function parseExpiresAt(value: unknown, nowMs: number): number | null | undefined | Refusal {
  if (value === undefined || value === null) return value;
  if (typeof value !== "string") return new Refusal(orError(400, "Invalid request parameters: expires_at must be an ISO 8601 string"));
  const utc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]00:?00)$/i.test(value);
  const ms = Date.parse(value);
  if (!utc || Number.isNaN(ms)) return new Refusal(orError(400, "Invalid request parameters: expires_at must be an ISO 8601 UTC timestamp"));
  if (ms <= nowMs) return new Refusal(orError(400, "Invalid request parameters: expires_at must be in the future"));
  return ms;
}

function completionJson(model: string, nowMs: number, cost: number) {
  const created = Math.floor(nowMs / 1000);
  return {
    id: `gen-${created}-${randomAlnum(20)}`,
    provider: model.split("/")[0] === "anthropic" ? "Anthropic" : "OpenAI",
    model,
    object: "chat.completion",
    created,
    choices: [
      {
        logprobs: null,
        finish_reason: "stop",
        native_finish_reason: "stop",
        index: 0,
        message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null, reasoning: null },
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15, cost },
  };
}

export async function startOpenRouterEmulator(options: OpenRouterEmulatorOptions = {}): Promise<OpenRouterEmulator> {
  const managementKey = options.managementKey ?? `sk-or-v1-${randomHex(32)}`;
  const settings: OpenRouterSettings = { ...DEFAULT_SETTINGS, ...options.settings };
  const server = await startEmulatorServer({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    provider: (clock) => createOpenRouterProvider(managementKey, clock, settings),
  });
  return {
    url: server.url,
    baseUrl: `${server.url}/api/v1`,
    port: server.port,
    managementKey,
    managementKeyHash: sha256Hex(managementKey),
    control: server.control,
    close: () => server.close(),
  };
}
