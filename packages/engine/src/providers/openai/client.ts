// A client of the OpenAI Admin API for what the engine needs: projects,
// project service accounts (whose creation returns a key) and admin API keys.
// It validates every response it relies on, so a malformed answer becomes a
// clear error rather than a lease without its key's id.
import { HttpClient, type HttpClientOptions, ProviderError } from "../http.ts";

export const DEFAULT_OPENAI_ENDPOINT = "https://api.openai.com/v1";

export interface OpenAIConnection {
  apiEndpoint: string;
  adminApiKey: string;
  organizationId: string;
}

export interface Project {
  id: string;
  name: string;
  status: string;
}

export interface ServiceAccount {
  id: string;
  name: string;
  createdAt: number;
}

export interface CreatedServiceAccount extends ServiceAccount {
  apiKey: { id: string; value: string };
}

export interface AdminKey {
  id: string;
  name: string;
  expiresAt: number | null;
}

export interface CreatedAdminKey extends AdminKey {
  value: string;
}

const PROVIDER = "OpenAI";

function malformed(what: string): ProviderError {
  return new ProviderError(PROVIDER, `OpenAI returned a malformed ${what}`);
}

function str(obj: unknown, key: string): string | undefined {
  const v = obj && typeof obj === "object" ? (obj as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function num(obj: unknown, key: string): number | undefined {
  const v = obj && typeof obj === "object" ? (obj as Record<string, unknown>)[key] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

// A lone surrogate would make encodeURIComponent throw; Go, on the server's
// side of JSON, turns it into U+FFFD, and so do we.
const seg = (id: string) => encodeURIComponent(id.toWellFormed());

export class OpenAIAdminClient {
  private readonly http: HttpClient;

  constructor(connection: OpenAIConnection, options: Partial<Omit<HttpClientOptions, "baseUrl" | "headers" | "provider">> = {}) {
    this.http = new HttpClient({
      ...options,
      provider: PROVIDER,
      baseUrl: connection.apiEndpoint,
      headers: () => ({
        Authorization: `Bearer ${connection.adminApiKey}`,
        ...(connection.organizationId ? { "OpenAI-Organization": connection.organizationId } : {}),
      }),
      credential: () => connection.adminApiKey,
    });
  }

  /** The cheapest call that proves the admin key works. */
  async verifyAdminKey(): Promise<void> {
    const res = await this.http.request("GET", "/organization/admin_api_keys", { operation: "list admin API keys", query: { limit: 1 }, idempotent: true });
    // A 200 that is not the Admin API's list (a catch-all proxy, a login page) proves nothing.
    if (!Array.isArray((res.body as Record<string, unknown> | undefined)?.["data"])) throw malformed("admin API key list");
  }

  async getProject(projectId: string): Promise<Project | undefined> {
    try {
      const res = await this.http.request("GET", `/organization/projects/${seg(projectId)}`, { operation: "retrieve project", idempotent: true });
      const id = str(res.body, "id");
      if (!id) throw malformed("project");
      return { id, name: str(res.body, "name") ?? "", status: str(res.body, "status") ?? "active" };
    } catch (err) {
      if (err instanceof ProviderError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Creates a service account, which comes with its API key. Never retried on
   * an ambiguous failure: a second attempt could leave a twin behind. The
   * caller's write-ahead log covers a response that never arrives.
   */
  async createServiceAccount(projectId: string, name: string): Promise<CreatedServiceAccount> {
    const res = await this.http.request("POST", `/organization/projects/${seg(projectId)}/service_accounts`, {
      operation: "create project service account",
      body: { name },
      idempotent: false,
    });
    const id = str(res.body, "id");
    if (!id) throw malformed("service account (no id)");
    const apiKey = (res.body as Record<string, unknown>)["api_key"];
    const keyId = str(apiKey, "id");
    const value = str(apiKey, "value");
    if (!keyId || !value) {
      // The account exists but we have no usable key: remove it now rather
      // than leave an account nobody can use or revoke.
      await this.deleteServiceAccount(projectId, id).catch(() => undefined);
      throw malformed("service account (no API key in the response)");
    }
    return { id, name: str(res.body, "name") ?? name, createdAt: num(res.body, "created_at") ?? 0, apiKey: { id: keyId, value } };
  }

  /** Deletes a service account and with it its keys; an account already gone counts as deleted. */
  async deleteServiceAccount(projectId: string, serviceAccountId: string): Promise<"deleted" | "already-gone"> {
    try {
      await this.http.request("DELETE", `/organization/projects/${seg(projectId)}/service_accounts/${seg(serviceAccountId)}`, {
        operation: "delete project service account",
        idempotent: true,
      });
      return "deleted";
    } catch (err) {
      if (err instanceof ProviderError && err.status === 404) return "already-gone";
      throw err;
    }
  }

  async listServiceAccounts(projectId: string, maxPages = 100): Promise<ServiceAccount[]> {
    const out: ServiceAccount[] = [];
    let after: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.http.request("GET", `/organization/projects/${seg(projectId)}/service_accounts`, {
        operation: "list project service accounts",
        query: { limit: 100, after },
        idempotent: true,
      });
      const data = (res.body as Record<string, unknown> | undefined)?.["data"];
      if (!Array.isArray(data)) throw malformed("service account list");
      for (const item of data) {
        const id = str(item, "id");
        if (id) out.push({ id, name: str(item, "name") ?? "", createdAt: num(item, "created_at") ?? 0 });
      }
      const hasMore = (res.body as Record<string, unknown>)["has_more"] === true;
      after = str(res.body, "last_id") ?? out.at(-1)?.id;
      if (!hasMore || !after) break;
    }
    return out;
  }

  async createAdminKey(name: string, expiresInSeconds?: number): Promise<CreatedAdminKey> {
    const res = await this.http.request("POST", "/organization/admin_api_keys", {
      operation: "create admin API key",
      body: expiresInSeconds ? { name, expires_in_seconds: expiresInSeconds } : { name },
      idempotent: false,
    });
    const id = str(res.body, "id");
    const value = str(res.body, "value");
    if (!id || !value) throw malformed("admin API key");
    return { id, value, name: str(res.body, "name") ?? name, expiresAt: num(res.body, "expires_at") ?? null };
  }

  async listAdminKeys(maxPages = 50): Promise<AdminKey[]> {
    const out: AdminKey[] = [];
    let after: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.http.request("GET", "/organization/admin_api_keys", { operation: "list admin API keys", query: { limit: 100, after }, idempotent: true });
      const data = (res.body as Record<string, unknown> | undefined)?.["data"];
      if (!Array.isArray(data)) throw malformed("admin API key list");
      for (const item of data) {
        const id = str(item, "id");
        if (id) out.push({ id, name: str(item, "name") ?? "", expiresAt: num(item, "expires_at") ?? null });
      }
      const hasMore = (res.body as Record<string, unknown>)["has_more"] === true;
      after = str(res.body, "last_id") ?? out.at(-1)?.id;
      if (!hasMore || !after) break;
    }
    return out;
  }

  async deleteAdminKey(keyId: string): Promise<"deleted" | "already-gone"> {
    try {
      await this.http.request("DELETE", `/organization/admin_api_keys/${seg(keyId)}`, { operation: "delete admin API key", idempotent: true });
      return "deleted";
    } catch (err) {
      if (err instanceof ProviderError && err.status === 404) return "already-gone";
      throw err;
    }
  }
}
