// Per-mount state: provider clients built from the stored config, cached
// until the config changes (on this node, or on the active node, which
// reaches standbys through invalidation).
import type { Backend, Logger, Storage } from "@vault-plugin-ai/sdk";
import { invalidRequest } from "@vault-plugin-ai/sdk";
import { OpenAIAdminClient } from "./providers/openai/client.ts";
import type { RequestRecord } from "./providers/http.ts";
import { readConfig, type ConfigEntry } from "./storage.ts";
import { Metrics } from "./metrics.ts";

export interface EngineState {
  clients: Map<string, { config: ConfigEntry; client: OpenAIAdminClient }>;
  metrics: Metrics;
  /** Test seam: provider HTTP options (e.g. a faster retry policy). */
  httpOverrides: { retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxTotalMs?: number }; timeoutMs?: number };
}

export type EngineBackend = Backend<EngineState>;

export function newEngineState(): EngineState {
  return { clients: new Map(), metrics: new Metrics(), httpOverrides: {} };
}

export function openAIClientFor(state: EngineState, config: ConfigEntry, logger?: Logger): OpenAIAdminClient {
  return new OpenAIAdminClient(
    { apiEndpoint: config.api_endpoint, adminApiKey: config.admin_api_key, organizationId: config.organization_id },
    {
      maxConcurrency: config.max_concurrency,
      ...state.httpOverrides,
      onRequest: (r: RequestRecord) => {
        state.metrics.observeProviderRequest(r);
        logger?.trace("provider request", { provider: r.provider, operation: r.operation, status: r.status, duration_ms: r.durationMs, attempt: r.attempt });
      },
    },
  );
}

/** The configured connection and its client, or a 400 telling the operator to configure the mount. */
export async function connection(backend: EngineBackend, storage: Storage): Promise<{ config: ConfigEntry; client: OpenAIAdminClient }> {
  const cached = backend.state.clients.get("default");
  if (cached) return cached;
  const config = await readConfig(storage);
  if (!config) throw invalidRequest('the mount is not configured: write its provider connection to "config" first');
  const entry = { config, client: openAIClientFor(backend.state, config, backend.logger) };
  backend.state.clients.set("default", entry);
  return entry;
}

export function forgetConnections(state: EngineState): void {
  state.clients.clear();
}
