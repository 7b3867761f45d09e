// Request-body validation the way FastAPI + pydantic v2 (lax mode) does it for
// LiteLLM's request models: numeric strings become numbers, "true" becomes
// true, a string where a list belongs is a 422 naming the field. Unknown
// fields are ignored.
import { isRecord } from "../core/http.ts";
import type { ValidationItem } from "./errors.ts";

export type FieldType = "str" | "float" | "int" | "bool" | "list" | "dict" | "any";

export const KEY_FIELDS: Record<string, FieldType> = {
  key: "str",
  key_alias: "str",
  duration: "str",
  models: "list",
  spend: "float",
  max_budget: "float",
  soft_budget: "float",
  user_id: "str",
  team_id: "str",
  agent_id: "str",
  organization_id: "str",
  project_id: "str",
  budget_id: "str",
  max_parallel_requests: "int",
  metadata: "dict",
  tpm_limit: "int",
  rpm_limit: "int",
  budget_duration: "str",
  allowed_cache_controls: "list",
  config: "dict",
  permissions: "dict",
  model_max_budget: "dict",
  model_rpm_limit: "dict",
  model_tpm_limit: "dict",
  guardrails: "list",
  policies: "list",
  prompts: "list",
  blocked: "bool",
  aliases: "dict",
  object_permission: "dict",
  tags: "list",
  enforced_params: "list",
  allowed_routes: "list",
  allowed_passthrough_routes: "list",
  send_invite_email: "bool",
  key_type: "str",
  auto_rotate: "bool",
  rotation_interval: "str",
  rpm_limit_type: "str",
  tpm_limit_type: "str",
  router_settings: "dict",
  access_group_ids: "list",
};

export type Validated = { ok: true; value: Record<string, unknown> } | { ok: false; errors: ValidationItem[] };

export function validateBody(body: unknown, fields: Record<string, FieldType>, required: readonly string[] = []): Validated {
  if (body === undefined) return { ok: false, errors: [{ type: "missing", loc: ["body"], msg: "Field required", input: null }] };
  if (!isRecord(body)) {
    return {
      ok: false,
      errors: [{ type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", input: body }],
    };
  }
  const errors: ValidationItem[] = [];
  const value: Record<string, unknown> = {};
  for (const name of required) {
    if (body[name] === undefined) errors.push({ type: "missing", loc: ["body", name], msg: "Field required", input: body });
  }
  for (const [name, raw] of Object.entries(body)) {
    const type = fields[name];
    if (type === undefined) continue;
    if (raw === null) {
      if (required.includes(name)) errors.push(typeError("str", name, raw));
      else value[name] = null;
      continue;
    }
    const coerced = coerce(type, raw);
    if (coerced.ok) value[name] = coerced.value;
    else errors.push({ ...coerced.error, loc: ["body", name], input: raw });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

type Coerced = { ok: true; value: unknown } | { ok: false; error: Omit<ValidationItem, "loc" | "input"> };

function coerce(type: FieldType, raw: unknown): Coerced {
  switch (type) {
    case "any":
      return { ok: true, value: raw };
    case "str":
      return typeof raw === "string" ? { ok: true, value: raw } : { ok: false, error: { type: "string_type", msg: "Input should be a valid string" } };
    case "float":
      if (typeof raw === "number") return { ok: true, value: raw };
      if (typeof raw === "boolean") return { ok: true, value: raw ? 1 : 0 };
      if (typeof raw === "string") {
        const n = Number(raw.trim());
        return raw.trim() !== "" && Number.isFinite(n)
          ? { ok: true, value: n }
          : { ok: false, error: { type: "float_parsing", msg: "Input should be a valid number, unable to parse string as a number" } };
      }
      return { ok: false, error: { type: "float_type", msg: "Input should be a valid number" } };
    case "int":
      if (typeof raw === "number") {
        return Number.isInteger(raw)
          ? { ok: true, value: raw }
          : { ok: false, error: { type: "int_from_float", msg: "Input should be a valid integer, got a number with a fractional part" } };
      }
      if (typeof raw === "boolean") return { ok: true, value: raw ? 1 : 0 };
      if (typeof raw === "string") {
        return /^\s*[+-]?\d+\s*$/.test(raw)
          ? { ok: true, value: Number.parseInt(raw, 10) }
          : { ok: false, error: { type: "int_parsing", msg: "Input should be a valid integer, unable to parse string as an integer" } };
      }
      return { ok: false, error: { type: "int_type", msg: "Input should be a valid integer" } };
    case "bool": {
      if (typeof raw === "boolean") return { ok: true, value: raw };
      if (raw === 0 || raw === 1) return { ok: true, value: raw === 1 };
      if (typeof raw === "string") {
        const s = raw.trim().toLowerCase();
        if (["true", "1", "yes", "y", "on", "t"].includes(s)) return { ok: true, value: true };
        if (["false", "0", "no", "n", "off", "f"].includes(s)) return { ok: true, value: false };
        return { ok: false, error: { type: "bool_parsing", msg: "Input should be a valid boolean, unable to interpret input" } };
      }
      return { ok: false, error: { type: "bool_type", msg: "Input should be a valid boolean" } };
    }
    case "list":
      return Array.isArray(raw) ? { ok: true, value: raw } : { ok: false, error: { type: "list_type", msg: "Input should be a valid list" } };
    case "dict":
      return isRecord(raw) ? { ok: true, value: raw } : { ok: false, error: { type: "dict_type", msg: "Input should be a valid dictionary" } };
  }
}

function typeError(type: FieldType, name: string, input: unknown): ValidationItem {
  const c = coerce(type, input);
  const error = c.ok ? { type: "string_type", msg: "Input should be a valid string" } : c.error;
  return { ...error, loc: ["body", name], input };
}
