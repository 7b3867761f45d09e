// config: the mount's connection to its provider. A write is checked against
// the provider with one cheap call before anything is stored, and a read
// never returns the credential.
import { invalidRequest, type HandlerContext, type PathDefinition } from "@vault-plugin-ai/sdk";
import { ProviderError } from "./providers/http.ts";
import { DEFAULT_OPENAI_ENDPOINT } from "./providers/openai/client.ts";
import { type EngineBackend, forgetConnections, openAIClientFor } from "./state.ts";
import { CONFIG_KEY, readConfig, writeConfig, type ConfigEntry } from "./storage.ts";
import { parseCron } from "./cron.ts";

export const DEFAULT_MAX_CONCURRENCY = 8;

/** Checks a provider base URL: absolute http(s), a host, and nothing that could smuggle credentials or change the target. */
export function validateEndpoint(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRequest(`${field} must be an absolute http or https URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalidRequest(`${field} must use http or https, not ${url.protocol.replace(":", "")}`);
  if (!url.hostname) throw invalidRequest(`${field} must name a host`);
  if (url.username || url.password) throw invalidRequest(`${field} must not carry credentials; set them in their own fields`);
  if (url.search || url.hash) throw invalidRequest(`${field} must not have a query or fragment`);
  return value.replace(/\/+$/, "");
}

export function describeProviderFailure(err: unknown, what: string): Error {
  if (err instanceof ProviderError) {
    if (err.status === 401) return invalidRequest(`${what}: ${err.provider} rejected the admin API key (HTTP 401): check admin_api_key`);
    if (err.status === 403) return invalidRequest(`${what}: ${err.provider} refused access (HTTP 403): the admin API key lacks permission for organization_id`);
    return invalidRequest(`${what}: ${err.message}`);
  }
  return err as Error;
}

export const pathConfig: PathDefinition<EngineBackend> = {
  pattern: "config",
  fields: {
    provider: { type: "string", allowedValues: ["openai"], description: "The provider this mount mints keys for. Inferred from the other fields when omitted." },
    admin_api_key: { type: "string", sensitive: true, description: "OpenAI Admin API key (sk-admin-...). Never returned.", displayName: "Admin API key" },
    admin_api_key_id: { type: "string", description: "The id of that admin key (key_...), used to delete it when it is rotated." },
    organization_id: { type: "string", description: "The OpenAI organization id (org-...)." },
    api_endpoint: { type: "string", default: DEFAULT_OPENAI_ENDPOINT, description: "Base URL of the OpenAI API." },
    rotation_period: { type: "duration", description: "Rotate the admin key this often (e.g. 720h). Exclusive with rotation_schedule." },
    rotation_schedule: { type: "string", description: "Rotate the admin key on this cron schedule (5 fields, UTC). Exclusive with rotation_period." },
    rotation_window: { type: "duration", description: "How late a scheduled rotation may still run; needs rotation_schedule." },
    disable_automated_rotation: { type: "bool", default: false, description: "Stop scheduled rotation without clearing its settings." },
    max_concurrency: { type: "int", default: DEFAULT_MAX_CONCURRENCY, description: "Provider requests in flight at once for this mount's connection." },
    delete_orphaned_accounts: { type: "bool", default: false, description: "Let the sweeper delete service accounts with a role's name prefix that no lease holds." },
  },
  existenceCheck: async ({ request }) => (await request.storage.get(CONFIG_KEY)) !== undefined,
  operations: {
    read: {
      summary: "Read the provider connection (without its credential).",
      handler: async ({ request }) => {
        const config = await readConfig(request.storage);
        if (!config) return undefined;
        const data: Record<string, unknown> = {
          provider: config.provider,
          api_endpoint: config.api_endpoint,
          organization_id: config.organization_id,
          admin_api_key_id: config.admin_api_key_id,
          rotation_period: config.rotation_period,
          rotation_schedule: config.rotation_schedule,
          rotation_window: config.rotation_window,
          disable_automated_rotation: config.disable_automated_rotation,
          max_concurrency: config.max_concurrency,
          delete_orphaned_accounts: config.delete_orphaned_accounts ?? false,
        };
        if (config.last_rotated_time) data["last_rotated"] = config.last_rotated_time;
        if (config.pending_admin_key_deletions.length > 0) data["pending_admin_key_deletions"] = [...config.pending_admin_key_deletions];
        return { data };
      },
    },
    create: { summary: "Configure the provider connection.", handler: (ctx) => writeConfigHandler(ctx) },
    update: { summary: "Configure the provider connection.", handler: (ctx) => writeConfigHandler(ctx) },
    delete: {
      summary: "Remove the provider connection.",
      handler: async ({ request, backend }) => {
        await request.storage.delete(CONFIG_KEY);
        forgetConnections(backend.state);
        return undefined;
      },
    },
  },
  helpSynopsis: "Configure the connection to the AI provider.",
  helpDescription:
    "The admin credential this mount uses to create and delete keys. Writing it checks the credential with one cheap call to the provider; nothing is stored if that fails. A read never returns the credential.",
};

async function writeConfigHandler({ request, fields, backend }: HandlerContext<EngineBackend>) {
  const existing = await readConfig(request.storage);
  const pick = <T>(name: string, current: T | undefined, fallback: T): T => (fields.has(name) ? (fields.get(name) as T) : (current ?? fallback));
  const config: ConfigEntry = {
    provider: "openai",
    admin_api_key: pick("admin_api_key", existing?.admin_api_key, ""),
    admin_api_key_id: pick("admin_api_key_id", existing?.admin_api_key_id, ""),
    organization_id: pick("organization_id", existing?.organization_id, ""),
    api_endpoint: validateEndpoint("api_endpoint", pick("api_endpoint", existing?.api_endpoint, DEFAULT_OPENAI_ENDPOINT)),
    rotation_period: pick("rotation_period", existing?.rotation_period, 0),
    rotation_schedule: pick("rotation_schedule", existing?.rotation_schedule, ""),
    rotation_window: pick("rotation_window", existing?.rotation_window, 0),
    disable_automated_rotation: pick("disable_automated_rotation", existing?.disable_automated_rotation, false),
    last_rotated_time: existing?.last_rotated_time ?? "",
    pending_admin_key_deletions: existing?.pending_admin_key_deletions ?? [],
    max_concurrency: pick("max_concurrency", existing?.max_concurrency, DEFAULT_MAX_CONCURRENCY),
    delete_orphaned_accounts: pick("delete_orphaned_accounts", existing?.delete_orphaned_accounts, false),
  };
  for (const name of ["admin_api_key", "admin_api_key_id", "organization_id"] as const) {
    if (!config[name]) throw invalidRequest(`missing required field "${name}"`);
  }
  if (config.rotation_period < 0) throw invalidRequest('"rotation_period" must not be negative');
  if (config.rotation_window < 0) throw invalidRequest('"rotation_window" must not be negative');
  if (config.rotation_period > 0 && config.rotation_schedule) throw invalidRequest('"rotation_period" and "rotation_schedule" are mutually exclusive: set one');
  if (config.rotation_window > 0 && !config.rotation_schedule) throw invalidRequest('"rotation_window" needs "rotation_schedule"');
  if (config.rotation_schedule) {
    try {
      parseCron(config.rotation_schedule);
    } catch (err) {
      throw invalidRequest(`"rotation_schedule" is not a valid cron expression: ${(err as Error).message}`);
    }
  }
  if (!Number.isInteger(config.max_concurrency) || config.max_concurrency < 1 || config.max_concurrency > 256) {
    throw invalidRequest('"max_concurrency" must be between 1 and 256');
  }
  const credentialsChanged =
    !existing || existing.admin_api_key !== config.admin_api_key || existing.api_endpoint !== config.api_endpoint || existing.organization_id !== config.organization_id;
  if (credentialsChanged) {
    try {
      await openAIClientFor(backend.state, config, backend.logger).verifyAdminKey();
    } catch (err) {
      throw describeProviderFailure(err, "the credentials were not saved");
    }
  }
  const warnings: string[] = [];
  if (!config.admin_api_key.startsWith("sk-admin")) warnings.push('admin_api_key does not start with "sk-admin": OpenAI admin keys normally do');
  await writeConfig(request.storage, config);
  forgetConnections(backend.state);
  return warnings.length ? { warnings } : undefined;
}
