// Service account names: rendered from the role's template (Vault's username
// template language, as the Go plugin uses), then checked. A bad template is
// rejected when the role is written, never at issue time.
import { invalidRequest } from "@vault-plugin-ai/sdk";
import { randomBytes } from "node:crypto";
import { compileUsernameTemplate } from "./template/username-template.ts";

export const DEFAULT_NAME_TEMPLATE = "vault-{{.RoleName}}-{{.RandomSuffix}}";
const MAX_NAME_LENGTH = 128;

export interface NameInputs {
  roleName: string;
  projectName: string;
  displayName: string;
}

/** 8 characters of [a-z0-9], without modulo bias. */
export function randomSuffix(length = 8): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 252 && out.length < length) out += alphabet[b % 36];
    }
  }
  return out;
}

export function renderServiceAccountName(template: string, inputs: NameInputs): string {
  let name: string;
  try {
    name = compileUsernameTemplate(template).render({
      RoleName: inputs.roleName,
      RandomSuffix: randomSuffix(),
      ProjectName: inputs.projectName,
      DisplayName: inputs.displayName,
    });
  } catch (err) {
    throw invalidRequest(`service_account_name_template: ${(err as Error).message}`);
  }
  name = name.trim();
  if (!name) throw invalidRequest("service_account_name_template renders an empty name");
  if (name.length > MAX_NAME_LENGTH) throw invalidRequest(`service_account_name_template renders a name longer than ${MAX_NAME_LENGTH} characters`);
  // Control characters, and invisible ones that change how a name reads
  // (U+202E RIGHT-TO-LEFT OVERRIDE, zero-width spaces, line separators):
  // a name must show in the provider's dashboard as what it is.
  const hidden = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.exec(name);
  if (hidden) {
    const code = `U+${hidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    throw invalidRequest(`service_account_name_template renders a name with control characters or invisible formatting (${code})`);
  }
  return name;
}

const TEMPLATE_FIELDS = new Set(["RoleName", "RandomSuffix", "ProjectName", "DisplayName"]);

/**
 * Compiles the template, refuses fields it cannot have (Go would print
 * "<no value>" into the name), and renders it once with the role's own name
 * and project (sample values for what is not known yet), so a broken
 * template, or one too long for this role, fails the role write rather than
 * an issuance. Only the token's display name still varies at issue time.
 */
export function checkServiceAccountTemplate(template: string, inputs: Partial<NameInputs> = {}): void {
  let fields: readonly string[];
  try {
    fields = compileUsernameTemplate(template).fields;
  } catch (err) {
    throw invalidRequest(`service_account_name_template: ${(err as Error).message}`);
  }
  // Names must differ from one issuance to the next: the rollback finds an
  // orphan by its name, and must never find a live account under it.
  if (!fields.includes("RandomSuffix") && !/\b(random|uuid)\b/.test(template)) {
    throw invalidRequest("service_account_name_template must make every name unique: include {{.RandomSuffix}}, random or uuid");
  }
  const unknown = fields.filter((f) => !TEMPLATE_FIELDS.has(f));
  if (unknown.length > 0) {
    throw invalidRequest(`service_account_name_template uses unknown field(s) ${unknown.map((f) => "." + f).join(", ")}; available: .RoleName, .RandomSuffix, .ProjectName, .DisplayName`);
  }
  renderServiceAccountName(template, { roleName: "role", projectName: "project", displayName: "token", ...inputs });
}
