// roles/<name> and roles/: what a key issued from a role may do and how long
// it lives. A role's fields are those of its connection's provider; a field
// of another provider is a 400, not silently ignored. OpenAI roles check
// their project with the provider on write and cache its name, so issuing a
// key takes a single provider call.
import { FieldData, invalidRequest, validateIdentityTemplate, type FieldSchemas, type JsonObject, type HandlerContext, type PathDefinition, type Response } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./connection-config.ts";
import { redactSecrets } from "./providers/http.ts";
import { checkServiceAccountTemplate, DEFAULT_NAME_TEMPLATE } from "./service-account-name.ts";
import { connection, forgetRole, type EngineBackend } from "./state.ts";
import { DEFAULT_CONNECTION, MAX_ENTRY_BYTES, oversized, readRole, ROLE_PREFIX, writeRole, type LiteLLMRoleEntry, type OpenAIRoleEntry, type OpenRouterRoleEntry, type Provider, type RoleEntry } from "./storage.ts";

export const DEFAULT_DESCRIPTION = "Service account created by Vault";
export const DEFAULT_TTL = 3600;
export const DEFAULT_MAX_TTL = 86400;
export const DEFAULT_KEY_ALIAS_PREFIX = "vault";

const roleFields: FieldSchemas = {
  name: { type: "name-string", description: "Name of the role." },
  connection: { type: "name-string", description: 'The connection keys are issued through (default: the mount\'s "config").' },
  ttl: { type: "duration", description: "Default lease TTL of issued keys (default 1h)." },
  max_ttl: { type: "duration", description: "Longest an issued key may live, renewals included (default 24h)." },
  project_id: { type: "string", description: "OpenAI (required): the project service accounts are created in (proj_...)." },
  service_account_name_template: {
    type: "string",
    description: `OpenAI: template for service account names, in Vault's username template syntax (default ${DEFAULT_NAME_TEMPLATE}). Variables: .RoleName, .RandomSuffix, .ProjectName, .DisplayName.`,
  },
  service_account_description: { type: "string", description: "OpenAI: description stored with the role." },
  models: { type: "comma-string-slice", description: "LiteLLM: models the key may call; empty for all." },
  max_budget: { type: "float", description: "LiteLLM: the key's budget in USD; 0 for unlimited." },
  key_alias_prefix: { type: "string", description: `LiteLLM: prefix of the key alias (default ${DEFAULT_KEY_ALIAS_PREFIX}).` },
  metadata: { type: "kv-pairs", description: "LiteLLM: metadata attached to the key (key=value pairs)." },
  budget_duration: { type: "string", description: 'LiteLLM: how often the budget resets, e.g. "30d".' },
  tpm_limit: { type: "int", description: "LiteLLM: tokens per minute; 0 for none." },
  rpm_limit: { type: "int", description: "LiteLLM: requests per minute; 0 for none." },
  max_parallel_requests: { type: "int", description: "LiteLLM: requests in flight at once; 0 for none." },
  team_id: { type: "string", description: "LiteLLM: team the key belongs to." },
  user_id: { type: "string", description: "LiteLLM: user the key belongs to." },
  user_id_template: {
    type: "string",
    description: "LiteLLM: the key's user_id from the caller's identity, e.g. {{identity.entity.aliases.<accessor>.name}}; unused when user_id is set.",
  },
  team_id_template: {
    type: "string",
    description: "LiteLLM: the key's team_id from the caller's identity, e.g. {{identity.groups.names.<group>.metadata.<key>}}; unused when team_id is set.",
  },
  tags: { type: "comma-string-slice", description: "LiteLLM: tags for spend tracking." },
  key_request: {
    type: "string",
    description: "LiteLLM: the fields above as the text of one JSON object, as benemon/vault-plugin-secrets-litellm takes it (key_request=@role.json).",
  },
  limit: { type: "float", description: "OpenRouter: credit limit per key in USD; 0 for none." },
};

const PROVIDER_ROLE_FIELDS: Record<Provider, readonly string[]> = {
  openai: ["project_id", "service_account_name_template", "service_account_description"],
  litellm: ["models", "max_budget", "key_alias_prefix", "metadata", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests", "team_id", "user_id", "tags", "key_request", "user_id_template", "team_id_template"],
  openrouter: ["limit"],
};
const COMMON_ROLE_FIELDS = ["name", "connection", "ttl", "max_ttl"];
const KEY_REQUEST_FIELDS = ["models", "max_budget", "metadata", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests", "team_id", "user_id", "tags"];

export function roleResponse(role: RoleEntry): Response {
  // The default connection is left out, so a role reads back exactly as in the seed plugins.
  const common = { ttl: role.ttl, max_ttl: role.max_ttl, ...(role.connection === DEFAULT_CONNECTION ? {} : { connection: role.connection }) };
  switch (role.provider) {
    case "openai":
      return {
        data: {
          project_id: role.project_id,
          service_account_name_template: role.service_account_name_template,
          service_account_description: role.service_account_description,
          ...common,
        },
      };
    case "litellm":
      return {
        data: {
          models: role.models,
          max_budget: role.max_budget,
          key_alias_prefix: role.key_alias_prefix,
          metadata: role.metadata,
          budget_duration: role.budget_duration,
          tpm_limit: role.tpm_limit,
          rpm_limit: role.rpm_limit,
          max_parallel_requests: role.max_parallel_requests,
          team_id: role.team_id,
          user_id: role.user_id,
          user_id_template: role.user_id_template ?? "",
          team_id_template: role.team_id_template ?? "",
          tags: role.tags,
          ...common,
        },
      };
    case "openrouter":
      return { data: { limit: role.limit, ...common } };
  }
}

type Pick = <T>(field: string, current: T | undefined, fallback: T) => T;

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw invalidRequest(`"${name}" must be a number of at least 0`);
  // Storage is JSON, read back with integers past 2^53 as bigint: such a
  // value would come back as another type. None is a real budget or limit.
  if (value > Number.MAX_SAFE_INTEGER) throw invalidRequest(`"${name}" must be at most ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

/** Folds benemon's key_request (JSON text, as that plugin takes it) into the individual fields, refusing what it cannot map. */
function keyRequestValues(fields: FieldData): Record<string, unknown> {
  if (!fields.has("key_request")) return {};
  let request: unknown;
  try {
    request = JSON.parse(fields.string("key_request"));
  } catch (err) {
    throw invalidRequest(`"key_request" must be a JSON object: ${(err as Error).message}`);
  }
  if (request === null || typeof request !== "object" || Array.isArray(request)) throw invalidRequest('"key_request" must be a JSON object');
  // The seed's own refusal: these the engine fills in for every key.
  for (const reserved of ["key", "key_alias", "duration"]) {
    if (Object.hasOwn(request, reserved)) throw invalidRequest(`"key_request.${reserved}" is set by Vault and may not be given`);
  }
  const unknown = Object.keys(request).filter((k) => !KEY_REQUEST_FIELDS.includes(k));
  if (unknown.length > 0) throw invalidRequest(`key_request: field(s) ${unknown.map((k) => `"${k}"`).join(", ")} are not supported (supported: ${KEY_REQUEST_FIELDS.join(", ")})`);
  for (const k of Object.keys(request)) if (fields.has(k)) throw invalidRequest(`"${k}" is given both on its own and in key_request`);
  // Each value is coerced as its own field would be, so key_request cannot
  // store what the field refuses (a fraction of a limit, a map for a list).
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request)) {
    const name = `key_request.${k}`;
    out[k] = new FieldData({ [name]: v as JsonObject[string] }, { [name]: roleFields[k]! }).get(name);
  }
  return out;
}

async function buildOpenAIRole(ctx: HandlerContext<EngineBackend>, prev: OpenAIRoleEntry | undefined, pick: Pick, common: { connection: string; ttl: number; max_ttl: number }): Promise<OpenAIRoleEntry> {
  const { fields, request, backend } = ctx;
  const role: OpenAIRoleEntry = {
    provider: "openai",
    ...common,
    project_id: pick("project_id", prev?.project_id, ""),
    project_name: prev?.project_name ?? "",
    service_account_name_template: pick("service_account_name_template", prev?.service_account_name_template, DEFAULT_NAME_TEMPLATE),
    service_account_description: pick("service_account_description", prev?.service_account_description, DEFAULT_DESCRIPTION),
  };
  if (!role.project_id) throw invalidRequest('missing required field "project_id"');
  const roleName = fields.string("name");
  checkServiceAccountTemplate(role.service_account_name_template, { roleName, ...(role.project_name ? { projectName: role.project_name } : {}) });
  if (!prev || prev.project_id !== role.project_id || fields.has("project_id") || prev.connection !== role.connection) {
    const c = await connection(backend, request.storage, role.connection);
    if (c.config.provider !== "openai") throw new Error("unreachable: provider checked by the caller");
    let project;
    try {
      project = await (c.client as import("./providers/openai/client.ts").OpenAIAdminClient).getProject(role.project_id);
    } catch (err) {
      throw describeProviderFailure(err, "the project could not be checked");
    }
    // The value is echoed for the operator, unless it looks like a key pasted into the wrong field.
    if (!project) throw invalidRequest(`project_id "${redactSecrets(role.project_id)}" does not exist in the configured organization`);
    if (project.status !== "active") throw invalidRequest(`project_id "${role.project_id}" is ${project.status}, not active`);
    role.project_name = project.name;
    checkServiceAccountTemplate(role.service_account_name_template, { roleName, projectName: role.project_name });
  }
  return role;
}

function buildLiteLLMRole(fields: FieldData, prev: LiteLLMRoleEntry | undefined, pick: Pick, common: { connection: string; ttl: number; max_ttl: number }): LiteLLMRoleEntry {
  const kr = keyRequestValues(fields);
  const from = <T>(field: string, current: T | undefined, fallback: T): T => (Object.hasOwn(kr, field) ? (kr[field] as T) : pick(field, current, fallback));
  const role: LiteLLMRoleEntry = {
    provider: "litellm",
    ...common,
    models: from("models", prev?.models, []),
    max_budget: nonNegative("max_budget", from("max_budget", prev?.max_budget, 0)),
    key_alias_prefix: pick("key_alias_prefix", prev?.key_alias_prefix, DEFAULT_KEY_ALIAS_PREFIX),
    metadata: from("metadata", prev?.metadata, {}),
    budget_duration: from("budget_duration", prev?.budget_duration, ""),
    tpm_limit: nonNegative("tpm_limit", from("tpm_limit", prev?.tpm_limit, 0)),
    rpm_limit: nonNegative("rpm_limit", from("rpm_limit", prev?.rpm_limit, 0)),
    max_parallel_requests: nonNegative("max_parallel_requests", from("max_parallel_requests", prev?.max_parallel_requests, 0)),
    team_id: from("team_id", prev?.team_id, ""),
    user_id: from("user_id", prev?.user_id, ""),
    tags: from("tags", prev?.tags, []),
    user_id_template: identityTemplate("user_id_template", pick("user_id_template", prev?.user_id_template, "")),
    team_id_template: identityTemplate("team_id_template", pick("team_id_template", prev?.team_id_template, "")),
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(role.key_alias_prefix)) throw invalidRequest('"key_alias_prefix" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  if (role.budget_duration && !/^\d+(s|m|h|d|mo)$/.test(role.budget_duration)) throw invalidRequest('"budget_duration" must be a number with s, m, h, d or mo, e.g. "30d"');
  if (role.models.some((m) => !m)) throw invalidRequest('"models" must not contain empty names');
  return role;
}

/** An identity template is checked when the role is written, not first when a key is asked for. */
function identityTemplate(field: string, template: string): string {
  try {
    validateIdentityTemplate(template);
  } catch (err) {
    throw invalidRequest(`"${field}": ${(err as Error).message}`);
  }
  return template;
}

function buildOpenRouterRole(prev: OpenRouterRoleEntry | undefined, pick: Pick, common: { connection: string; ttl: number; max_ttl: number }): OpenRouterRoleEntry {
  return { provider: "openrouter", ...common, limit: nonNegative("limit", pick("limit", prev?.limit, 0)), key_name_prefix: prev?.key_name_prefix ?? "vault" };
}

async function writeRoleHandler(ctx: HandlerContext<EngineBackend>) {
  const { request, fields, backend } = ctx;
  const name = fields.string("name");
  const existing = await readRole(request.storage, name);
  const pick: Pick = (field, current, fallback) => (fields.has(field) ? (fields.get(field) as typeof fallback) : (current ?? fallback));
  const connectionName = pick("connection", existing?.connection, DEFAULT_CONNECTION);
  const { config } = await connection(backend, request.storage, connectionName);
  const provider = config.provider;
  if (existing && existing.provider !== provider) throw invalidRequest(`role "${name}" is a ${existing.provider} role; delete it before moving it to a ${provider} connection`);
  const supplied = Object.keys(request.data).filter((f) => Object.hasOwn(roleFields, f) && fields.has(f));
  const foreign = supplied.filter((f) => !COMMON_ROLE_FIELDS.includes(f) && !PROVIDER_ROLE_FIELDS[provider].includes(f));
  if (foreign.length > 0) throw invalidRequest(`field(s) ${foreign.map((f) => `"${f}"`).join(", ")} do not apply to a ${provider} role`);

  const common = { connection: connectionName, ttl: pick("ttl", existing?.ttl, DEFAULT_TTL), max_ttl: pick("max_ttl", existing?.max_ttl, DEFAULT_MAX_TTL) };
  if (common.ttl < 0) throw invalidRequest('"ttl" must not be negative');
  if (common.max_ttl < 0) throw invalidRequest('"max_ttl" must not be negative');
  if (common.max_ttl > 0 && common.ttl > common.max_ttl) throw invalidRequest(`"ttl" (${common.ttl}s) must not exceed "max_ttl" (${common.max_ttl}s)`);

  let role: RoleEntry;
  if (provider === "openai") role = await buildOpenAIRole(ctx, existing?.provider === "openai" ? existing : undefined, pick, common);
  else if (provider === "litellm") role = buildLiteLLMRole(fields, existing?.provider === "litellm" ? existing : undefined, pick, common);
  else role = buildOpenRouterRole(existing?.provider === "openrouter" ? existing : undefined, pick, common);
  const big = oversized(role);
  if (big) throw invalidRequest(`the role would take ${big.bytes} bytes, more than ${MAX_ENTRY_BYTES}: "${big.field}" is too large`);
  await writeRole(request.storage, name, role);
  forgetRole(backend.state, name);
  const warnings: string[] = [];
  if (role.provider === "litellm") {
    for (const [fixed, template] of [["user_id", "user_id_template"], ["team_id", "team_id_template"]] as const) {
      if (role[fixed] && role[template]) warnings.push(`${fixed} is set, so ${template} is not used`);
    }
  }
  return warnings.length > 0 ? { warnings } : undefined;
}

export const pathRoles: PathDefinition<EngineBackend> = {
  pattern: "roles/<name>",
  fields: roleFields,
  existenceCheck: async ({ request, fields }) => (await readRole(request.storage, fields.string("name"))) !== undefined,
  operations: {
    read: {
      summary: "Read a role.",
      handler: async ({ request, fields }) => {
        const role = await readRole(request.storage, fields.string("name"));
        return role ? roleResponse(role) : undefined;
      },
    },
    // On the active node: a standby would check the role against its own,
    // possibly lagging, copy of the connection.
    create: { summary: "Create a role.", handler: writeRoleHandler, forwardPerformanceStandby: true },
    update: { summary: "Update a role.", handler: writeRoleHandler, forwardPerformanceStandby: true },
    delete: {
      summary: "Delete a role. Keys already issued keep their leases and still revoke.",
      forwardPerformanceStandby: true,
      handler: async ({ request, fields, backend }) => {
        await request.storage.delete(ROLE_PREFIX + fields.string("name"));
        forgetRole(backend.state, fields.string("name"));
        return undefined;
      },
    },
  },
  helpSynopsis: "Manage the roles keys are issued from.",
  helpDescription: "A role names its connection, what an issued key may do at the provider, and the lease TTLs. Its fields are those of the connection's provider.",
};

export const pathRolesList: PathDefinition<EngineBackend> = {
  pattern: "roles/?",
  operations: {
    list: { summary: "List roles.", handler: async ({ request }) => ({ data: { keys: await request.storage.list(ROLE_PREFIX) } }) },
  },
  helpSynopsis: "List the roles.",
};
