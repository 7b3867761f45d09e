// A client of OpenRouter's key management API (/keys, authenticated with a
// management key, formerly called a provisioning key) for what the engine
// needs. It knows nothing of Vault. Every response it relies on is validated,
// so a malformed answer becomes a clear error rather than a lease without its
// key's hash.
import { HttpClient, type HttpClientOptions, type HttpResponse, ProviderError } from "../http.ts";

export const DEFAULT_OPENROUTER_ENDPOINT = "https://openrouter.ai/api/v1";

export interface OpenRouterConnection {
  /** e.g. "https://openrouter.ai/api/v1" */
  baseUrl: string;
  provisioningKey: string;
}

export type OpenRouterClientOptions = Partial<Omit<HttpClientOptions, "baseUrl" | "headers" | "provider">>;

export interface OpenRouterKey {
  /** OpenRouter's id for the key: what get, update and delete take. */
  hash: string;
  name: string;
  /** The redacted key, e.g. "sk-or-v1-0e6...1c96". */
  label: string;
  disabled: boolean;
  /** Credit limit in USD, or null for none. */
  limit: number | null;
  limitRemaining: number | null;
  /** USD used so far. */
  usage: number;
  createdAt: Date | null;
  expiresAt: Date | null;
}

export interface CreatedOpenRouterKey {
  /** The plaintext key, shown once. */
  key: string;
  hash: string;
  name: string;
  limit: number | null;
  /** As OpenRouter stored it; null means the key never expires. */
  expiresAt: Date | null;
}

export interface UpdatedOpenRouterKey extends OpenRouterKey {
  /**
   * Whether the expiry now is the one asked for: undefined when none was
   * asked for. The documented PATCH body has no expires_at, so OpenRouter may
   * ignore it (false) or refuse it (false, with expiresAtRefusal).
   */
  expiresAtApplied: boolean | undefined;
  /** OpenRouter's message when it refused expires_at; the other fields were then sent without it. */
  expiresAtRefusal?: string;
}

const PROVIDER = "OpenRouter";

function malformed(what: string): ProviderError {
  return new ProviderError(PROVIDER, `OpenRouter returned a malformed ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(obj: unknown, key: string): string | undefined {
  const v = isRecord(obj) ? obj[key] : undefined;
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function numOrNull(obj: unknown, key: string): number | null | undefined {
  const v = isRecord(obj) ? obj[key] : undefined;
  if (v === null) return null;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A timestamp field: a Date, null when null or absent, undefined when present but unparseable. */
function dateField(obj: unknown, key: string): Date | null | undefined {
  const v = isRecord(obj) ? obj[key] : undefined;
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** ISO 8601 in UTC to the second ("2026-01-01T00:00:00Z"): OpenRouter refuses other offsets. */
export function openRouterTime(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("expiresAt is an invalid Date");
  // Truncate rather than round, so the key never outlives what was asked.
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function checkLimit(limit: number | null | undefined): void {
  // JSON.stringify(NaN) is null, which OpenRouter reads as "no limit".
  if (limit !== undefined && limit !== null && (!Number.isFinite(limit) || limit < 0)) {
    throw new RangeError(`limit must be a finite number ≥ 0 or null, not ${limit}`);
  }
}

/**
 * A 404 in OpenRouter's error envelope ({"error":{"code":404,…}}) means the
 * key is not there; one without it (an HTML page from a wrong base URL) must
 * not pass for "already deleted".
 */
function keyNotFound(err: unknown): boolean {
  return err instanceof ProviderError && err.status === 404 && err.code !== undefined;
}

// A lone surrogate would make encodeURIComponent throw; Go, on the server's
// side of JSON, turns it into U+FFFD, and so do we.
const seg = (hash: string) => encodeURIComponent(hash.toWellFormed());

/** Reads an ApiKey object; undefined when it lacks the hash or has fields of the wrong type. */
function parseKey(data: unknown): OpenRouterKey | undefined {
  if (!isRecord(data)) return undefined;
  const hash = str(data, "hash");
  if (!hash) return undefined;
  const name = data["name"];
  if (typeof name !== "string") return undefined;
  const limit = numOrNull(data, "limit");
  if (limit === undefined && data["limit"] !== undefined) return undefined;
  const limitRemaining = numOrNull(data, "limit_remaining");
  const usage = numOrNull(data, "usage");
  const expiresAt = dateField(data, "expires_at");
  if (expiresAt === undefined) return undefined;
  const disabled = data["disabled"];
  if (disabled !== undefined && typeof disabled !== "boolean") return undefined;
  return {
    hash,
    name,
    label: typeof data["label"] === "string" ? data["label"] : "",
    disabled: disabled === true,
    limit: limit ?? null,
    limitRemaining: limitRemaining ?? null,
    usage: usage ?? 0,
    createdAt: dateField(data, "created_at") ?? null,
    expiresAt,
  };
}

export class OpenRouterClient {
  private readonly http: HttpClient;

  constructor(connection: OpenRouterConnection, options: OpenRouterClientOptions = {}) {
    this.http = new HttpClient({
      ...options,
      provider: PROVIDER,
      baseUrl: connection.baseUrl,
      headers: () => ({ Authorization: `Bearer ${connection.provisioningKey}` }),
      credential: () => connection.provisioningKey,
    });
  }

  /**
   * Proves the key is a management key with one authenticated call: GET /keys
   * answers 401 for an unknown key and 403 for an ordinary one. (GET /key
   * would accept any valid key.) The API has no page-size parameter.
   */
  async verifyProvisioningKey(): Promise<void> {
    const res = await this.http.request("GET", "/keys", { operation: "list keys", idempotent: true });
    if (!Array.isArray(isRecord(res.body) ? res.body["data"] : undefined)) throw malformed("key list");
  }

  /**
   * Creates a key. Never retried on an ambiguous failure: a second attempt
   * could leave a twin behind. The caller's write-ahead log covers an answer
   * that never arrives (see findKeysByName).
   */
  async createKey(request: { name: string; limit?: number; expiresAt?: Date }): Promise<CreatedOpenRouterKey> {
    if (request.name.length === 0) throw new RangeError("name must not be empty");
    checkLimit(request.limit);
    const body: Record<string, unknown> = { name: request.name };
    if (request.limit !== undefined) body["limit"] = request.limit;
    if (request.expiresAt !== undefined) body["expires_at"] = openRouterTime(request.expiresAt);
    const res = await this.http.request("POST", "/keys", { operation: "create key", body, idempotent: false });
    const data = isRecord(res.body) ? res.body["data"] : undefined;
    const hash = str(data, "hash");
    const key = str(res.body, "key");
    const parsed = parseKey(data);
    if (!hash || !key || !parsed) {
      // With its hash known, remove the key now rather than leave a live key
      // nobody holds; without it, the caller's rollback finds it by name.
      let cleaned = false;
      if (hash) cleaned = await this.deleteKey(hash).then(() => true, () => false);
      const what = !key ? "no key in the response" : !hash ? "no hash in the response" : "fields of the wrong type";
      const fate = hash ? (cleaned ? "the key it made was deleted" : "the key it made could not be deleted yet") : "the key it made is left for the rollback";
      throw malformed(`key (${what}); ${fate}`);
    }
    return { key, hash, name: parsed.name, limit: parsed.limit, expiresAt: parsed.expiresAt };
  }

  /**
   * Changes a key's expiry, credit limit or disabled flag. expires_at is not
   * in the documented PATCH body: OpenRouter may ignore it or refuse it (400
   * naming it). A refusal is retried once without it; either way
   * expiresAtApplied says whether the expiry really moved.
   */
  async updateKey(hash: string, update: { expiresAt?: Date; limit?: number | null; disabled?: boolean }): Promise<UpdatedOpenRouterKey> {
    checkLimit(update.limit);
    const body: Record<string, unknown> = {};
    if (update.limit !== undefined) body["limit"] = update.limit;
    if (update.disabled !== undefined) body["disabled"] = update.disabled;
    const wanted = update.expiresAt === undefined ? undefined : openRouterTime(update.expiresAt);
    let refusal: string | undefined;
    let res: HttpResponse | undefined;
    try {
      res = await this.http.request("PATCH", `/keys/${seg(hash)}`, {
        operation: "update key",
        body: wanted === undefined ? body : { ...body, expires_at: wanted },
        idempotent: true,
      });
    } catch (err) {
      if (!(wanted !== undefined && err instanceof ProviderError && err.status === 400 && /expires_at/i.test(err.message))) throw err;
      refusal = err.message;
    }
    let key: OpenRouterKey | undefined;
    if (res) {
      key = parseKey(isRecord(res.body) ? res.body["data"] : undefined);
      if (!key) throw malformed("key (in the update's answer)");
    } else if (Object.keys(body).length > 0) {
      const again = await this.http.request("PATCH", `/keys/${seg(hash)}`, { operation: "update key", body, idempotent: true });
      key = parseKey(isRecord(again.body) ? again.body["data"] : undefined);
      if (!key) throw malformed("key (in the update's answer)");
    } else {
      key = await this.getKey(hash);
      if (!key) throw new ProviderError(PROVIDER, "OpenRouter has no such key: it was deleted or never existed", { status: 404 });
    }
    const applied = wanted === undefined ? undefined : key.expiresAt !== null && Math.abs(key.expiresAt.getTime() - Date.parse(wanted)) < 1000;
    return { ...key, expiresAtApplied: applied, ...(refusal === undefined ? {} : { expiresAtRefusal: refusal }) };
  }

  /** Deletes a key by hash; a key already gone counts as deleted. */
  async deleteKey(hash: string): Promise<"deleted" | "already-gone"> {
    try {
      await this.http.request("DELETE", `/keys/${seg(hash)}`, { operation: "delete key", idempotent: true });
      return "deleted";
    } catch (err) {
      if (keyNotFound(err)) return "already-gone";
      throw err;
    }
  }

  /** A key by hash; undefined when OpenRouter has no such key. */
  async getKey(hash: string): Promise<OpenRouterKey | undefined> {
    let res: HttpResponse;
    try {
      res = await this.http.request("GET", `/keys/${seg(hash)}`, { operation: "get key", idempotent: true });
    } catch (err) {
      if (keyNotFound(err)) return undefined;
      throw err;
    }
    const key = parseKey(isRecord(res.body) ? res.body["data"] : undefined);
    if (!key) throw malformed("key");
    return key;
  }

  /**
   * Every key (disabled ones included) with exactly this name: the rollback
   * of a creation whose answer was lost. Pages through GET /keys by offset
   * (newest first, up to 100 a page) until a page comes back short, at most
   * maxPages; past that the search is incomplete and this throws rather than
   * answer "none".
   */
  async findKeysByName(name: string, maxPages = 50): Promise<OpenRouterKey[]> {
    const found = new Map<string, OpenRouterKey>();
    let offset = 0;
    let fullPage = 0;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.http.request("GET", "/keys", { operation: "list keys", query: { offset, include_disabled: "true" }, idempotent: true });
      const data = isRecord(res.body) ? res.body["data"] : undefined;
      if (!Array.isArray(data)) throw malformed("key list");
      for (const item of data) {
        const k = parseKey(item);
        if (!k) throw malformed("key list (an entry without a usable hash)");
        if (k.name === name) found.set(k.hash, k);
      }
      // A page shorter than the fullest one seen is the last, whatever size
      // the API pages by (100 today); an empty one certainly is.
      fullPage = Math.max(fullPage, data.length);
      if (data.length === 0 || data.length < fullPage) return [...found.values()];
      offset += data.length;
    }
    throw new ProviderError(PROVIDER, `OpenRouter listed more than ${maxPages} pages of keys; the search for ${JSON.stringify(name)} is incomplete`, {
      code: "incomplete-listing",
    });
  }
}
