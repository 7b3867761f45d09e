// roles/<name> and roles/: what a credential issued from a role may do and
// how long it lives. The project is checked with the provider on write, and
// its name cached, so issuing a key takes a single provider call.
import { invalidRequest, type HandlerContext, type PathDefinition } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./path-config.ts";
import { connection, type EngineBackend } from "./state.ts";
import { readRole, ROLE_PREFIX, writeRole, type RoleEntry } from "./storage.ts";
import { checkServiceAccountTemplate, DEFAULT_NAME_TEMPLATE } from "./service-account-name.ts";

export const DEFAULT_DESCRIPTION = "Service account created by Vault";
export const DEFAULT_TTL = 3600;
export const DEFAULT_MAX_TTL = 86400;

function roleResponse(role: RoleEntry) {
  return {
    data: {
      project_id: role.project_id,
      service_account_name_template: role.service_account_name_template,
      service_account_description: role.service_account_description,
      ttl: role.ttl,
      max_ttl: role.max_ttl,
    },
  };
}

async function writeRoleHandler({ request, fields, backend }: HandlerContext<EngineBackend>) {
  const name = fields.string("name");
  const existing = await readRole(request.storage, name);
  const pick = <T>(field: string, current: T | undefined, fallback: T): T => (fields.has(field) ? (fields.get(field) as T) : (current ?? fallback));
  const role: RoleEntry = {
    project_id: pick("project_id", existing?.project_id, ""),
    project_name: existing?.project_name ?? "",
    service_account_name_template: pick("service_account_name_template", existing?.service_account_name_template, DEFAULT_NAME_TEMPLATE),
    service_account_description: pick("service_account_description", existing?.service_account_description, DEFAULT_DESCRIPTION),
    ttl: pick("ttl", existing?.ttl, DEFAULT_TTL),
    max_ttl: pick("max_ttl", existing?.max_ttl, DEFAULT_MAX_TTL),
  };
  if (!role.project_id) throw invalidRequest('missing required field "project_id"');
  if (role.ttl < 0) throw invalidRequest('"ttl" must not be negative');
  if (role.max_ttl < 0) throw invalidRequest('"max_ttl" must not be negative');
  if (role.max_ttl > 0 && role.ttl > role.max_ttl) throw invalidRequest(`"ttl" (${role.ttl}s) must not exceed "max_ttl" (${role.max_ttl}s)`);
  checkServiceAccountTemplate(role.service_account_name_template);

  if (!existing || existing.project_id !== role.project_id || fields.has("project_id")) {
    const { client } = await connection(backend, request.storage);
    let project;
    try {
      project = await client.getProject(role.project_id);
    } catch (err) {
      throw describeProviderFailure(err, "the project could not be checked");
    }
    if (!project) throw invalidRequest(`project_id "${role.project_id}" does not exist in the configured organization`);
    if (project.status !== "active") throw invalidRequest(`project_id "${role.project_id}" is ${project.status}, not active`);
    role.project_name = project.name;
  }
  await writeRole(request.storage, name, role);
  return undefined;
}

export const pathRoles: PathDefinition<EngineBackend> = {
  pattern: "roles/<name>",
  fields: {
    name: { type: "name-string", description: "Name of the role." },
    project_id: { type: "string", required: true, description: "The OpenAI project the service accounts are created in (proj_...)." },
    service_account_name_template: {
      type: "string",
      default: DEFAULT_NAME_TEMPLATE,
      description: "Template for service account names, in Vault's username template syntax. Variables: .RoleName, .RandomSuffix, .ProjectName, .DisplayName.",
    },
    service_account_description: { type: "string", default: DEFAULT_DESCRIPTION, description: "Description stored with the role." },
    ttl: { type: "duration", default: DEFAULT_TTL, description: "Default lease TTL of issued keys." },
    max_ttl: { type: "duration", default: DEFAULT_MAX_TTL, description: "Longest an issued key may live, renewals included." },
  },
  existenceCheck: async ({ request, fields }) => (await readRole(request.storage, fields.string("name"))) !== undefined,
  operations: {
    read: {
      summary: "Read a role.",
      handler: async ({ request, fields }) => {
        const role = await readRole(request.storage, fields.string("name"));
        return role ? roleResponse(role) : undefined;
      },
    },
    create: { summary: "Create a role.", handler: writeRoleHandler },
    update: { summary: "Update a role.", handler: writeRoleHandler },
    delete: {
      summary: "Delete a role. Keys already issued keep their leases and still revoke.",
      handler: async ({ request, fields }) => {
        await request.storage.delete(ROLE_PREFIX + fields.string("name"));
        return undefined;
      },
    },
  },
  helpSynopsis: "Manage the roles keys are issued from.",
  helpDescription: "A role names the project, how service accounts are named, and the lease TTLs of issued keys.",
};

export const pathRolesList: PathDefinition<EngineBackend> = {
  pattern: "roles/?",
  operations: {
    list: { summary: "List roles.", handler: async ({ request }) => ({ data: { keys: await request.storage.list(ROLE_PREFIX) } }) },
  },
  helpSynopsis: "List the roles.",
};
