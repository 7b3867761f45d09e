// Fault rules: which requests misbehave, how often, and how. A rule matches by
// method and path (glob or regular expression); the first matching rule that
// still has shots left fires. Rules come from tests (programmatically) or from
// the control API (as JSON), so everything here validates unknown input.
import type { EmulatorResponse } from "./http.ts";
import { isRecord } from "./http.ts";

export type MalformedVariant = "huge" | "wrong-types" | "missing-fields" | "not-json" | "truncated" | "empty" | "replace";

export type FaultAction =
  | {
      /** Answer with this status and the provider's documented error body (or the body given here). */
      type: "status";
      status: number;
      body?: unknown;
      rawBody?: string;
      contentType?: string;
      headers?: Record<string, string>;
      /** Seconds (number), a raw header value (string), or null to omit. Defaults to 1 on a 429. */
      retryAfter?: number | string | null;
      /** Run the real handler first, so the side effect happens and only the answer is an error. */
      afterHandler?: boolean;
    }
  | { /** Wait this long before handling the request, then answer normally. */ type: "latency"; ms: number }
  | {
      /**
       * Handle the request at once (the side effect happens), then hold the
       * answer back for ms: "headers" withholds everything, "body" sends the
       * status line and headers, then stalls before the body.
       */
      type: "stall";
      ms: number;
      phase?: "headers" | "body";
    }
  | { /** Destroy the socket without an answer; afterHandler lets the side effect happen first. */ type: "drop"; afterHandler?: boolean }
  | {
      /** Handle the request, then answer with a broken or hostile body. */
      type: "malformed";
      variant: MalformedVariant;
      /** For "huge": body size in bytes (default 5 MiB). */
      sizeBytes?: number;
      /** For "missing-fields": the keys to remove at any depth (default: every other key). */
      fields?: string[];
      /**
       * For "replace": values to put into the real answer, by dotted path
       * ("api_key.value": 42, "data": {}), so one field can turn hostile
       * while the rest, ids included, stays true.
       */
      values?: Record<string, unknown>;
      contentType?: string;
    };

export interface FaultRuleInput {
  /** HTTP method, or "*" (the default) for any. */
  method?: string;
  /** Glob over the path: "*" is one segment's characters, "**" anything. Default "**". */
  path?: string;
  /** A regular expression over the path; used instead of path when given. */
  pathRegex?: string | RegExp;
  /** How many matching requests fire the fault (default 1), or "always". */
  times?: number | "always";
  /** How many matching requests to let through untouched before firing. */
  skip?: number;
  action: FaultAction;
}

export interface FaultRule {
  readonly id: string;
  readonly method: string;
  readonly path: string | null;
  readonly pathRegex: string | null;
  readonly times: number | "always";
  readonly skip: number;
  readonly action: FaultAction;
  /** Matching requests seen so far, including skipped ones. */
  readonly matched: number;
  /** Times the fault fired. */
  readonly fired: number;
}

export class FaultRuleError extends Error {
  override name = "FaultRuleError";
}

const MAX_RULES = 1000;
const MAX_HUGE_BYTES = 256 * 1024 * 1024;
const DEFAULT_HUGE_BYTES = 5 * 1024 * 1024;
const MAX_DELAY_MS = 10 * 60 * 1000;
const VARIANTS: readonly MalformedVariant[] = ["huge", "wrong-types", "missing-fields", "not-json", "truncated", "empty", "replace"];

interface StoredRule {
  id: string;
  method: string;
  path: string | null;
  pathRegex: string | null;
  regex: RegExp;
  times: number | "always";
  skip: number;
  action: FaultAction;
  matched: number;
  fired: number;
}

export class FaultStore {
  #rules: StoredRule[] = [];
  #nextId = 1;

  add(input: unknown): FaultRule {
    if (this.#rules.length >= MAX_RULES) throw new FaultRuleError(`at most ${MAX_RULES} fault rules can be active`);
    const parsed = parseFaultRule(input);
    const regex = parsed.pathRegex !== undefined ? toRegExp(parsed.pathRegex) : globToRegExp(parsed.path ?? "**");
    const rule: StoredRule = {
      id: `fault_${this.#nextId++}`,
      method: (parsed.method ?? "*").toUpperCase(),
      path: parsed.pathRegex !== undefined ? null : (parsed.path ?? "**"),
      pathRegex: parsed.pathRegex !== undefined ? regex.source : null,
      regex,
      times: parsed.times ?? 1,
      skip: parsed.skip ?? 0,
      action: parsed.action,
      matched: 0,
      fired: 0,
    };
    this.#rules.push(rule);
    return snapshot(rule);
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length !== before;
  }

  clear(): void {
    this.#rules = [];
  }

  list(): FaultRule[] {
    return this.#rules.map(snapshot);
  }

  /** Finds the fault for this request, counting it against the rule's shots. */
  take(method: string, path: string): FaultRule | undefined {
    const m = method.toUpperCase();
    for (const rule of this.#rules) {
      if (rule.method !== "*" && rule.method !== m) continue;
      if (!rule.regex.test(path)) continue;
      rule.matched++;
      if (rule.matched <= rule.skip) continue;
      rule.fired++;
      if (rule.times !== "always" && rule.fired >= rule.times) this.#rules = this.#rules.filter((r) => r !== rule);
      return snapshot(rule);
    }
    return undefined;
  }
}

function snapshot(rule: StoredRule): FaultRule {
  return {
    id: rule.id,
    method: rule.method,
    path: rule.path,
    pathRegex: rule.pathRegex,
    times: rule.times,
    skip: rule.skip,
    action: rule.action,
    matched: rule.matched,
    fired: rule.fired,
  };
}

export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*") {
      if (glob[i + 1] === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^/]*";
      }
    } else if (c === "?") {
      source += "[^/]";
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

function toRegExp(value: string | RegExp): RegExp {
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.replace(/[gy]/g, ""));
  try {
    return new RegExp(value);
  } catch (err) {
    throw new FaultRuleError(`pathRegex is not a valid regular expression: ${(err as Error).message}`);
  }
}

export function parseFaultRule(input: unknown): FaultRuleInput {
  if (!isRecord(input)) throw new FaultRuleError("a fault rule must be an object");
  const out: FaultRuleInput = { action: parseAction(input["action"]) };
  const method = input["method"];
  if (method !== undefined) {
    if (typeof method !== "string" || !/^(\*|[A-Za-z]+)$/.test(method)) throw new FaultRuleError("method must be an HTTP method or \"*\"");
    out.method = method;
  }
  const path = input["path"];
  if (path !== undefined) {
    if (typeof path !== "string" || path === "") throw new FaultRuleError("path must be a non-empty glob string");
    out.path = path;
  }
  const pathRegex = input["pathRegex"];
  if (pathRegex !== undefined) {
    if (typeof pathRegex !== "string" && !(pathRegex instanceof RegExp)) throw new FaultRuleError("pathRegex must be a string or RegExp");
    out.pathRegex = pathRegex;
  }
  const times = input["times"];
  if (times !== undefined) {
    if (times !== "always" && !(typeof times === "number" && Number.isInteger(times) && times >= 1)) {
      throw new FaultRuleError("times must be a positive integer or \"always\"");
    }
    out.times = times;
  }
  const skip = input["skip"];
  if (skip !== undefined) {
    if (!(typeof skip === "number" && Number.isInteger(skip) && skip >= 0)) throw new FaultRuleError("skip must be a non-negative integer");
    out.skip = skip;
  }
  return out;
}

function delayMs(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
    throw new FaultRuleError(`${field} must be a number of milliseconds between 0 and ${MAX_DELAY_MS}`);
  }
  return value;
}

function optionalBoolean(a: Record<string, unknown>, key: string): boolean | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new FaultRuleError(`action.${key} must be a boolean`);
  return v;
}

function parseAction(value: unknown): FaultAction {
  if (!isRecord(value)) throw new FaultRuleError("action must be an object with a type");
  const type = value["type"];
  switch (type) {
    case "status": {
      const status = value["status"];
      if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
        throw new FaultRuleError("action.status must be an HTTP status code");
      }
      const action: FaultAction = { type: "status", status };
      if (value["body"] !== undefined) action.body = value["body"];
      const rawBody = value["rawBody"];
      if (rawBody !== undefined) {
        if (typeof rawBody !== "string") throw new FaultRuleError("action.rawBody must be a string");
        action.rawBody = rawBody;
      }
      const contentType = value["contentType"];
      if (contentType !== undefined) {
        if (typeof contentType !== "string") throw new FaultRuleError("action.contentType must be a string");
        action.contentType = contentType;
      }
      const headers = value["headers"];
      if (headers !== undefined) {
        if (!isRecord(headers) || !Object.values(headers).every((h) => typeof h === "string")) {
          throw new FaultRuleError("action.headers must map header names to strings");
        }
        action.headers = headers as Record<string, string>;
      }
      const retryAfter = value["retryAfter"];
      if (retryAfter !== undefined) {
        if (retryAfter !== null && typeof retryAfter !== "string" && !(typeof retryAfter === "number" && retryAfter >= 0)) {
          throw new FaultRuleError("action.retryAfter must be seconds, a header value, or null");
        }
        action.retryAfter = retryAfter;
      }
      const after = optionalBoolean(value, "afterHandler");
      if (after !== undefined) action.afterHandler = after;
      return action;
    }
    case "latency":
      return { type: "latency", ms: delayMs(value["ms"], "action.ms") };
    case "stall": {
      const phase = value["phase"];
      if (phase !== undefined && phase !== "headers" && phase !== "body") throw new FaultRuleError("action.phase must be \"headers\" or \"body\"");
      return phase === undefined ? { type: "stall", ms: delayMs(value["ms"], "action.ms") } : { type: "stall", ms: delayMs(value["ms"], "action.ms"), phase };
    }
    case "drop": {
      const after = optionalBoolean(value, "afterHandler");
      return after === undefined ? { type: "drop" } : { type: "drop", afterHandler: after };
    }
    case "malformed": {
      const variant = value["variant"];
      if (typeof variant !== "string" || !(VARIANTS as readonly string[]).includes(variant)) {
        throw new FaultRuleError(`action.variant must be one of ${VARIANTS.join(", ")}`);
      }
      const action: FaultAction = { type: "malformed", variant: variant as MalformedVariant };
      const size = value["sizeBytes"];
      if (size !== undefined) {
        if (typeof size !== "number" || !Number.isInteger(size) || size < 2 || size > MAX_HUGE_BYTES) {
          throw new FaultRuleError(`action.sizeBytes must be an integer between 2 and ${MAX_HUGE_BYTES}`);
        }
        action.sizeBytes = size;
      }
      const fields = value["fields"];
      if (fields !== undefined) {
        if (!Array.isArray(fields) || !fields.every((f) => typeof f === "string")) throw new FaultRuleError("action.fields must be a list of strings");
        action.fields = fields as string[];
      }
      const contentType = value["contentType"];
      if (contentType !== undefined) {
        if (typeof contentType !== "string") throw new FaultRuleError("action.contentType must be a string");
        action.contentType = contentType;
      }
      const values = value["values"];
      if (variant === "replace") {
        if (!isRecord(values) || Object.keys(values).length === 0) throw new FaultRuleError('action.values must map dotted paths to values for variant "replace"');
        for (const path of Object.keys(values)) {
          // Rules arrive from an unauthenticated control API: no way into prototypes.
          if (path.split(".").some((segment) => segment === "" || segment === "__proto__" || segment === "constructor" || segment === "prototype")) {
            throw new FaultRuleError(`action.values: ${JSON.stringify(path)} is not a dotted path of plain keys`);
          }
        }
        action.values = values;
      } else if (values !== undefined) {
        throw new FaultRuleError('action.values only applies to variant "replace"');
      }
      return action;
    }
    default:
      throw new FaultRuleError("action.type must be one of status, latency, stall, drop, malformed");
  }
}

/**
 * The hostile version of a real response. "truncated" keeps the body and
 * asks the writer to cut the connection halfway through it.
 */
export function malform(res: EmulatorResponse, action: Extract<FaultAction, { type: "malformed" }>): { response: EmulatorResponse; truncate: boolean } {
  const headers: Record<string, string> = { ...(res.headers ?? {}) };
  if (action.contentType !== undefined) headers["content-type"] = action.contentType;
  switch (action.variant) {
    case "huge": {
      const size = action.sizeBytes ?? DEFAULT_HUGE_BYTES;
      const overhead = '{"padding":""}'.length;
      const padding = "a".repeat(Math.max(0, size - overhead));
      return {
        response: { status: res.status, headers: { "content-type": "application/json", ...headers }, rawBody: `{"padding":"${padding}"}` },
        truncate: false,
      };
    }
    case "wrong-types":
      return { response: { ...res, headers, body: res.body === undefined ? 0 : wrongTypes(res.body, 0) }, truncate: false };
    case "missing-fields":
      return { response: { ...res, headers, body: res.body === undefined ? {} : dropFields(res.body, action.fields, 0) }, truncate: false };
    case "not-json":
      return {
        response: {
          status: res.status,
          headers: { "content-type": "text/html; charset=utf-8", ...headers },
          rawBody: "<html><head><title>Oops</title></head><body><h1>Something went wrong</h1></body></html>",
        },
        truncate: false,
      };
    case "truncated":
      return { response: { ...res, headers }, truncate: true };
    case "empty":
      return { response: { status: res.status, headers, rawBody: "" }, truncate: false };
    case "replace":
      return { response: { ...res, headers, body: replaceAt(res.body, action.values ?? {}) }, truncate: false };
  }
}

/** A copy of the body with each dotted path set to its value; missing or scalar parents become objects. */
function replaceAt(body: unknown, values: Record<string, unknown>): unknown {
  const out: unknown = body === undefined ? {} : structuredClone(body);
  const root: Record<string, unknown> = isRecord(out) ? out : {};
  for (const [path, value] of Object.entries(values)) {
    const segments = path.split(".");
    let node = root;
    for (const segment of segments.slice(0, -1)) {
      const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (!isRecord(next)) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[segments.at(-1)!] = structuredClone(value);
  }
  return root;
}

const MAX_DEPTH = 64;

function wrongTypes(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return value;
  if (typeof value === "string") return value.length === 0 ? 0 : value.length;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null) return {};
  if (Array.isArray(value)) return value.map((v) => wrongTypes(v, depth + 1));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Containers turn into scalars at the top level so a reader that walks
      // into "data" or "api_key" trips as well.
      out[k] = depth === 0 && (Array.isArray(v) || isRecord(v)) ? "unexpected" : wrongTypes(v, depth + 1);
    }
    return out;
  }
  return value;
}

function dropFields(value: unknown, fields: string[] | undefined, depth: number): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => dropFields(v, fields, depth + 1));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  Object.entries(value).forEach(([k, v], index) => {
    const drop = fields === undefined ? index % 2 === 1 : fields.includes(k);
    if (!drop) out[k] = dropFields(v, fields, depth + 1);
  });
  return out;
}
