// A provider connection: the default one lives at "config" (the seed
// plugins' path), named ones at "connections/<name>". The provider is named
// by "provider", or inferred from the seed plugins' own field names, so both
// seeds' commands work unchanged. A write is checked with one cheap call to
// the provider before anything is stored; a read never returns a credential.
import { X509Certificate } from "node:crypto";
import { codedError, invalidRequest, type FieldSchemas, type HandlerContext, type Response } from "@vault-plugin-ai/sdk";
import { certificateRefused, ProviderError } from "./providers/http.ts";
import { DEFAULT_OPENAI_ENDPOINT } from "./providers/openai/client.ts";
import { parseCron } from "./cron.ts";
import { clientFor, type EngineBackend, forgetConnections } from "./state.ts";
import { MAX_ENTRY_BYTES, oversized, PROVIDERS, readConnection, writeConnection, type ConfigEntry, type Provider } from "./storage.ts";

export const DEFAULT_MAX_CONCURRENCY = 8;
export const DEFAULT_OPENROUTER_ENDPOINT = "https://openrouter.ai/api/v1";

export const connectionFields: FieldSchemas = {
  provider: { type: "lowercase-string", allowedValues: PROVIDERS, description: "openai, litellm or openrouter. Inferred from the other fields when omitted." },
  admin_api_key: { type: "string", sensitive: true, description: "OpenAI: Admin API key (sk-admin-...). Never returned.", displayName: "Admin API key" },
  admin_api_key_id: { type: "string", description: "OpenAI: the id of that admin key (key_...), used to delete it when it is rotated." },
  organization_id: { type: "string", description: "OpenAI: the organization id (org-...)." },
  api_endpoint: { type: "string", description: `OpenAI: base URL of the API (default ${DEFAULT_OPENAI_ENDPOINT}).` },
  rotation_period: { type: "duration", description: "OpenAI: rotate the admin key this often (e.g. 720h). Exclusive with rotation_schedule." },
  rotation_schedule: { type: "string", description: "OpenAI: rotate the admin key on this cron schedule (5 fields, UTC). Exclusive with rotation_period." },
  rotation_window: { type: "duration", description: "OpenAI: how late a scheduled rotation may still run; needs rotation_schedule." },
  disable_automated_rotation: { type: "bool", description: "OpenAI: stop scheduled rotation without clearing its settings." },
  delete_orphaned_accounts: { type: "bool", description: "OpenAI: let the sweeper delete service accounts with a role's name prefix that no lease holds." },
  base_url: { type: "string", description: "LiteLLM: the proxy's base URL. OpenRouter: the API base URL (default https://openrouter.ai/api/v1)." },
  url: { type: "string", description: "LiteLLM: alias of base_url (benemon/vault-plugin-secrets-litellm's name)." },
  master_key: { type: "string", sensitive: true, description: "LiteLLM: the proxy's master key. Never returned." },
  admin_key: { type: "string", sensitive: true, description: "LiteLLM: alias of master_key (benemon/vault-plugin-secrets-litellm's name)." },
  ca_cert: { type: "string", description: "LiteLLM: PEM CA bundle that verifies the proxy's certificate instead of the system's; empty for the system's." },
  insecure_tls: { type: "bool", description: "LiteLLM: do not verify the proxy's certificate (default false)." },
  provisioning_key: { type: "string", sensitive: true, description: "OpenRouter: a provisioning (management) key. Never returned." },
  max_concurrency: { type: "int", description: `Provider requests in flight at once for this connection (default ${DEFAULT_MAX_CONCURRENCY}).` },
};

const PROVIDER_FIELDS: Record<Provider, readonly string[]> = {
  openai: ["admin_api_key", "admin_api_key_id", "organization_id", "api_endpoint", "rotation_period", "rotation_schedule", "rotation_window", "disable_automated_rotation", "delete_orphaned_accounts"],
  litellm: ["base_url", "url", "master_key", "admin_key", "ca_cert", "insecure_tls"],
  openrouter: ["base_url", "provisioning_key"],
};
const COMMON_FIELDS = ["provider", "max_concurrency"];

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
  // Stored as parsed (scheme and host lowercased, no surrounding spaces), so
  // every later reader sees the URL the check call went to.
  return url.href.replace(/\/+$/, "");
}

export function describeProviderFailure(err: unknown, what: string): Error {
  if (err instanceof ProviderError) {
    const field = err.provider === "OpenAI" ? ["admin API key", "admin_api_key"] : err.provider === "LiteLLM" ? ["master key", "master_key"] : ["provisioning key", "provisioning_key"];
    if (err.status === 401) return invalidRequest(`${what}: ${err.provider} rejected the ${field[0]} (HTTP 401): check ${field[1]}`);
    if (err.status === 403) return invalidRequest(`${what}: ${err.provider} refused access (HTTP 403): the credential lacks permission`);
    return invalidRequest(`${what}: ${err.message}`);
  }
  return err as Error;
}

/**
 * A provider failure while renewing or revoking a lease, as the client and
 * the server's log see it: the provider's message (already free of secrets)
 * with a 502. Never a 400: the server gives up on a lease for good when its
 * revocation fails with an invalid-request error, and a provider outage must
 * be retried. Anything else passes through unchanged.
 */
export function leaseCallFailed(err: unknown, what: string): unknown {
  return err instanceof ProviderError ? codedError(502, `${what}: ${err.message}`) : err;
}

function inferProvider(supplied: string[]): Provider | undefined {
  const candidates = PROVIDERS.filter((p) => supplied.some((f) => PROVIDER_FIELDS[p].includes(f) && !(f === "base_url" && p === "openrouter")));
  if (candidates.length > 1) throw invalidRequest(`the fields given belong to different providers (${candidates.join(", ")}); set "provider"`);
  return candidates[0];
}

export function connectionResponse(config: ConfigEntry): Response {
  switch (config.provider) {
    case "openai": {
      const data: Record<string, unknown> = {
        provider: config.provider,
        api_endpoint: config.api_endpoint,
        organization_id: config.organization_id,
        admin_api_key_id: config.admin_api_key_id,
        rotation_period: config.rotation_period,
        rotation_schedule: config.rotation_schedule,
        rotation_window: config.rotation_window,
        disable_automated_rotation: config.disable_automated_rotation,
        delete_orphaned_accounts: config.delete_orphaned_accounts ?? false,
        max_concurrency: config.max_concurrency,
      };
      if (config.last_rotated_time) data["last_rotated"] = config.last_rotated_time;
      if (config.pending_admin_key_deletions.length > 0) data["pending_admin_key_deletions"] = [...config.pending_admin_key_deletions];
      return { data };
    }
    case "litellm":
      // url, ca_cert and insecure_tls too: benemon/vault-plugin-secrets-litellm's read returns them.
      return {
        data: {
          provider: config.provider,
          base_url: config.base_url,
          url: config.base_url,
          ca_cert: config.ca_cert ?? "",
          insecure_tls: config.insecure_tls ?? false,
          max_concurrency: config.max_concurrency,
        },
      };
    case "openrouter":
      return { data: { provider: config.provider, base_url: config.base_url, max_concurrency: config.max_concurrency } };
  }
}

/** What identifies the account a connection acts as: a change is checked with the provider. */
function endpointOf(config: ConfigEntry): string {
  return config.provider === "openai" ? config.api_endpoint : config.base_url;
}

/** Whom the connection trusts to be its endpoint. */
function trustOf(config: ConfigEntry): string {
  return config.provider === "litellm" ? JSON.stringify([config.ca_cert ?? "", config.insecure_tls ?? false]) : "";
}

/**
 * A CA bundle holds PEM certificates and nothing else: any other block (a
 * private key pasted along) is refused, since the field is returned on read.
 * What is stored is the certificates alone.
 */
function validateCaBundle(field: string, pem: string): string {
  if (pem.trim() === "") return "";
  const other = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]).find((label) => label !== "CERTIFICATE");
  if (other !== undefined) throw invalidRequest(`"${field}" must hold only certificates, not a ${other} block`);
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalidRequest(`"${field}" must hold PEM certificates (-----BEGIN CERTIFICATE-----)`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw invalidRequest(`"${field}": certificate ${i + 1} of ${blocks.length} cannot be read: ${(err as Error).message}`);
    }
  });
  return `${blocks.join("\n")}\n`;
}

function credentialOf(config: ConfigEntry): string {
  switch (config.provider) {
    case "openai":
      return JSON.stringify([config.api_endpoint, config.organization_id, config.admin_api_key]);
    case "litellm":
      return JSON.stringify([config.base_url, config.master_key, config.ca_cert ?? "", config.insecure_tls ?? false]);
    case "openrouter":
      return JSON.stringify([config.base_url, config.provisioning_key]);
  }
}

async function verify(backend: EngineBackend, config: ConfigEntry): Promise<void> {
  const c = clientFor(backend.state, config, backend.logger);
  try {
    if (c.config.provider === "openai") await (c.client as import("./providers/openai/client.ts").OpenAIAdminClient).verifyAdminKey();
    else if (c.config.provider === "litellm") await (c.client as import("./providers/litellm/client.ts").LiteLLMClient).verifyMasterKey();
    else await (c.client as import("./providers/openrouter/client.ts").OpenRouterClient).verifyProvisioningKey();
  } catch (err) {
    const described = describeProviderFailure(err, "the connection was not saved");
    // Anything but a refused credential (unreachable, no such route, an
    // answer that is not the provider's) most likely means a wrong URL.
    if (err instanceof ProviderError && err.status !== 401 && err.status !== 403) {
      const field = config.provider === "openai" ? "api_endpoint" : "base_url";
      const untrusted = config.provider === "litellm" && certificateRefused(err);
      throw invalidRequest(`${described.message}: check ${untrusted ? "ca_cert (the proxy's certificate is not trusted) or base_url" : field}`);
    }
    throw described;
  }
}

export function writeConnectionHandler(name: string, ctx: HandlerContext<EngineBackend>): Promise<Response | undefined> {
  return ctx.backend.state.connectionLock.run(() => writeConnectionLocked(name, ctx));
}

async function writeConnectionLocked(name: string, { request, fields, backend }: HandlerContext<EngineBackend>): Promise<Response | undefined> {
  const existing = await readConnection(request.storage, name);
  const supplied = Object.keys(connectionFields).filter((f) => fields.has(f));
  const provider = (fields.getOk<string>("provider") as Provider | undefined) ?? existing?.provider ?? inferProvider(supplied);
  if (!provider) throw invalidRequest('cannot tell the provider: set "provider" (openai, litellm or openrouter) or its credential fields');
  if (existing && existing.provider !== provider) {
    throw invalidRequest(`this connection's provider is ${existing.provider}; delete it before configuring it for ${provider}`);
  }
  const foreign = supplied.filter((f) => !COMMON_FIELDS.includes(f) && !PROVIDER_FIELDS[provider].includes(f));
  if (foreign.length > 0) throw invalidRequest(`field(s) ${foreign.map((f) => `"${f}"`).join(", ")} do not apply to a ${provider} connection`);

  const pick = <T>(field: string, current: T | undefined, fallback: T): T => (fields.has(field) ? (fields.get(field) as T) : (current ?? fallback));
  const maxConcurrency = pick("max_concurrency", existing?.max_concurrency, DEFAULT_MAX_CONCURRENCY);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 256) throw invalidRequest('"max_concurrency" must be between 1 and 256');

  let config: ConfigEntry;
  if (provider === "openai") {
    const prev = existing?.provider === "openai" ? existing : undefined;
    config = {
      provider,
      admin_api_key: pick("admin_api_key", prev?.admin_api_key, ""),
      admin_api_key_id: pick("admin_api_key_id", prev?.admin_api_key_id, ""),
      organization_id: pick("organization_id", prev?.organization_id, ""),
      api_endpoint: validateEndpoint("api_endpoint", pick("api_endpoint", prev?.api_endpoint, DEFAULT_OPENAI_ENDPOINT)),
      rotation_period: pick("rotation_period", prev?.rotation_period, 0),
      rotation_schedule: pick("rotation_schedule", prev?.rotation_schedule, ""),
      rotation_window: pick("rotation_window", prev?.rotation_window, 0),
      disable_automated_rotation: pick("disable_automated_rotation", prev?.disable_automated_rotation, false),
      delete_orphaned_accounts: pick("delete_orphaned_accounts", prev?.delete_orphaned_accounts, false),
      last_rotated_time: prev?.last_rotated_time ?? "",
      // A key written by hand is the operator's: its expiry, if any, is unknown to us.
      admin_api_key_expires_at: fields.has("admin_api_key") ? 0 : (prev?.admin_api_key_expires_at ?? 0),
      pending_admin_key_deletions: prev?.pending_admin_key_deletions ?? [],
      max_concurrency: maxConcurrency,
    };
    for (const f of ["admin_api_key", "admin_api_key_id", "organization_id"] as const) if (!config[f]) throw invalidRequest(`missing required field "${f}"`);
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
  } else if (provider === "litellm") {
    const prev = existing?.provider === "litellm" ? existing : undefined;
    if (fields.has("base_url") && fields.has("url")) throw invalidRequest('"url" is an alias of "base_url": set one');
    if (fields.has("master_key") && fields.has("admin_key")) throw invalidRequest('"admin_key" is an alias of "master_key": set one');
    const baseUrl = fields.has("url") ? fields.string("url") : pick("base_url", prev?.base_url, "");
    const masterKey = fields.has("admin_key") ? fields.string("admin_key") : pick("master_key", prev?.master_key, "");
    if (!baseUrl) throw invalidRequest('missing required field "base_url"');
    if (!masterKey) throw invalidRequest('missing required field "master_key"');
    const endpoint = validateEndpoint("base_url", baseUrl);
    const caCert = validateCaBundle("ca_cert", pick("ca_cert", prev?.ca_cert, ""));
    const insecureTls = pick("insecure_tls", prev?.insecure_tls, false);
    if (caCert && insecureTls) throw invalidRequest('"ca_cert" and "insecure_tls" contradict each other: set one');
    if ((caCert || insecureTls) && !endpoint.startsWith("https:")) throw invalidRequest('"ca_cert" and "insecure_tls" apply to an https base_url only');
    config = {
      provider,
      base_url: endpoint,
      master_key: masterKey,
      max_concurrency: maxConcurrency,
      ...(caCert ? { ca_cert: caCert } : {}),
      ...(insecureTls ? { insecure_tls: true } : {}),
    };
  } else {
    const prev = existing?.provider === "openrouter" ? existing : undefined;
    const key = pick("provisioning_key", prev?.provisioning_key, "");
    if (!key) throw invalidRequest('missing required field "provisioning_key"');
    config = { provider, base_url: validateEndpoint("base_url", pick("base_url", prev?.base_url, DEFAULT_OPENROUTER_ENDPOINT)), provisioning_key: key, max_concurrency: maxConcurrency };
  }

  // The stored credential is never sent to an endpoint it was not written
  // for: otherwise anyone allowed to write the connection could point it at
  // a listener of their own and read the admin key off the check call.
  const [endpointField, credentialField, credentialAlias] = config.provider === "openai" ? ["api_endpoint", "admin_api_key", ""] : config.provider === "litellm" ? ["base_url", "master_key", "admin_key"] : ["base_url", "provisioning_key", ""];
  const credentialWritten = fields.has(credentialField) || (credentialAlias !== "" && fields.has(credentialAlias));
  if (existing && endpointOf(existing) !== endpointOf(config) && !credentialWritten) {
    throw invalidRequest(`changing "${endpointField}" needs "${credentialField}" in the same write: the stored credential is never sent to a new endpoint`);
  }
  // Trusting another CA, or none, would let a listener of one's own pass for the endpoint.
  if (existing && trustOf(existing) !== trustOf(config) && !credentialWritten) {
    throw invalidRequest(`changing "ca_cert" or "insecure_tls" needs "${credentialField}" in the same write: the stored credential is never sent to a server trusted differently`);
  }
  for (const f of ["admin_api_key", "admin_api_key_id", "organization_id", "master_key", "provisioning_key"]) {
    const v = (config as unknown as Record<string, unknown>)[f];
    // These travel in HTTP headers; anything else would fail there, with the value in the error.
    if (typeof v === "string" && !/^[\x21-\x7e]+$/.test(v)) throw invalidRequest(`"${f}" must be printable ASCII without spaces or line breaks`);
  }
  const big = oversized(config);
  if (big) throw invalidRequest(`the connection would take ${big.bytes} bytes, more than ${MAX_ENTRY_BYTES}: "${big.field}" is too large`);
  if (!existing || credentialOf(existing) !== credentialOf(config)) await verify(backend, config);
  const warnings: string[] = [];
  if (config.provider === "openai" && !config.admin_api_key.startsWith("sk-admin")) warnings.push('admin_api_key does not start with "sk-admin": OpenAI admin keys normally do');
  if (config.provider === "litellm" && config.insecure_tls) warnings.push("insecure_tls is set: the LiteLLM proxy's certificate is not verified, so anyone on the path can read the master key");
  await writeConnection(request.storage, name, config);
  forgetConnections(backend.state, name);
  return warnings.length ? { warnings } : undefined;
}
