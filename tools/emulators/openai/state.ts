// The organization an OpenAI emulator holds: one owner, admin keys, projects,
// their service accounts, and project API keys (service-account keys and
// dashboard-made user keys). Maps keep insertion order, which is creation
// order, which is the order OpenAI lists in.
import { randomAlnum, randomUrlSafe } from "../core/ids.ts";

export interface Owner {
  id: string;
  name: string;
  email: string;
  createdAt: number;
}

export interface AdminKey {
  id: string;
  value: string;
  name: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

export interface Project {
  id: string;
  name: string;
  createdAt: number;
  archivedAt: number | null;
}

export interface ServiceAccount {
  id: string;
  projectId: string;
  name: string;
  role: "owner" | "member" | "none";
  createdAt: number;
}

export interface ProjectKey {
  id: string;
  projectId: string;
  value: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  owner: { type: "service_account"; serviceAccountId: string } | { type: "user"; userId: string };
  scopes: string[] | null;
}

export interface OpenAISeed {
  organizationId: string;
  organizationName: string;
  owner: Owner;
  adminKey: AdminKey;
  projects: Project[];
}

export const ids = {
  organization: () => `org-${randomAlnum(24)}`,
  user: () => `user-${randomAlnum(24)}`,
  key: () => `key_${randomAlnum(16)}`,
  project: () => `proj_${randomAlnum(24)}`,
  serviceAccount: () => `svc_acct_${randomAlnum(24)}`,
};

export const keyValues = {
  admin: () => `sk-admin-${randomUrlSafe(120)}`,
  serviceAccount: () => `sk-svcacct-${randomUrlSafe(120)}`,
  user: () => `sk-proj-${randomUrlSafe(120)}`,
};

/** The redacted forms the spec's examples show: "sk-admin...def", "sk-abc...def". */
export function redactAdminKey(value: string): string {
  return `sk-admin...${value.slice(-3)}`;
}

export function redactProjectKey(value: string): string {
  return `${value.slice(0, 6)}...${value.slice(-3)}`;
}

export class OpenAIState {
  readonly seed: OpenAISeed;
  adminKeys = new Map<string, AdminKey>();
  projects = new Map<string, Project>();
  serviceAccounts = new Map<string, ServiceAccount>();
  projectKeys = new Map<string, ProjectKey>();
  #adminByValue = new Map<string, string>();
  #projectKeyByValue = new Map<string, string>();

  constructor(seed: OpenAISeed) {
    this.seed = seed;
    this.reset();
  }

  reset(): void {
    this.adminKeys = new Map([[this.seed.adminKey.id, { ...this.seed.adminKey }]]);
    this.#adminByValue = new Map([[this.seed.adminKey.value, this.seed.adminKey.id]]);
    this.projects = new Map(this.seed.projects.map((p) => [p.id, { ...p }]));
    this.serviceAccounts = new Map();
    this.projectKeys = new Map();
    this.#projectKeyByValue = new Map();
  }

  addAdminKey(key: AdminKey): void {
    this.adminKeys.set(key.id, key);
    this.#adminByValue.set(key.value, key.id);
  }

  deleteAdminKey(id: string): boolean {
    const key = this.adminKeys.get(id);
    if (key === undefined) return false;
    this.adminKeys.delete(id);
    this.#adminByValue.delete(key.value);
    return true;
  }

  adminKeyByValue(value: string): AdminKey | undefined {
    const id = this.#adminByValue.get(value);
    return id === undefined ? undefined : this.adminKeys.get(id);
  }

  addProjectKey(key: ProjectKey): void {
    this.projectKeys.set(key.id, key);
    this.#projectKeyByValue.set(key.value, key.id);
  }

  deleteProjectKey(id: string): boolean {
    const key = this.projectKeys.get(id);
    if (key === undefined) return false;
    this.projectKeys.delete(id);
    this.#projectKeyByValue.delete(key.value);
    return true;
  }

  projectKeyByValue(value: string): ProjectKey | undefined {
    const id = this.#projectKeyByValue.get(value);
    return id === undefined ? undefined : this.projectKeys.get(id);
  }

  /** Deleting an account takes its keys with it: they stop authenticating at once. */
  deleteServiceAccount(id: string): boolean {
    if (!this.serviceAccounts.delete(id)) return false;
    for (const key of [...this.projectKeys.values()]) {
      if (key.owner.type === "service_account" && key.owner.serviceAccountId === id) this.deleteProjectKey(key.id);
    }
    return true;
  }
}

// Wire shapes.

export function ownerJson(owner: Owner) {
  return { type: "user", object: "organization.user", id: owner.id, name: owner.name, created_at: owner.createdAt, role: "owner" };
}

export function adminKeyJson(key: AdminKey, owner: Owner) {
  return {
    object: "organization.admin_api_key",
    id: key.id,
    name: key.name,
    redacted_value: redactAdminKey(key.value),
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    last_used_at: key.lastUsedAt,
    owner: ownerJson(owner),
  };
}

export function projectJson(p: Project) {
  return {
    id: p.id,
    object: "organization.project",
    name: p.name,
    created_at: p.createdAt,
    archived_at: p.archivedAt,
    status: p.archivedAt === null ? "active" : "archived",
    external_key_id: null,
  };
}

export function serviceAccountJson(sa: ServiceAccount) {
  return { object: "organization.project.service_account", id: sa.id, name: sa.name, role: sa.role, created_at: sa.createdAt };
}

export function serviceAccountKeyJson(key: ProjectKey) {
  return { object: "organization.project.service_account.api_key", value: key.value, name: key.name, created_at: key.createdAt, id: key.id };
}

export function projectKeyJson(key: ProjectKey, state: OpenAIState) {
  let owner: Record<string, unknown>;
  if (key.owner.type === "service_account") {
    const sa = state.serviceAccounts.get(key.owner.serviceAccountId);
    owner = {
      type: "service_account",
      service_account: sa === undefined ? null : { id: sa.id, name: sa.name, created_at: sa.createdAt, role: sa.role },
    };
  } else {
    const o = state.seed.owner;
    owner = { type: "user", user: { id: o.id, name: o.name, email: o.email, role: "owner", created_at: o.createdAt } };
  }
  return {
    object: "organization.project.api_key",
    redacted_value: redactProjectKey(key.value),
    name: key.name,
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    id: key.id,
    owner_project_access: "active",
    owner,
  };
}
