// An emulator of the LiteLLM proxy's virtual-key management
// (/key/generate|update|delete|info|list|block|unblock|regenerate), its
// health probes, and an OpenAI-compatible chat completion endpoint that
// enforces what a key allows: models, budget, expiry, blocking, deletion,
// rpm/tpm/parallel limits. Behaviour follows BerriAI/litellm's
// key_management_endpoints.py and auth code (read 2026-11).
import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../core/clock.ts";
import { header, isRecord, json, Refusal, type EmulatorRequest, type EmulatorResponse, type Handler } from "../core/http.ts";
import { randomAlnum, randomUrlSafe, sha256Hex } from "../core/ids.ts";
import { applySettings, booleanSetting, choiceSetting, numberSetting, stringListSetting, type ProviderSpec } from "../core/provider.ts";
import { Router } from "../core/router.ts";
import { startEmulatorServer, type EmulatorControl } from "../core/server.ts";
import { DurationError, durationInSeconds } from "./duration.ts";
import {
  abbreviateKey,
  httpExceptionError,
  isoMicros,
  NOT_PREMIUM,
  proxyError,
  pyDatetime,
  pyFloat,
  pyList,
  statusError,
  validationError,
} from "./errors.ts";
import { KEY_FIELDS, validateBody } from "./schema.ts";

export interface LiteLLMSettings {
  /** The proxy's model list (config.yaml model_name values). */
  models: string[];
  /** USD charged to a key per successful chat completion. */
  costPerRequest: number;
  /** How long spend takes to show in /key/info (LiteLLM batches DB writes); enforcement sees it at once. */
  spendFlushLagMs: number;
  /** 400 in most LiteLLM code paths; some newer ones answer 429. */
  budgetExceededStatus: 400 | 429;
  /** 401 in recent LiteLLM (v1.99); 400 in older releases. */
  expiredKeyStatus: 400 | 401;
  /** Enterprise licence: tags on keys and /key/regenerate. */
  licensed: boolean;
  /** How long a chat completion takes, so max_parallel_requests can bite. */
  completionLatencyMs: number;
  /** litellm.enable_key_alias_format_validation (off by default in LiteLLM). */
  validateKeyAliasFormat: boolean;
  /** user_ids whose keys count as proxy admins on management routes. */
  proxyAdminUserIds: string[];
}

const DEFAULT_SETTINGS: LiteLLMSettings = {
  models: ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-8b-instruct"],
  costPerRequest: 0.001,
  spendFlushLagMs: 0,
  budgetExceededStatus: 400,
  expiredKeyStatus: 401,
  licensed: false,
  completionLatencyMs: 0,
  validateKeyAliasFormat: false,
  proxyAdminUserIds: ["proxy-admin"],
};

export interface LiteLLMEmulatorOptions {
  port?: number;
  latencyMs?: number;
  /** The proxy's master key (default: a fresh sk-...). */
  masterKey?: string;
  settings?: Partial<LiteLLMSettings>;
  /** Serve https with this certificate, named localhost: a proxy behind a private CA. */
  tls?: { certPem: string; keyPem: string };
}

export interface LiteLLMEmulator {
  /** Origin; also the base URL LiteLLM clients use. */
  readonly url: string;
  readonly baseUrl: string;
  readonly port: number;
  readonly masterKey: string;
  readonly control: EmulatorControl;
  /** Same as POST /key/generate with the master key; returns the response body. */
  generateKey(body?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A virtual key whose user is a proxy admin (can call management routes). */
  createAdminKey(): Promise<{ key: string; token: string }>;
  close(): Promise<void>;
}

interface VirtualKey {
  /** Creation order, to break ties between keys made in the same millisecond. */
  seq: number;
  token: string;
  keyName: string;
  keyAlias: string | null;
  /** Epoch ms, or null for never. */
  expires: number | null;
  models: string[];
  spend: number;
  /** Spend as /key/info shows it (lags by spendFlushLagMs). */
  flushedSpend: number;
  pendingSpend: Array<{ at: number; amount: number }>;
  maxBudget: number | null;
  softBudget: number | null;
  userId: string | null;
  teamId: string | null;
  organizationId: string | null;
  projectId: string | null;
  maxParallelRequests: number | null;
  tpmLimit: number | null;
  rpmLimit: number | null;
  metadata: Record<string, unknown>;
  budgetDuration: string | null;
  budgetResetAt: number | null;
  blocked: boolean | null;
  fields: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  updatedBy: string;
  // Runtime counters for rpm/tpm/parallel limits (real time).
  inFlight: number;
  recent: Array<{ at: number; tokens: number }>;
}

type Caller = { kind: "master" } | { kind: "virtual"; key: VirtualKey; admin: boolean };

const ADMIN_NAME = "default_user_id";
const TOKENS_PER_COMPLETION = 15;
// Request fields kept on the row and echoed back as given.
const PASSTHROUGH = [
  "allowed_cache_controls",
  "config",
  "permissions",
  "model_max_budget",
  "model_rpm_limit",
  "model_tpm_limit",
  "aliases",
  "object_permission",
  "allowed_routes",
  "allowed_passthrough_routes",
  "enforced_params",
  "guardrails",
  "policies",
  "prompts",
  "agent_id",
  "budget_id",
  "key_type",
  "auto_rotate",
  "rotation_interval",
  "rpm_limit_type",
  "tpm_limit_type",
  "router_settings",
  "access_group_ids",
] as const;

interface LiteLLMProvider extends ProviderSpec {
  generate(body: unknown, createdBy: string): EmulatorResponse;
}

export function createLiteLLMProvider(masterKey: string, clock: Clock, initialSettings: LiteLLMSettings): LiteLLMProvider {
  let settings: LiteLLMSettings = cloneSettings(initialSettings);
  let keys = new Map<string, VirtualKey>();
  let keySeq = 0;

  const hashed = (token: string): string => (token.startsWith("sk-") ? sha256Hex(token) : token);
  const findKey = (keyOrHash: string): VirtualKey | undefined => keys.get(hashed(keyOrHash));
  const findAlias = (alias: string): VirtualKey | undefined => [...keys.values()].find((k) => k.keyAlias === alias);

  function settle(k: VirtualKey): void {
    const now = clock.now();
    if (k.budgetDuration !== null && k.budgetResetAt !== null && now >= k.budgetResetAt) {
      k.spend = 0;
      k.flushedSpend = 0;
      k.pendingSpend = [];
      try {
        k.budgetResetAt = now + durationInSeconds(k.budgetDuration, now) * 1000;
      } catch {
        k.budgetResetAt = null;
      }
    }
    const cutoff = Date.now() - settings.spendFlushLagMs;
    while (k.pendingSpend.length > 0 && (k.pendingSpend[0]?.at ?? Infinity) <= cutoff) {
      k.flushedSpend += k.pendingSpend.shift()?.amount ?? 0;
    }
  }

  // The precedence of user_api_key_auth: x-litellm-api-key, then
  // Authorization (which needs a Bearer/Basic scheme), then the headers other
  // SDKs send the bare key in.
  function apiKeyFrom(req: EmulatorRequest): string | undefined {
    const sources: Array<{ value: string | undefined; schemeRequired: boolean }> = [
      { value: header(req, "x-litellm-api-key"), schemeRequired: false },
      { value: header(req, "authorization"), schemeRequired: true },
      { value: header(req, "api-key"), schemeRequired: false },
      { value: header(req, "x-api-key"), schemeRequired: false },
    ];
    for (const { value, schemeRequired } of sources) {
      const v = value?.trim();
      if (v === undefined || v === "") continue;
      const m = /^(?:bearer|basic)\s+(.*)$/i.exec(v);
      if (m) return (m[1] ?? "").trim() || undefined;
      if (!schemeRequired) return v;
    }
    return undefined;
  }

  function authenticate(req: EmulatorRequest): Caller | Refusal {
    const token = apiKeyFrom(req);
    if (token === undefined) return new Refusal(proxyError(401, "Authentication Error, No api key passed in.", "auth_error"));
    if (token === masterKey) return { kind: "master" };
    if (!token.startsWith("sk-")) {
      return new Refusal(proxyError(401, `Authentication Error, LiteLLM Virtual Key expected. Received=${token}, expected to start with 'sk-'.`, "auth_error"));
    }
    const k = keys.get(sha256Hex(token));
    if (k === undefined) {
      return new Refusal(
        proxyError(
          401,
          `Authentication Error, Invalid proxy server token passed. Received API Key = ${abbreviateKey(token)}, Key Hash (Token) =${sha256Hex(token)}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
          "token_not_found_in_db",
          "key",
        ),
      );
    }
    if (k.blocked === true) {
      return new Refusal(proxyError(401, "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.", "auth_error"));
    }
    const now = clock.now();
    if (k.expires !== null && k.expires < now) {
      return new Refusal(
        proxyError(
          settings.expiredKeyStatus,
          `Authentication Error - Expired Key. Key Expiry time ${pyDatetime(k.expires)} and current time ${pyDatetime(now)}`,
          "expired_key",
          abbreviateKey(token),
        ),
      );
    }
    return { kind: "virtual", key: k, admin: k.userId !== null && settings.proxyAdminUserIds.includes(k.userId) };
  }

  const management =
    (handler: (req: EmulatorRequest, caller: Caller) => EmulatorResponse | Promise<EmulatorResponse>, options: { selfService?: boolean } = {}): Handler =>
    (req) => {
      const caller = authenticate(req);
      if (caller instanceof Refusal) return caller.response;
      if (caller.kind === "virtual" && !caller.admin && !options.selfService) {
        return proxyError(
          401,
          `Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${req.path}. Your role=internal_user. Your user_id=${caller.key.userId ?? "None"}`,
          "auth_error",
        );
      }
      return handler(req, caller);
    };

  function generate(body: unknown, createdBy: string): EmulatorResponse {
    const v = validateBody(body, KEY_FIELDS);
    if (!v.ok) return validationError(v.errors);
    const d = v.value;
    for (const field of ["max_budget", "soft_budget"] as const) {
      const n = d[field];
      if (typeof n === "number" && n < 0) return httpExceptionError(400, { error: `${field} cannot be negative. Received: ${pyFloat(n)}` });
    }
    if (Array.isArray(d["tags"]) && !settings.licensed) {
      return httpExceptionError(403, { error: `Trying to set tags. This is an Enterprise feature. ${NOT_PREMIUM}` });
    }
    const alias = typeof d["key_alias"] === "string" ? d["key_alias"] : null;
    if (alias !== null) {
      const bad = checkAlias(alias, undefined);
      if (bad) return bad;
    }
    const given = typeof d["key"] === "string" ? d["key"] : undefined;
    if (given !== undefined && !given.startsWith("sk-")) {
      const masked = given.length > 8 ? `${given.slice(0, 4)}****${given.slice(-4)}` : "****";
      return httpExceptionError(400, { error: `Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ${masked}` });
    }
    const now = clock.now();
    let expires: number | null = null;
    let budgetResetAt: number | null = null;
    try {
      if (typeof d["duration"] === "string") expires = now + durationInSeconds(d["duration"], now) * 1000;
      if (typeof d["budget_duration"] === "string") budgetResetAt = now + durationInSeconds(d["budget_duration"], now) * 1000;
    } catch (err) {
      if (err instanceof DurationError) return proxyError(500, err.message, "internal_server_error");
      throw err;
    }
    const value = given ?? `sk-${randomUrlSafe(16)}`;
    const token = sha256Hex(value);
    if (keys.has(token)) return httpExceptionError(500, { error: "Internal Server Error." });
    const metadata = isRecord(d["metadata"]) ? { ...d["metadata"] } : {};
    if (Array.isArray(d["tags"])) metadata["tags"] = d["tags"];
    const fields: Record<string, unknown> = {};
    for (const f of PASSTHROUGH) if (d[f] !== undefined) fields[f] = d[f];
    const k: VirtualKey = {
      seq: ++keySeq,
      token,
      keyName: abbreviateKey(value),
      keyAlias: alias,
      expires,
      models: Array.isArray(d["models"]) ? (d["models"] as unknown[]).map(String) : [],
      spend: typeof d["spend"] === "number" ? d["spend"] : 0,
      flushedSpend: typeof d["spend"] === "number" ? d["spend"] : 0,
      pendingSpend: [],
      maxBudget: numOrNull(d["max_budget"]),
      softBudget: numOrNull(d["soft_budget"]),
      userId: strOrNull(d["user_id"]),
      teamId: strOrNull(d["team_id"]),
      organizationId: strOrNull(d["organization_id"]),
      projectId: strOrNull(d["project_id"]),
      maxParallelRequests: numOrNull(d["max_parallel_requests"]),
      tpmLimit: numOrNull(d["tpm_limit"]),
      rpmLimit: numOrNull(d["rpm_limit"]),
      metadata,
      budgetDuration: strOrNull(d["budget_duration"]),
      budgetResetAt,
      blocked: typeof d["blocked"] === "boolean" ? d["blocked"] : null,
      fields,
      createdAt: now,
      updatedAt: now,
      createdBy,
      updatedBy: createdBy,
      inFlight: 0,
      recent: [],
    };
    keys.set(token, k);
    return json(200, {
      ...rowJson(k),
      key: value,
      duration: d["duration"] ?? null,
      tags: d["tags"] ?? null,
      token,
      token_id: token,
      soft_budget: k.softBudget,
      litellm_budget_table: null,
    });
  }

  function checkAlias(alias: string, self: VirtualKey | undefined): EmulatorResponse | undefined {
    if (settings.validateKeyAliasFormat && !/^[a-zA-Z0-9](?:[a-zA-Z0-9_\-/.@]{0,253}[a-zA-Z0-9])$/.test(alias)) {
      return proxyError(
        400,
        "Invalid key_alias format. Must be 2-255 characters, start/end with alphanumeric, and only contain a-zA-Z0-9_-/.@.",
        "bad_request_error",
        "key_alias",
      );
    }
    const existing = findAlias(alias);
    if (existing !== undefined && existing !== self) {
      return proxyError(400, `Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`, "bad_request_error", "key_alias");
    }
    return undefined;
  }

  function rowJson(k: VirtualKey): Record<string, unknown> {
    settle(k);
    return {
      key_name: k.keyName,
      key_alias: k.keyAlias,
      spend: k.flushedSpend,
      max_budget: k.maxBudget,
      expires: k.expires === null ? null : isoMicros(k.expires),
      models: k.models,
      aliases: {},
      config: {},
      user_id: k.userId,
      team_id: k.teamId,
      organization_id: k.organizationId,
      project_id: k.projectId,
      permissions: {},
      max_parallel_requests: k.maxParallelRequests,
      metadata: k.metadata,
      blocked: k.blocked,
      tpm_limit: k.tpmLimit,
      rpm_limit: k.rpmLimit,
      budget_duration: k.budgetDuration,
      budget_reset_at: k.budgetResetAt === null ? null : isoMicros(k.budgetResetAt),
      allowed_cache_controls: [],
      allowed_routes: [],
      model_spend: {},
      model_max_budget: {},
      soft_budget_cooldown: false,
      litellm_budget_table: null,
      created_at: isoMicros(k.createdAt),
      updated_at: isoMicros(k.updatedAt),
      created_by: k.createdBy,
      updated_by: k.updatedBy,
      ...k.fields,
    };
  }

  const r = new Router<Handler>();

  r.add(
    "POST",
    "/key/generate",
    management((req, caller) => generate(req.body, callerName(caller))),
  );
  r.add(
    "POST",
    "/key/update",
    management((req, caller) => {
      const v = validateBody(req.body, KEY_FIELDS, ["key"]);
      if (!v.ok) return validationError(v.errors);
      const d = v.value;
      const maxBudget = d["max_budget"];
      if (typeof maxBudget === "number" && maxBudget < 0) {
        return proxyError(400, `{'error': 'max_budget cannot be negative. Received: ${pyFloat(maxBudget)}'}`, "auth_error");
      }
      const k = findKey(String(d["key"]));
      if (k === undefined) {
        return proxyError(404, `{'error': 'Team not found, passed team_id=${typeof d["team_id"] === "string" ? d["team_id"] : "None"}'}`, "auth_error");
      }
      if (Array.isArray(d["tags"]) && !settings.licensed) {
        return proxyError(403, `{'error': 'Trying to set tags. This is an Enterprise feature. ${NOT_PREMIUM}'}`, "auth_error");
      }
      if (typeof d["key_alias"] === "string") {
        const bad = checkAlias(d["key_alias"], k);
        if (bad) return bad;
      }
      const now = clock.now();
      let expires = k.expires;
      let budgetResetAt = k.budgetResetAt;
      try {
        if ("duration" in d) {
          const duration = d["duration"];
          if (duration === null || duration === "-1") expires = null;
          else if (typeof duration === "string" && duration !== "") expires = now + durationInSeconds(duration, now) * 1000;
        }
        if (typeof d["budget_duration"] === "string" && d["budget_duration"] !== "") {
          budgetResetAt = now + durationInSeconds(d["budget_duration"], now) * 1000;
        }
      } catch (err) {
        if (err instanceof DurationError) return proxyError(400, `Authentication Error, ${err.message}`, "auth_error");
        throw err;
      }
      settle(k);
      k.expires = expires;
      k.budgetResetAt = budgetResetAt;
      if (typeof d["budget_duration"] === "string") k.budgetDuration = d["budget_duration"];
      if ("key_alias" in d) k.keyAlias = strOrNull(d["key_alias"]);
      if (Array.isArray(d["models"])) k.models = (d["models"] as unknown[]).map(String);
      if ("max_budget" in d) k.maxBudget = numOrNull(d["max_budget"]);
      if ("soft_budget" in d) k.softBudget = numOrNull(d["soft_budget"]);
      if (typeof d["spend"] === "number") {
        k.spend = d["spend"];
        k.flushedSpend = d["spend"];
        k.pendingSpend = [];
      }
      for (const [field, prop] of [
        ["user_id", "userId"],
        ["team_id", "teamId"],
        ["organization_id", "organizationId"],
        ["project_id", "projectId"],
      ] as const) {
        if (field in d) k[prop] = strOrNull(d[field]);
      }
      for (const [field, prop] of [
        ["max_parallel_requests", "maxParallelRequests"],
        ["tpm_limit", "tpmLimit"],
        ["rpm_limit", "rpmLimit"],
      ] as const) {
        if (field in d) k[prop] = numOrNull(d[field]);
      }
      if (isRecord(d["metadata"])) k.metadata = { ...d["metadata"] };
      if (Array.isArray(d["tags"])) k.metadata["tags"] = d["tags"];
      if (typeof d["blocked"] === "boolean") k.blocked = d["blocked"];
      for (const f of PASSTHROUGH) if (d[f] !== undefined) k.fields[f] = d[f];
      k.updatedAt = now;
      k.updatedBy = callerName(caller);
      return json(200, { key: d["key"], ...rowJson(k) });
    }),
  );
  r.add(
    "POST",
    "/key/delete",
    management((req) => {
      const v = validateBody(req.body, { keys: "list", key_aliases: "list" });
      if (!v.ok) return validationError(v.errors);
      const list = v.value["keys"];
      const aliases = v.value["key_aliases"];
      if ((list === undefined || list === null) && (aliases === undefined || aliases === null)) {
        return validationError([
          { type: "value_error", loc: ["body"], msg: "Value error, At least one of keys or key_aliases must be provided.", input: req.body, ctx: { error: {} } },
        ]);
      }
      let requested: unknown[];
      let tokens: string[];
      if (Array.isArray(list) && list.length > 0) {
        requested = list;
        tokens = list.map((x) => hashed(String(x)));
      } else if (Array.isArray(aliases) && aliases.length > 0) {
        requested = aliases;
        tokens = [...keys.values()].filter((k) => k.keyAlias !== null && aliases.includes(k.keyAlias)).map((k) => k.token);
      } else {
        return proxyError(500, "Invalid request type", "internal_server_error");
      }
      const found = tokens.filter((t) => keys.has(t));
      if (found.length === 0) return httpExceptionError(404, { error: "No keys found" });
      // Keys that were not found are not an error once one was: LiteLLM
      // compares the request with itself and answers with what was passed in.
      for (const t of found) keys.delete(t);
      return json(200, { deleted_keys: requested });
    }),
  );
  r.add(
    "GET",
    "/key/info",
    management(
      (req, caller) => {
        const param = req.query.get("key");
        if (caller.kind === "virtual" && !caller.admin && param !== null && hashed(param) !== caller.key.token) {
          return httpExceptionError(403, "You are not allowed to access this key's info. Your role=internal_user");
        }
        const keyParam = param ?? (caller.kind === "virtual" ? caller.key.token : masterKey);
        const k = findKey(keyParam);
        if (k === undefined) return proxyError(404, "Key not found in database", "not_found_error", "key");
        return json(200, { key: keyParam, info: rowJson(k) });
      },
      { selfService: true },
    ),
  );
  r.add(
    "GET",
    "/key/list",
    management((req) => {
      const page = req.query.get("page") ?? "1";
      const size = req.query.get("size") ?? "10";
      const errors = [
        ...queryInt("page", page, 1, undefined),
        ...queryInt("size", size, 1, 100),
      ];
      if (errors.length > 0) return validationError(errors);
      const p = Number(page);
      const s = Number(size);
      let rows = [...keys.values()];
      for (const [param, pick] of [
        ["key_alias", (k: VirtualKey) => k.keyAlias],
        ["user_id", (k: VirtualKey) => k.userId],
        ["team_id", (k: VirtualKey) => k.teamId],
        ["organization_id", (k: VirtualKey) => k.organizationId],
        ["key_hash", (k: VirtualKey) => k.token],
      ] as const) {
        const want = req.query.get(param);
        if (want !== null) rows = rows.filter((k) => pick(k) === want);
      }
      rows.sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
      const full = req.query.get("return_full_object") === "true";
      const slice = rows.slice((p - 1) * s, p * s);
      return json(200, {
        keys: slice.map((k) => (full ? { token: k.token, ...rowJson(k) } : k.token)),
        total_count: rows.length,
        current_page: p,
        total_pages: Math.ceil(rows.length / s),
      });
    }),
  );
  for (const [path, blocked] of [
    ["/key/block", true],
    ["/key/unblock", false],
  ] as const) {
    r.add(
      "POST",
      path,
      management((req, caller) => {
        const v = validateBody(req.body, { key: "str" }, ["key"]);
        if (!v.ok) return validationError(v.errors);
        const keyParam = String(v.value["key"]);
        const k = findKey(keyParam);
        if (k === undefined) return httpExceptionError(404, { error: `Key not found: ${hashed(keyParam)}` });
        k.blocked = blocked;
        k.updatedAt = clock.now();
        k.updatedBy = callerName(caller);
        return json(200, { token: k.token, ...rowJson(k) });
      }),
    );
  }
  const regenerate = management((req, caller) => {
    if (!settings.licensed) return proxyError(500, `Regenerating Virtual Keys is an Enterprise feature, ${NOT_PREMIUM}`, "internal_server_error");
    const body = isRecord(req.body) ? req.body : {};
    const keyParam = req.params["key"] ?? (typeof body["key"] === "string" ? body["key"] : undefined);
    if (keyParam === undefined) return httpExceptionError(400, { error: "No key passed in." });
    const k = findKey(keyParam);
    if (k === undefined) return httpExceptionError(404, { error: `Key ${keyParam} not found.` });
    const newKey = body["new_key"];
    if (newKey !== undefined && (typeof newKey !== "string" || !newKey.startsWith("sk-"))) {
      return httpExceptionError(400, {
        error: "New key must start with 'sk-'. This is to distinguish a key hash (used by litellm for logging / internal logic) from the actual key.",
      });
    }
    const now = clock.now();
    if (typeof body["duration"] === "string") {
      try {
        k.expires = now + durationInSeconds(body["duration"], now) * 1000;
      } catch (err) {
        if (err instanceof DurationError) return proxyError(500, err.message, "internal_server_error");
        throw err;
      }
    }
    const value = typeof newKey === "string" ? newKey : `sk-${randomUrlSafe(16)}`;
    keys.delete(k.token);
    k.token = sha256Hex(value);
    k.keyName = `sk-...${value.slice(-4)}`;
    k.updatedAt = now;
    k.updatedBy = callerName(caller);
    keys.set(k.token, k);
    return json(200, { ...rowJson(k), key: value, token: k.token, token_id: k.token });
  });
  r.add("POST", "/key/:key/regenerate", regenerate);
  r.add("POST", "/key/regenerate", regenerate);

  // Health probes need no key, so a config check can use them before auth.
  r.add("GET", "/health/liveliness", () => json(200, "I'm alive!"));
  r.add("GET", "/health/liveness", () => json(200, "I'm alive!"));
  r.add("GET", "/health/readiness", () =>
    json(200, { status: "connected", db: "connected", cache: null, litellm_version: "1.99.0", success_callbacks: [], last_updated: isoMicros(clock.now()) }),
  );

  const listModels: Handler = (req) => {
    const caller = authenticate(req);
    if (caller instanceof Refusal) return caller.response;
    const allowed = caller.kind === "master" || caller.key.models.length === 0 || caller.key.models.includes("all-proxy-models")
      ? settings.models
      : settings.models.filter((m) => caller.key.models.includes(m));
    return json(200, { data: allowed.map((id) => ({ id, object: "model", created: 1_677_610_602, owned_by: "openai" })), object: "list" });
  };
  r.add("GET", "/models", listModels);
  r.add("GET", "/v1/models", listModels);

  const completion: Handler = async (req) => {
    const caller = authenticate(req);
    if (caller instanceof Refusal) return caller.response;
    const body = isRecord(req.body) ? req.body : {};
    const model = typeof body["model"] === "string" ? body["model"] : undefined;
    if (caller.kind === "virtual") {
      const k = caller.key;
      settle(k);
      if (k.maxBudget !== null && k.spend >= k.maxBudget) {
        return proxyError(
          settings.budgetExceededStatus,
          `Budget has been exceeded! Current cost: ${pyFloat(k.spend)}, Max budget: ${pyFloat(k.maxBudget)}`,
          "budget_exceeded",
          null,
        );
      }
      if (model !== undefined && k.models.length > 0 && !k.models.includes(model) && !k.models.includes("all-proxy-models")) {
        return proxyError(
          401,
          `key not allowed to access model. This key can only access models=${pyList(k.models)}. Tried to access ${model}`,
          "key_model_access_denied",
          "model",
        );
      }
    }
    if (model === undefined || !settings.models.includes(model)) {
      return proxyError(
        400,
        `{'error': '/chat/completions: Invalid model name passed in model=${model ?? "None"}. Call \`/v1/models\` to view available models for your key.'}`,
        "None",
      );
    }
    if (caller.kind === "virtual") {
      const limited = checkRateLimits(caller.key);
      if (limited) return limited;
    }
    const k = caller.kind === "virtual" ? caller.key : undefined;
    if (k) {
      k.inFlight++;
      k.recent.push({ at: Date.now(), tokens: TOKENS_PER_COMPLETION });
    }
    try {
      if (settings.completionLatencyMs > 0) await sleep(settings.completionLatencyMs);
    } finally {
      if (k) k.inFlight--;
    }
    const cost = caller.kind === "virtual" ? settings.costPerRequest : 0;
    if (k && cost > 0) {
      k.spend += cost;
      k.pendingSpend.push({ at: Date.now(), amount: cost });
      settle(k);
    }
    return json(200, completionJson(model, clock.now()), {
      "x-litellm-response-cost": String(cost),
      "x-litellm-key-spend": String(k?.spend ?? 0),
      "x-litellm-version": "1.99.0",
    });
  };
  r.add("POST", "/chat/completions", completion);
  r.add("POST", "/v1/chat/completions", completion);

  function checkRateLimits(k: VirtualKey): EmulatorResponse | undefined {
    const now = Date.now();
    k.recent = k.recent.filter((e) => e.at > now - 60_000);
    const rpm = k.recent.length;
    const tpm = k.recent.reduce((sum, e) => sum + e.tokens, 0);
    const overRpm = k.rpmLimit !== null && rpm >= k.rpmLimit;
    const overTpm = k.tpmLimit !== null && tpm >= k.tpmLimit;
    const overParallel = k.maxParallelRequests !== null && k.inFlight >= k.maxParallelRequests;
    if (!overRpm && !overTpm && !overParallel) return undefined;
    const oldest = k.recent[0]?.at ?? now;
    const retryAfter = overParallel && !overRpm && !overTpm ? 1 : Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000));
    const max = "9223372036854775807";
    return proxyError(
      429,
      `LiteLLM Rate Limit Handler for rate limit type = key. Crossed TPM / RPM / Max Parallel Request Limit. current rpm: ${rpm}, rpm limit: ${k.rpmLimit ?? max}, current tpm: ${tpm}, tpm limit: ${k.tpmLimit ?? max}, current max_parallel_requests: ${k.inFlight}, max_parallel_requests: ${k.maxParallelRequests ?? max}`,
      "None",
      "None",
      { "retry-after": String(retryAfter), rate_limit_type: overParallel ? "max_parallel_requests" : overRpm ? "requests" : "tokens" },
    );
  }

  const control = new Router<Handler>();
  control.add("POST", "/__emulator/litellm/keys", (req) => generate(isRecord(req.body) ? req.body : {}, ADMIN_NAME));
  control.add("POST", "/__emulator/litellm/admin_keys", () => {
    const userId = settings.proxyAdminUserIds[0] ?? "proxy-admin";
    return generate({ user_id: userId, key_alias: `proxy-admin-${randomAlnum(8)}` }, ADMIN_NAME);
  });

  return {
    name: "litellm",
    routes: r,
    controlRoutes: control,
    errorResponse: (status, ctx) => statusError(status, ctx.retryAfterSeconds),
    unknownRoute: (_req, methodNotAllowed) => (methodNotAllowed ? json(405, { detail: "Method Not Allowed" }) : json(404, { detail: "Not Found" })),
    invalidBody: (_req, reason) =>
      reason === "too-large"
        ? json(413, { detail: "Request Entity Too Large" })
        : validationError([{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {}, ctx: { error: "Expecting value" } }]),
    state: () => ({
      keys: [...keys.values()].map((k) => ({ token: k.token, ...rowJson(k), spend_enforced: k.spend })),
    }),
    reset: () => {
      keys = new Map();
      settings = cloneSettings(initialSettings);
    },
    settings: () => cloneSettings(settings),
    updateSettings: (patch) =>
      applySettings(settings, patch, {
        models: stringListSetting("models"),
        costPerRequest: numberSetting("costPerRequest", 0, 1e9),
        spendFlushLagMs: numberSetting("spendFlushLagMs", 0, 3_600_000),
        budgetExceededStatus: choiceSetting("budgetExceededStatus", [400, 429] as const),
        expiredKeyStatus: choiceSetting("expiredKeyStatus", [400, 401] as const),
        licensed: booleanSetting("licensed"),
        completionLatencyMs: numberSetting("completionLatencyMs", 0, 60_000),
        validateKeyAliasFormat: booleanSetting("validateKeyAliasFormat"),
        proxyAdminUserIds: stringListSetting("proxyAdminUserIds"),
      }),
    generate,
  };
}

function cloneSettings(s: LiteLLMSettings): LiteLLMSettings {
  return { ...s, models: [...s.models], proxyAdminUserIds: [...s.proxyAdminUserIds] };
}

function callerName(caller: Caller): string {
  return caller.kind === "master" ? ADMIN_NAME : (caller.key.userId ?? ADMIN_NAME);
}

function numOrNull(v: unknown): number | null {
  return typeof v === "number" ? v : null;
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function queryInt(name: string, raw: string, min: number, max: number | undefined) {
  const loc = ["query", name];
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) return [{ type: "int_parsing", loc, msg: "Input should be a valid integer, unable to parse string as an integer", input: raw }];
  const n = Number(raw);
  if (n < min) return [{ type: "greater_than_equal", loc, msg: `Input should be greater than or equal to ${min}`, input: raw, ctx: { ge: min } }];
  if (max !== undefined && n > max) return [{ type: "less_than_equal", loc, msg: `Input should be less than or equal to ${max}`, input: raw, ctx: { le: max } }];
  return [];
}

function completionJson(model: string, nowMs: number) {
  return {
    id: `chatcmpl-${randomAlnum(29)}`,
    created: Math.floor(nowMs / 1000),
    model,
    object: "chat.completion",
    system_fingerprint: null,
    choices: [{ finish_reason: "stop", index: 0, message: { content: "Hello! How can I help you today?", role: "assistant", tool_calls: null, function_call: null } }],
    usage: { completion_tokens: 6, prompt_tokens: 9, total_tokens: TOKENS_PER_COMPLETION },
  };
}

export async function startLiteLLMEmulator(options: LiteLLMEmulatorOptions = {}): Promise<LiteLLMEmulator> {
  const masterKey = options.masterKey ?? `sk-${randomUrlSafe(24)}`;
  if (!masterKey.startsWith("sk-")) throw new Error("a LiteLLM master key must start with sk-");
  const settings: LiteLLMSettings = cloneSettings({ ...DEFAULT_SETTINGS, ...options.settings });
  let provider: LiteLLMProvider | undefined;
  const server = await startEmulatorServer({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    provider: (clock) => (provider = createLiteLLMProvider(masterKey, clock, settings)),
  });
  const p = provider as unknown as LiteLLMProvider;
  const generateDirect = async (body: Record<string, unknown>) => {
    const res = p.generate(body, ADMIN_NAME);
    if (res.status !== 200) throw new Error(`key generation failed with ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as Record<string, unknown>;
  };
  return {
    url: server.url,
    baseUrl: server.url,
    port: server.port,
    masterKey,
    control: server.control,
    generateKey: (body = {}) => generateDirect(body),
    createAdminKey: async () => {
      const body = await generateDirect({ user_id: settings.proxyAdminUserIds[0] ?? "proxy-admin" });
      return { key: String(body["key"]), token: String(body["token"]) };
    },
    close: () => server.close(),
  };
}
