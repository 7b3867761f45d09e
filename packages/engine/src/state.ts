// Per-mount state: provider clients built from the stored connections, cached
// until a connection changes (on this node, or on the active node, which
// reaches standbys through invalidation).
import type { Backend, Logger, Storage } from "@vault-plugin-ai/sdk";
import { invalidRequest } from "@vault-plugin-ai/sdk";
import type { HttpClientOptions, RequestRecord } from "./providers/http.ts";
import { LiteLLMClient } from "./providers/litellm/client.ts";
import { OpenAIAdminClient } from "./providers/openai/client.ts";
import { OpenRouterClient } from "./providers/openrouter/client.ts";
import { Metrics } from "./metrics.ts";
import { AsyncLock } from "./lock.ts";
import { DEFAULT_CONNECTION, readConnection, readRole, type RoleEntry, type ConfigEntry, type LiteLLMConfigEntry, type OpenAIConfigEntry, type OpenRouterConfigEntry, type Provider } from "./storage.ts";

export type Connection =
  | { config: OpenAIConfigEntry; client: OpenAIAdminClient }
  | { config: LiteLLMConfigEntry; client: LiteLLMClient }
  | { config: OpenRouterConfigEntry; client: OpenRouterClient };

export interface EngineState {
  connections: Map<string, Connection>;
  metrics: Metrics;
  /** Test seam: provider HTTP options (e.g. a faster retry policy). */
  httpOverrides: Pick<HttpClientOptions, "retry" | "timeoutMs">;
  /** Serializes every read-modify-write of a connection. */
  connectionLock: AsyncLock;
  /** Bumped whenever cached connections are dropped, so a read that raced the drop is not cached. */
  connectionGeneration: number;
  /** Roles as last read or written on this node; dropped on write, delete and invalidation. */
  roles: Map<string, RoleEntry>;
}

export type EngineBackend = Backend<EngineState>;

export function newEngineState(): EngineState {
  return { connections: new Map(), metrics: new Metrics(), httpOverrides: {}, connectionLock: new AsyncLock(), connectionGeneration: 0, roles: new Map() };
}

function httpOptions(state: EngineState, config: ConfigEntry, logger?: Logger) {
  return {
    maxConcurrency: config.max_concurrency,
    ...state.httpOverrides,
    onRequest: (r: RequestRecord) => {
      state.metrics.observeProviderRequest(r);
      logger?.trace("provider request", { provider: r.provider, operation: r.operation, status: r.status, duration_ms: r.durationMs, attempt: r.attempt });
    },
  };
}

export function openAIClientFor(state: EngineState, config: OpenAIConfigEntry, logger?: Logger): OpenAIAdminClient {
  return new OpenAIAdminClient({ apiEndpoint: config.api_endpoint, adminApiKey: config.admin_api_key, organizationId: config.organization_id }, httpOptions(state, config, logger));
}

export function clientFor(state: EngineState, config: ConfigEntry, logger?: Logger): Connection {
  switch (config.provider) {
    case "openai":
      return { config, client: openAIClientFor(state, config, logger) };
    case "litellm":
      return {
        config,
        client: new LiteLLMClient(
          { baseUrl: config.base_url, masterKey: config.master_key },
          { ...httpOptions(state, config, logger), tls: { ...(config.ca_cert ? { ca: config.ca_cert } : {}), insecure: config.insecure_tls === true } },
        ),
      };
    case "openrouter":
      return { config, client: new OpenRouterClient({ baseUrl: config.base_url, provisioningKey: config.provisioning_key }, httpOptions(state, config, logger)) };
  }
}

/** A connection and its client, or a 400 telling the operator to configure it. */
export async function connection(backend: EngineBackend, storage: Storage, name = DEFAULT_CONNECTION): Promise<Connection> {
  const cached = backend.state.connections.get(name);
  if (cached) return cached;
  const generation = backend.state.connectionGeneration;
  const config = await readConnection(storage, name);
  // Calls that missed the cache together must share the first one's client:
  // its semaphore is what caps the requests in flight to the provider.
  const raced = backend.state.connections.get(name);
  if (raced) return raced;
  if (!config) {
    throw invalidRequest(
      name === DEFAULT_CONNECTION ? 'the mount is not configured: write its provider connection to "config" first' : `connection "${name}" does not exist: write it to "connections/${name}" first`,
    );
  }
  const entry = clientFor(backend.state, config, backend.logger);
  if (generation === backend.state.connectionGeneration) backend.state.connections.set(name, entry);
  return entry;
}

export type ConnectionOf<P extends Provider> = Extract<Connection, { config: { provider: P } }>;

/** A connection that must be of one provider: another provider's is a 400 naming both. */
export async function providerConnection<P extends Provider>(backend: EngineBackend, storage: Storage, name: string, provider: P): Promise<ConnectionOf<P>> {
  const c = await connection(backend, storage, name);
  if (c.config.provider !== provider) throw invalidRequest(`connection "${name}" is a ${c.config.provider} connection, not ${provider}`);
  return c as ConnectionOf<P>;
}

export const openAIConnection = (backend: EngineBackend, storage: Storage, name = DEFAULT_CONNECTION) => providerConnection(backend, storage, name, "openai");

export function forgetConnections(state: EngineState, name?: string): void {
  state.connectionGeneration++;
  if (name === undefined) state.connections.clear();
  else state.connections.delete(name);
}

/** A role, from this node's cache when it has it: issuing a key then reads nothing from storage. */
export async function cachedRole(backend: EngineBackend, storage: Storage, name: string): Promise<RoleEntry | undefined> {
  const cached = backend.state.roles.get(name);
  if (cached) return cached;
  const generation = backend.state.connectionGeneration;
  const role = await readRole(storage, name);
  if (role && generation === backend.state.connectionGeneration) backend.state.roles.set(name, role);
  return role;
}

export function forgetRole(state: EngineState, name?: string): void {
  state.connectionGeneration++;
  if (name === undefined) state.roles.clear();
  else state.roles.delete(name);
}
