// A client of the LiteLLM proxy's virtual-key management (/key/generate,
// /key/update, /key/delete, /key/info, /key/list) for what the engine needs.
// It knows nothing of Vault. Every response it relies on is validated, so a
// malformed answer becomes a clear error rather than a lease without its key.
//
// Keys are addressed by their token (LiteLLM's sha256 hex of the key), never
// by the plaintext key, so no secret ever travels in a URL.
import { HttpClient, type HttpClientOptions, type HttpResponse, ProviderError } from "../http.ts";

export interface LiteLLMConnection {
  /** The proxy's origin, e.g. "https://litellm.example.com". */
  baseUrl: string;
  masterKey: string;
}

export type LiteLLMClientOptions = Partial<Omit<HttpClientOptions, "baseUrl" | "headers" | "provider">>;

export interface GenerateKeyRequest {
  /** Unique across the proxy: LiteLLM refuses a second key with the same alias. The rollback finds the key by it. */
  keyAlias: string;
  /** Models the key may call; [] means every model the proxy serves. */
  models: string[];
  /** USD; omitted means no budget. */
  maxBudget?: number;
  /** The key expires this long after creation (LiteLLM's own backstop). */
  durationSeconds: number;
  metadata?: Record<string, string>;
  /** LiteLLM duration string ("30d", "1h") after which spend resets. */
  budgetDuration?: string;
  tpmLimit?: number;
  rpmLimit?: number;
  maxParallelRequests?: number;
  teamId?: string;
  userId?: string;
  /** An Enterprise feature: a proxy without a licence refuses the request. */
  tags?: string[];
}

export interface GeneratedKey {
  /** The plaintext key, shown once. */
  key: string;
  /** LiteLLM's id for the key (sha256 hex of it): what update, delete and info take. */
  token: string;
  keyAlias: string;
  /** As LiteLLM reports it (ISO 8601, often with microseconds), or null for never. */
  expires: string | null;
  maxBudget: number | null;
  models: string[];
}

export interface LiteLLMKeyInfo {
  /** USD spent so far. LiteLLM batches spend writes, so this lags enforcement. */
  spend: number;
  maxBudget: number | null;
  expires: string | null;
  models: string[];
  keyAlias: string | null;
  blocked: boolean;
}

const PROVIDER = "LiteLLM";
const LIST_PAGE_SIZE = 100;

function malformed(what: string): ProviderError {
  return new ProviderError(PROVIDER, `LiteLLM returned a malformed ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(obj: unknown, key: string): string | undefined {
  const v = isRecord(obj) ? obj[key] : undefined;
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** A number, null, or undefined when the field is absent or of another type. */
function numOrNull(obj: unknown, key: string): number | null | undefined {
  const v = isRecord(obj) ? obj[key] : undefined;
  if (v === null) return null;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function strList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

/** The expiry field: a string, null for never, or undefined when absent or unusable. */
function expiresField(obj: unknown): string | null | undefined {
  const v = isRecord(obj) ? obj["expires"] : undefined;
  if (v === null) return null;
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/**
 * LiteLLM's duration grammar is `<int><unit>` with unit s|m|h|d|w|mo; a bare
 * number is refused ("Unsupported duration unit"), so seconds go as "3600s".
 */
export function liteLLMDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`a LiteLLM key duration must be a positive number of seconds, not ${seconds}`);
  return `${Math.ceil(seconds)}s`;
}

/**
 * Epoch milliseconds of a LiteLLM timestamp ("2026-10-04T03:47:58.123456Z",
 * "...+00:00", or naive, which LiteLLM means as UTC); undefined if unparseable.
 */
export function parseLiteLLMTime(value: string): number | undefined {
  const s = value.trim();
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned.replace(" ", "T"));
  return Number.isNaN(ms) ? undefined : ms;
}

function checkAmount(name: string, v: number | undefined): void {
  // JSON.stringify(NaN) is null, which LiteLLM reads as "no limit".
  if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new RangeError(`${name} must be a finite number ≥ 0, not ${v}`);
}

function checkCount(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new RangeError(`${name} must be a whole number ≥ 0, not ${v}`);
}

/**
 * A 404 in LiteLLM's error envelope means the key is not there. A 404 without
 * it (FastAPI's bare {"detail":"Not Found"}) means the route is missing, e.g.
 * a wrong base URL: that must not pass for "already deleted".
 */
function keyNotFound(err: unknown): boolean {
  return err instanceof ProviderError && err.status === 404 && err.code !== undefined;
}

export class LiteLLMClient {
  private readonly http: HttpClient;

  constructor(connection: LiteLLMConnection, options: LiteLLMClientOptions = {}) {
    this.http = new HttpClient({
      ...options,
      provider: PROVIDER,
      baseUrl: connection.baseUrl,
      headers: () => ({ Authorization: `Bearer ${connection.masterKey}` }),
      credential: () => connection.masterKey,
    });
  }

  /**
   * Proves the master key with one cheap authenticated call. The health
   * routes need no key, so they prove nothing; /key/list is admin-only and
   * answers 401 for a wrong key.
   */
  async verifyMasterKey(): Promise<void> {
    const res = await this.http.request("GET", "/key/list", { operation: "list keys", query: { page: 1, size: 1 }, idempotent: true });
    if (!Array.isArray(isRecord(res.body) ? res.body["keys"] : undefined)) throw malformed("key list");
  }

  /**
   * Creates a virtual key. Never retried on an ambiguous failure: a second
   * attempt would meet the first key's alias. The caller's write-ahead log
   * covers an answer that never arrives (see deleteKeyByAlias).
   */
  async generateKey(request: GenerateKeyRequest): Promise<GeneratedKey> {
    if (request.keyAlias.length === 0) throw new RangeError("keyAlias must not be empty");
    checkAmount("maxBudget", request.maxBudget);
    checkCount("tpmLimit", request.tpmLimit);
    checkCount("rpmLimit", request.rpmLimit);
    checkCount("maxParallelRequests", request.maxParallelRequests);
    const body: Record<string, unknown> = {
      key_alias: request.keyAlias,
      models: request.models,
      duration: liteLLMDuration(request.durationSeconds),
    };
    if (request.maxBudget !== undefined) body["max_budget"] = request.maxBudget;
    if (request.metadata !== undefined) body["metadata"] = request.metadata;
    if (request.budgetDuration !== undefined) body["budget_duration"] = request.budgetDuration;
    if (request.tpmLimit !== undefined) body["tpm_limit"] = request.tpmLimit;
    if (request.rpmLimit !== undefined) body["rpm_limit"] = request.rpmLimit;
    if (request.maxParallelRequests !== undefined) body["max_parallel_requests"] = request.maxParallelRequests;
    if (request.teamId !== undefined) body["team_id"] = request.teamId;
    if (request.userId !== undefined) body["user_id"] = request.userId;
    if (request.tags !== undefined) body["tags"] = request.tags;

    let res: HttpResponse;
    try {
      res = await this.http.request("POST", "/key/generate", { operation: "generate key", body, idempotent: false });
    } catch (err) {
      // A 2xx whose body was unreadable (not JSON, too large): the key exists.
      if (err instanceof ProviderError && err.status !== undefined && err.status >= 200 && err.status < 300) {
        const cleaned = await this.deleteKeyByAlias(request.keyAlias).then(
          () => true,
          () => false,
        );
        throw new ProviderError(PROVIDER, `${err.message}; ${cleaned ? "the key it made was deleted" : "the key it made could not be deleted yet"}`, {
          status: err.status,
          cause: err,
        });
      }
      throw err;
    }

    const key = str(res.body, "key");
    const token = str(res.body, "token") ?? str(res.body, "token_id");
    if (!key || !token) {
      // The key exists but we cannot hand it out or revoke it by id: remove
      // it now rather than leave a live key nobody holds.
      let cleaned = false;
      try {
        if (token) await this.deleteKey(token);
        else await this.deleteKeyByAlias(request.keyAlias);
        cleaned = true;
      } catch {
        cleaned = false;
      }
      throw malformed(`key (no ${key ? "token" : "key"} in the response); ${cleaned ? "the key it made was deleted" : "the key it made could not be deleted yet"}`);
    }
    const expires = expiresField(res.body);
    const maxBudget = numOrNull(res.body, "max_budget");
    return {
      key,
      token,
      keyAlias: str(res.body, "key_alias") ?? request.keyAlias,
      expires: expires ?? null,
      maxBudget: maxBudget === undefined ? (request.maxBudget ?? null) : maxBudget,
      models: strList(isRecord(res.body) ? res.body["models"] : undefined) ?? request.models,
    };
  }

  /**
   * Moves the key's expiry to now + durationSeconds (LiteLLM re-bases
   * `duration` on the time of the update). Returns the expiry LiteLLM
   * reports, read back from /key/info if the update's answer lacks it.
   */
  async updateKeyDuration(token: string, durationSeconds: number): Promise<{ expires: string | null }> {
    const duration = liteLLMDuration(durationSeconds);
    let res: HttpResponse;
    try {
      res = await this.http.request("POST", "/key/update", { operation: "update key", body: { key: token, duration }, idempotent: true });
    } catch (err) {
      // LiteLLM's 404 here says "Team not found" (a leftover message); say what it means.
      if (keyNotFound(err)) throw new ProviderError(PROVIDER, "LiteLLM has no such key: it was deleted or never existed", { status: 404, cause: err });
      throw err;
    }
    if (!isRecord(res.body)) throw malformed("key update");
    const expires = expiresField(res.body);
    if (expires !== undefined) return { expires };
    const info = await this.keyInfo(token);
    if (!info) throw new ProviderError(PROVIDER, "LiteLLM has no such key: it was deleted right after its update", { status: 404 });
    return { expires: info.expires };
  }

  /** Deletes a key by its token; a key already gone counts as deleted. */
  async deleteKey(token: string): Promise<"deleted" | "already-gone"> {
    try {
      await this.http.request("POST", "/key/delete", { operation: "delete key", body: { keys: [token] }, idempotent: true });
      return "deleted";
    } catch (err) {
      if (keyNotFound(err)) return "already-gone";
      throw err;
    }
  }

  /**
   * Deletes whatever key carries this alias: the rollback of a creation whose
   * answer was lost. Uses /key/delete's key_aliases; a proxy too old to know
   * that field (422) gets /key/list filtered by alias, then delete by token.
   */
  async deleteKeyByAlias(alias: string): Promise<"deleted" | "already-gone"> {
    if (alias.length === 0) throw new RangeError("alias must not be empty");
    try {
      await this.http.request("POST", "/key/delete", { operation: "delete key by alias", body: { key_aliases: [alias] }, idempotent: true });
      return "deleted";
    } catch (err) {
      if (keyNotFound(err)) return "already-gone";
      if (!(err instanceof ProviderError && err.status === 422)) throw err;
    }
    const tokens = await this.findKeysByAlias(alias);
    let deleted = false;
    for (const token of tokens) if ((await this.deleteKey(token)) === "deleted") deleted = true;
    return deleted ? "deleted" : "already-gone";
  }

  /** The tokens of keys whose alias is exactly this one (at most one, as LiteLLM keeps aliases unique). */
  async findKeysByAlias(alias: string, maxPages = 20): Promise<string[]> {
    const out = new Set<string>();
    for (let page = 1; page <= maxPages; page++) {
      const res = await this.http.request("GET", "/key/list", {
        operation: "list keys",
        query: { key_alias: alias, return_full_object: "true", page, size: LIST_PAGE_SIZE },
        idempotent: true,
      });
      const keys = isRecord(res.body) ? res.body["keys"] : undefined;
      if (!Array.isArray(keys)) throw malformed("key list");
      for (const k of keys) {
        // Filter again: a proxy that ignores the key_alias filter lists every key.
        if (isRecord(k) && k["key_alias"] === alias) {
          const token = str(k, "token");
          if (!token) throw malformed("key list (a key without its token)");
          out.add(token);
        }
      }
      const totalPages = numOrNull(res.body, "total_pages");
      if (keys.length === 0 || (typeof totalPages === "number" && page >= totalPages)) return [...out];
    }
    throw new ProviderError(PROVIDER, `LiteLLM listed more than ${maxPages} pages of keys for alias ${JSON.stringify(alias)}; the search is incomplete`, {
      code: "incomplete-listing",
    });
  }

  /** A key's spend, budget, expiry and models; undefined when LiteLLM has no such key. */
  async keyInfo(token: string): Promise<LiteLLMKeyInfo | undefined> {
    let res: HttpResponse;
    try {
      res = await this.http.request("GET", "/key/info", { operation: "key info", query: { key: token }, idempotent: true });
    } catch (err) {
      if (keyNotFound(err)) return undefined;
      throw err;
    }
    const info = isRecord(res.body) ? res.body["info"] : undefined;
    if (!isRecord(info)) throw malformed("key info");
    const spend = info["spend"] === undefined || info["spend"] === null ? 0 : info["spend"];
    if (typeof spend !== "number" || !Number.isFinite(spend)) throw malformed("key info (spend is not a number)");
    const maxBudget = numOrNull(info, "max_budget");
    if (maxBudget === undefined && info["max_budget"] !== undefined) throw malformed("key info (max_budget is not a number)");
    const expires = expiresField(info);
    if (expires === undefined && info["expires"] !== undefined) throw malformed("key info (expires is not a timestamp)");
    const models = info["models"] === undefined || info["models"] === null ? [] : strList(info["models"]);
    if (!models) throw malformed("key info (models is not a list of names)");
    const alias = info["key_alias"];
    if (alias !== undefined && alias !== null && typeof alias !== "string") throw malformed("key info (key_alias is not a string)");
    return {
      spend,
      maxBudget: maxBudget ?? null,
      expires: expires ?? null,
      models,
      keyAlias: typeof alias === "string" ? alias : null,
      blocked: info["blocked"] === true,
    };
  }
}
