// An emulator of the OpenAI Admin API (organization admin keys, projects,
// project service accounts, project API keys) plus the two inference calls a
// project key needs to prove it works: GET /v1/models and POST
// /v1/chat/completions. Shapes follow openai/openai-openapi (2026-08-21).
import type { Clock } from "../core/clock.ts";
import { bearerToken, header, isRecord, json, Refusal, type EmulatorRequest, type EmulatorResponse, type Handler } from "../core/http.ts";
import { randomAlnum, randomHex } from "../core/ids.ts";
import { applySettings, booleanSetting, enumSetting, numberSetting, stringListSetting, type ProviderSpec } from "../core/provider.ts";
import { Router } from "../core/router.ts";
import { startEmulatorServer, type EmulatorControl } from "../core/server.ts";
import {
  describeType,
  incorrectKey,
  invalidJson,
  invalidType,
  missingKey,
  missingManagementScope,
  missingModelScope,
  missingParam,
  notFound,
  openaiError,
  statusError,
} from "./errors.ts";
import {
  adminKeyJson,
  ids,
  keyValues,
  OpenAIState,
  projectJson,
  projectKeyJson,
  redactProjectKey,
  serviceAccountJson,
  serviceAccountKeyJson,
  type AdminKey,
  type OpenAISeed,
  type Project,
  type ProjectKey,
  type ServiceAccount,
} from "./state.ts";

export interface OpenAISettings {
  /**
   * DELETE of a project API key owned by a service account. The 2026-08 spec
   * says it is refused (400); the 2026-11 reference says it deletes the key.
   */
  serviceAccountKeyDelete: "allow" | "reject";
  /** Models GET /v1/models lists and chat completions accept. */
  models: string[];
  /** 0 = no limit (the spec gives none). */
  serviceAccountNameMaxLength: number;
  /** Reject an OpenAI-Organization header naming another organization. */
  enforceOrganizationHeader: boolean;
  /** Injected 502/504 faults answer with Cloudflare's HTML page, as the real edge does. */
  gatewayErrorsAsHtml: boolean;
}

const DEFAULT_SETTINGS: OpenAISettings = {
  serviceAccountKeyDelete: "allow",
  models: ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o4-mini", "text-embedding-3-small"],
  serviceAccountNameMaxLength: 0,
  enforceOrganizationHeader: true,
  gatewayErrorsAsHtml: false,
};

export interface OpenAIEmulatorOptions {
  port?: number;
  latencyMs?: number;
  /** The seeded admin key's value (default: a fresh sk-admin-...). */
  adminKey?: string;
  adminKeyId?: string;
  organizationId?: string;
  organizationName?: string;
  /** Seeded projects (default: one active "Default Project"). */
  projects?: Array<{ id?: string; name?: string; status?: "active" | "archived" }>;
  settings?: Partial<OpenAISettings>;
}

export interface ProjectInfo {
  id: string;
  name: string;
  status: "active" | "archived";
}

export interface OpenAIEmulator {
  /** Origin, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** What the engine's api_endpoint takes: the origin plus /v1. */
  readonly baseUrl: string;
  readonly port: number;
  readonly adminKey: string;
  readonly adminKeyId: string;
  readonly organizationId: string;
  readonly projects: readonly ProjectInfo[];
  readonly control: EmulatorControl;
  /** Adds a project (gone again after reset()). */
  seedProject(input?: { id?: string; name?: string; status?: "active" | "archived" }): ProjectInfo;
  /** Adds a user-owned project key, as made in the dashboard. */
  createUserKey(projectId: string, name?: string): { id: string; value: string };
  /** Adds an admin key without going through the API. */
  createAdminKey(input?: { name?: string; expiresInSeconds?: number }): { id: string; value: string };
  close(): Promise<void>;
}

type Principal = { kind: "admin"; key: AdminKey } | { kind: "project"; key: ProjectKey };
type AdminHandler = (req: EmulatorRequest, principal: AdminKey) => EmulatorResponse;

interface OpenAIProvider extends ProviderSpec {
  seedProject(input: { id?: string; name?: string; status?: "active" | "archived" }): Project;
  createUserKey(projectId: string, name?: string): ProjectKey;
  createAdminKey(input: { name?: string; expiresInSeconds?: number }): AdminKey;
}

export function createOpenAIProvider(seed: OpenAISeed, clock: Clock, initialSettings: OpenAISettings): OpenAIProvider {
  const state = new OpenAIState(seed);
  let settings: OpenAISettings = { ...initialSettings, models: [...initialSettings.models] };

  function authenticate(req: EmulatorRequest): Principal | EmulatorResponse {
    const token = bearerToken(req);
    if (token === undefined) return missingKey();
    const now = clock.nowSeconds();
    let principal: Principal | undefined;
    const admin = state.adminKeyByValue(token);
    if (admin !== undefined && (admin.expiresAt === null || admin.expiresAt > now)) principal = { kind: "admin", key: admin };
    const projectKey = state.projectKeyByValue(token);
    if (projectKey !== undefined && state.projects.get(projectKey.projectId)?.archivedAt === null) principal = { kind: "project", key: projectKey };
    if (principal === undefined) return incorrectKey(token);
    const org = header(req, "openai-organization");
    if (settings.enforceOrganizationHeader && org !== undefined && org !== "" && org !== seed.organizationId) {
      return openaiError(401, "OpenAI-Organization header should match organization for API key", { code: "mismatched_organization" });
    }
    principal.key.lastUsedAt = now;
    return principal;
  }

  const admin =
    (handler: AdminHandler): Handler =>
    (req) => {
      const p = authenticate(req);
      if ("status" in p) return p;
      if (p.kind !== "admin") return missingManagementScope(req.method !== "GET");
      return handler(req, p.key);
    };

  const inference =
    (handler: (req: EmulatorRequest, key: ProjectKey) => EmulatorResponse): Handler =>
    (req) => {
      const p = authenticate(req);
      if ("status" in p) return p;
      if (p.kind !== "project") return missingModelScope();
      return handler(req, p.key);
    };

  function projectOr404(id: string): Project | EmulatorResponse {
    return state.projects.get(id) ?? notFound(`No such project: ${id}`);
  }

  function activeProjectOr4xx(id: string): Project | EmulatorResponse {
    const p = projectOr404(id);
    if ("status" in p) return p;
    if (p.archivedAt !== null) return openaiError(400, `Project ${id} is archived.`);
    return p;
  }

  function serviceAccountOr404(project: Project, id: string): ServiceAccount | EmulatorResponse {
    const sa = state.serviceAccounts.get(id);
    if (sa === undefined || sa.projectId !== project.id) return notFound(`No such service account: ${id}`);
    return sa;
  }

  function createServiceAccountKey(sa: ServiceAccount, name: string, scopes: string[] | null): ProjectKey {
    const key: ProjectKey = {
      id: ids.key(),
      projectId: sa.projectId,
      value: keyValues.serviceAccount(),
      name,
      createdAt: clock.nowSeconds(),
      lastUsedAt: null,
      owner: { type: "service_account", serviceAccountId: sa.id },
      scopes,
    };
    state.addProjectKey(key);
    return key;
  }

  const r = new Router<Handler>();
  const V1 = "/v1/organization";

  // Admin API keys.
  r.add(
    "GET",
    `${V1}/admin_api_keys`,
    admin((req) => {
      const order = req.query.get("order") ?? "asc";
      if (order !== "asc" && order !== "desc") {
        return openaiError(400, `Invalid value: '${order}'. Supported values are: 'asc' and 'desc'.`, { param: "order", code: "invalid_value" });
      }
      const keys = [...state.adminKeys.values()];
      if (order === "desc") keys.reverse();
      return listResponse(req, keys, (k) => adminKeyJson(k, seed.owner));
    }),
  );
  r.add(
    "POST",
    `${V1}/admin_api_keys`,
    admin((req) => {
      const body = objectBody(req);
      if (body instanceof Refusal) return body.response;
      const name = body["name"];
      if (name === undefined) return missingParam("name");
      if (typeof name !== "string") return invalidType("name", "a string", name);
      const expires = body["expires_in_seconds"];
      if (expires !== undefined && expires !== null) {
        const bad = checkInteger("expires_in_seconds", expires, 1, 31_536_000);
        if (bad) return bad;
      }
      const now = clock.nowSeconds();
      const key: AdminKey = {
        id: ids.key(),
        value: keyValues.admin(),
        name,
        createdAt: now,
        expiresAt: typeof expires === "number" ? now + expires : null,
        lastUsedAt: null,
      };
      state.addAdminKey(key);
      return json(200, { ...adminKeyJson(key, seed.owner), value: key.value });
    }),
  );
  r.add(
    "GET",
    `${V1}/admin_api_keys/:key_id`,
    admin((req) => {
      const key = state.adminKeys.get(req.params["key_id"] ?? "");
      return key === undefined ? notFound(`No such admin API key: ${req.params["key_id"]}`) : json(200, adminKeyJson(key, seed.owner));
    }),
  );
  r.add(
    "DELETE",
    `${V1}/admin_api_keys/:key_id`,
    admin((req) => {
      const id = req.params["key_id"] ?? "";
      if (!state.deleteAdminKey(id)) return notFound(`No such admin API key: ${id}`);
      return json(200, { id, object: "organization.admin_api_key.deleted", deleted: true });
    }),
  );

  // Projects.
  r.add(
    "GET",
    `${V1}/projects`,
    admin((req) => {
      const includeArchived = req.query.get("include_archived") === "true";
      const projects = [...state.projects.values()].filter((p) => includeArchived || p.archivedAt === null);
      return listResponse(req, projects, projectJson);
    }),
  );
  r.add(
    "POST",
    `${V1}/projects`,
    admin((req) => {
      const body = objectBody(req);
      if (body instanceof Refusal) return body.response;
      const name = body["name"];
      if (name === undefined) return missingParam("name");
      if (typeof name !== "string") return invalidType("name", "a string", name);
      const p: Project = { id: ids.project(), name, createdAt: clock.nowSeconds(), archivedAt: null };
      state.projects.set(p.id, p);
      return json(200, projectJson(p));
    }),
  );
  r.add(
    "GET",
    `${V1}/projects/:project_id`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      return "status" in p ? p : json(200, projectJson(p));
    }),
  );
  r.add(
    "POST",
    `${V1}/projects/:project_id`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      if (p.id === seed.projects[0]?.id) return openaiError(400, "The default project cannot be modified.");
      if (p.archivedAt !== null) return openaiError(400, `Project ${p.id} is archived.`);
      const body = objectBody(req);
      if (body instanceof Refusal) return body.response;
      const name = body["name"];
      if (name === undefined) return missingParam("name");
      if (typeof name !== "string") return invalidType("name", "a string", name);
      p.name = name;
      return json(200, projectJson(p));
    }),
  );
  r.add(
    "POST",
    `${V1}/projects/:project_id/archive`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      if (p.archivedAt === null) p.archivedAt = clock.nowSeconds();
      return json(200, projectJson(p));
    }),
  );

  // Project service accounts.
  r.add(
    "GET",
    `${V1}/projects/:project_id/service_accounts`,
    admin((req) => {
      const p = activeProjectOr4xx(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const accounts = [...state.serviceAccounts.values()].filter((sa) => sa.projectId === p.id);
      return listResponse(req, accounts, serviceAccountJson);
    }),
  );
  r.add(
    "POST",
    `${V1}/projects/:project_id/service_accounts`,
    admin((req) => {
      const p = activeProjectOr4xx(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const body = objectBody(req);
      if (body instanceof Refusal) return body.response;
      const name = body["name"];
      const bad = checkName(name, settings.serviceAccountNameMaxLength);
      if (bad) return bad;
      const only = body["create_service_account_only"];
      if (only !== undefined && only !== null && typeof only !== "boolean") return invalidType("create_service_account_only", "a boolean", only);
      const sa: ServiceAccount = {
        id: ids.serviceAccount(),
        projectId: p.id,
        name: name as string,
        role: only === true ? "none" : "member",
        createdAt: clock.nowSeconds(),
      };
      state.serviceAccounts.set(sa.id, sa);
      const key = only === true ? null : createServiceAccountKey(sa, "Secret Key", null);
      return json(200, { ...serviceAccountJson(sa), api_key: key === null ? null : serviceAccountKeyJson(key) });
    }),
  );
  r.add(
    "GET",
    `${V1}/projects/:project_id/service_accounts/:service_account_id`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const sa = serviceAccountOr404(p, req.params["service_account_id"] ?? "");
      return "status" in sa ? sa : json(200, serviceAccountJson(sa));
    }),
  );
  r.add(
    "POST",
    `${V1}/projects/:project_id/service_accounts/:service_account_id`,
    admin((req) => {
      const p = activeProjectOr4xx(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const sa = serviceAccountOr404(p, req.params["service_account_id"] ?? "");
      if ("status" in sa) return sa;
      const body = objectBody(req);
      if (body instanceof Refusal) return body.response;
      const name = body["name"];
      const role = body["role"];
      if (name !== undefined) {
        const bad = checkName(name, settings.serviceAccountNameMaxLength);
        if (bad) return bad;
      }
      if (role !== undefined && role !== "member" && role !== "owner") {
        return openaiError(400, `Invalid value: '${String(role)}'. Supported values are: 'member' and 'owner'.`, { param: "role", code: "invalid_value" });
      }
      if (typeof name === "string") sa.name = name;
      if (role === "member" || role === "owner") sa.role = role;
      return json(200, serviceAccountJson(sa));
    }),
  );
  r.add(
    "DELETE",
    `${V1}/projects/:project_id/service_accounts/:service_account_id`,
    admin((req) => {
      const p = activeProjectOr4xx(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const sa = serviceAccountOr404(p, req.params["service_account_id"] ?? "");
      if ("status" in sa) return sa;
      state.deleteServiceAccount(sa.id);
      return json(200, { object: "organization.project.service_account.deleted", id: sa.id, deleted: true });
    }),
  );
  r.add(
    "POST",
    `${V1}/projects/:project_id/service_accounts/:service_account_id/api_keys`,
    admin((req) => {
      const p = activeProjectOr4xx(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const sa = serviceAccountOr404(p, req.params["service_account_id"] ?? "");
      if ("status" in sa) return sa;
      const body = req.body === undefined ? {} : objectBody(req);
      if (body instanceof Refusal) return body.response;
      const name = body["name"];
      if (name !== undefined && typeof name !== "string") return invalidType("name", "a string", name);
      const scopes = body["scopes"];
      if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((s) => typeof s === "string"))) {
        return invalidType("scopes", "an array of strings", scopes);
      }
      const key = createServiceAccountKey(sa, typeof name === "string" ? name : "Secret Key", (scopes as string[] | undefined) ?? null);
      return json(200, serviceAccountKeyJson(key));
    }),
  );

  // Project API keys.
  r.add(
    "GET",
    `${V1}/projects/:project_id/api_keys`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const keys = [...state.projectKeys.values()].filter((k) => k.projectId === p.id);
      return listResponse(req, keys, (k) => projectKeyJson(k, state));
    }),
  );
  r.add(
    "GET",
    `${V1}/projects/:project_id/api_keys/:api_key_id`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const key = state.projectKeys.get(req.params["api_key_id"] ?? "");
      if (key === undefined || key.projectId !== p.id) return notFound(`No such API key: ${req.params["api_key_id"]}`);
      return json(200, projectKeyJson(key, state));
    }),
  );
  r.add(
    "DELETE",
    `${V1}/projects/:project_id/api_keys/:api_key_id`,
    admin((req) => {
      const p = projectOr404(req.params["project_id"] ?? "");
      if ("status" in p) return p;
      const key = state.projectKeys.get(req.params["api_key_id"] ?? "");
      if (key === undefined || key.projectId !== p.id) return notFound(`No such API key: ${req.params["api_key_id"]}`);
      if (key.owner.type === "service_account" && settings.serviceAccountKeyDelete === "reject") {
        return openaiError(400, "API keys belonging to a service account cannot be deleted. Delete the service account instead.");
      }
      state.deleteProjectKey(key.id);
      return json(200, { object: "organization.project.api_key.deleted", id: key.id, deleted: true });
    }),
  );

  // Inference, for proving a key works (and then that it does not).
  r.add(
    "GET",
    "/v1/models",
    inference(() => json(200, { object: "list", data: settings.models.map((m) => modelJson(m)) })),
  );
  r.add(
    "GET",
    "/v1/models/:model",
    inference((req) => {
      const model = req.params["model"] ?? "";
      if (!settings.models.includes(model)) return modelNotFound(model, "model");
      return json(200, modelJson(model));
    }),
  );
  r.add(
    "POST",
    "/v1/chat/completions",
    inference((req) => {
      const body = objectBody(req);
      if (body instanceof Refusal) return body.response;
      const model = body["model"];
      if (model === undefined) return missingParam("model");
      if (typeof model !== "string") return invalidType("model", "a string", model);
      if (body["messages"] === undefined) return missingParam("messages");
      if (!settings.models.includes(model)) return modelNotFound(model, null);
      return json(200, chatCompletionJson(model, clock.nowSeconds()));
    }),
  );

  const control = new Router<Handler>();
  control.add("POST", "/__emulator/openai/projects", (req) => {
    const body = isRecord(req.body) ? req.body : {};
    const p = seedProject({
      ...(typeof body["id"] === "string" ? { id: body["id"] } : {}),
      ...(typeof body["name"] === "string" ? { name: body["name"] } : {}),
      ...(body["status"] === "archived" || body["status"] === "active" ? { status: body["status"] } : {}),
    });
    return json(201, projectJson(p));
  });
  control.add("POST", "/__emulator/openai/projects/:project_id/user_keys", (req) => {
    const body = isRecord(req.body) ? req.body : {};
    const projectId = req.params["project_id"] ?? "";
    if (!state.projects.has(projectId)) return json(404, { error: `no project ${projectId}` });
    const key = createUserKey(projectId, typeof body["name"] === "string" ? body["name"] : undefined);
    return json(201, { id: key.id, value: key.value, redacted_value: redactProjectKey(key.value) });
  });
  control.add("POST", "/__emulator/openai/admin_keys", (req) => {
    const body = isRecord(req.body) ? req.body : {};
    const key = createAdminKey({
      ...(typeof body["name"] === "string" ? { name: body["name"] } : {}),
      ...(typeof body["expires_in_seconds"] === "number" ? { expiresInSeconds: body["expires_in_seconds"] } : {}),
    });
    return json(201, { id: key.id, value: key.value });
  });

  function seedProject(input: { id?: string; name?: string; status?: "active" | "archived" }): Project {
    const now = clock.nowSeconds();
    const p: Project = { id: input.id ?? ids.project(), name: input.name ?? "Project", createdAt: now, archivedAt: input.status === "archived" ? now : null };
    state.projects.set(p.id, p);
    return p;
  }

  function createUserKey(projectId: string, name?: string): ProjectKey {
    if (!state.projects.has(projectId)) throw new Error(`no project ${projectId}`);
    const key: ProjectKey = {
      id: ids.key(),
      projectId,
      value: keyValues.user(),
      name: name ?? "Dashboard key",
      createdAt: clock.nowSeconds(),
      lastUsedAt: null,
      owner: { type: "user", userId: seed.owner.id },
      scopes: null,
    };
    state.addProjectKey(key);
    return key;
  }

  function createAdminKey(input: { name?: string; expiresInSeconds?: number }): AdminKey {
    const now = clock.nowSeconds();
    const key: AdminKey = {
      id: ids.key(),
      value: keyValues.admin(),
      name: input.name ?? "Admin key",
      createdAt: now,
      expiresAt: input.expiresInSeconds === undefined ? null : now + input.expiresInSeconds,
      lastUsedAt: null,
    };
    state.addAdminKey(key);
    return key;
  }

  return {
    name: "openai",
    routes: r,
    controlRoutes: control,
    errorResponse: (status, ctx) => statusError(status, ctx.retryAfterSeconds, settings.gatewayErrorsAsHtml),
    unknownRoute: (req) => openaiError(404, `Invalid URL (${req.method} ${req.path})`),
    invalidBody: (_req, reason) => (reason === "too-large" ? openaiError(413, "Request body too large.") : invalidJson()),
    decorate: (res) => ({ ...res, headers: { "x-request-id": `req_${randomHex(16)}`, "openai-version": "2020-10-01", ...(res.headers ?? {}) } }),
    state: () => ({
      organization: { id: seed.organizationId, name: seed.organizationName },
      owner: { id: seed.owner.id, name: seed.owner.name, email: seed.owner.email },
      admin_api_keys: [...state.adminKeys.values()].map((k) => adminKeyJson(k, seed.owner)),
      projects: [...state.projects.values()].map((p) => ({
        ...projectJson(p),
        service_accounts: [...state.serviceAccounts.values()].filter((sa) => sa.projectId === p.id).map(serviceAccountJson),
        api_keys: [...state.projectKeys.values()].filter((k) => k.projectId === p.id).map((k) => projectKeyJson(k, state)),
      })),
    }),
    reset: () => {
      state.reset();
      settings = { ...initialSettings, models: [...initialSettings.models] };
    },
    settings: () => ({ ...settings, models: [...settings.models] }),
    updateSettings: (patch) =>
      applySettings(settings, patch, {
        serviceAccountKeyDelete: enumSetting("serviceAccountKeyDelete", ["allow", "reject"] as const),
        models: stringListSetting("models"),
        serviceAccountNameMaxLength: numberSetting("serviceAccountNameMaxLength", 0, 100_000),
        enforceOrganizationHeader: booleanSetting("enforceOrganizationHeader"),
        gatewayErrorsAsHtml: booleanSetting("gatewayErrorsAsHtml"),
      }),
    seedProject,
    createUserKey,
    createAdminKey,
  };
}

function objectBody(req: EmulatorRequest): Record<string, unknown> | Refusal {
  if (req.body === undefined) return new Refusal(invalidJson());
  if (!isRecord(req.body)) return new Refusal(openaiError(400, `Invalid type for body: expected an object, but got ${describeType(req.body)} instead.`));
  return req.body;
}

function checkInteger(param: string, value: unknown, min: number, max: number): EmulatorResponse | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) return invalidType(param, "an integer", value);
  if (value < min) {
    return openaiError(400, `Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`, {
      param,
      code: "integer_below_min_value",
    });
  }
  if (value > max) {
    return openaiError(400, `Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`, {
      param,
      code: "integer_above_max_value",
    });
  }
  return undefined;
}

function checkName(name: unknown, maxLength: number): EmulatorResponse | undefined {
  if (name === undefined) return missingParam("name");
  if (typeof name !== "string") return invalidType("name", "a string", name);
  if (name === "") {
    return openaiError(400, "Invalid 'name': empty string. Expected a string with minimum length 1, but got an empty string instead.", {
      param: "name",
      code: "empty_string",
    });
  }
  if (maxLength > 0 && name.length > maxLength) {
    return openaiError(400, `Invalid 'name': string too long. Expected a string with maximum length ${maxLength}, but got a string with length ${name.length} instead.`, {
      param: "name",
      code: "string_above_max_length",
    });
  }
  return undefined;
}

/** Cursor pagination: limit 1..100 (default 20), after = the last id seen. */
function listResponse<T extends { id: string }>(req: EmulatorRequest, items: T[], toJson: (t: T) => unknown): EmulatorResponse {
  const rawLimit = req.query.get("limit");
  let limit = 20;
  if (rawLimit !== null) {
    if (!/^-?\d+$/.test(rawLimit)) {
      return openaiError(400, `Invalid 'limit': expected an integer, but got '${rawLimit}' instead.`, { param: "limit", code: "invalid_type" });
    }
    const bad = checkInteger("limit", Number(rawLimit), 1, 100);
    if (bad) return bad;
    limit = Number(rawLimit);
  }
  const after = req.query.get("after");
  let start = 0;
  if (after !== null && after !== "") {
    const index = items.findIndex((i) => i.id === after);
    // An unknown cursor yields an empty page rather than an error: the real
    // behaviour is not documented.
    start = index === -1 ? items.length : index + 1;
  }
  const page = items.slice(start, start + limit);
  return json(200, {
    object: "list",
    data: page.map(toJson),
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
    has_more: start + limit < items.length,
  });
}

function modelJson(id: string) {
  return { id, object: "model", created: 1_715_367_049, owned_by: "system" };
}

function modelNotFound(model: string, param: string | null): EmulatorResponse {
  return openaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, { param, code: "model_not_found" });
}

function chatCompletionJson(model: string, created: number) {
  return {
    id: `chatcmpl-${randomAlnum(29)}`,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
    service_tier: "default",
    system_fingerprint: null,
  };
}

export async function startOpenAIEmulator(options: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const now = Math.floor(Date.now() / 1000);
  const owner = { id: ids.user(), name: "Organization Owner", email: "owner@example.com", createdAt: now };
  const seedProjects: Project[] = (options.projects ?? [{ name: "Default Project" }]).map((p) => ({
    id: p.id ?? ids.project(),
    name: p.name ?? "Project",
    createdAt: now,
    archivedAt: p.status === "archived" ? now : null,
  }));
  const seed: OpenAISeed = {
    organizationId: options.organizationId ?? ids.organization(),
    organizationName: options.organizationName ?? "Personal",
    owner,
    adminKey: {
      id: options.adminKeyId ?? ids.key(),
      value: options.adminKey ?? keyValues.admin(),
      name: "Seed admin key",
      createdAt: now,
      expiresAt: null,
      lastUsedAt: null,
    },
    projects: seedProjects,
  };
  const settings: OpenAISettings = { ...DEFAULT_SETTINGS, ...options.settings };
  let provider: OpenAIProvider | undefined;
  const server = await startEmulatorServer({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    provider: (clock) => (provider = createOpenAIProvider(seed, clock, settings)),
  });
  const p = provider as unknown as OpenAIProvider;
  const info = (project: Project): ProjectInfo => ({ id: project.id, name: project.name, status: project.archivedAt === null ? "active" : "archived" });
  return {
    url: server.url,
    baseUrl: `${server.url}/v1`,
    port: server.port,
    adminKey: seed.adminKey.value,
    adminKeyId: seed.adminKey.id,
    organizationId: seed.organizationId,
    projects: seedProjects.map(info),
    control: server.control,
    seedProject: (input = {}) => info(p.seedProject(input)),
    createUserKey: (projectId, name) => {
      const key = p.createUserKey(projectId, name);
      return { id: key.id, value: key.value };
    },
    createAdminKey: (input = {}) => {
      const key = p.createAdminKey(input);
      return { id: key.id, value: key.value };
    },
    close: () => server.close(),
  };
}
