// The OpenAPI document a backend returns for "help" at its root. The server
// merges it into sys/internal/specs/openapi (NewOASDocumentFromMap), so its
// shape follows what the Go SDK's framework emits: OpenAPI 3.0, one path
// entry per pattern with path parameters, and operations per HTTP method.
import type { CompiledPath, PathOperation } from "./path.ts";
import { operationHandler } from "./path.ts";
import type { FieldSchema, FieldType } from "./fields.ts";

export type OpenApiDocument = {
  openapi: string;
  info: { title: string; description: string; version: string; license: { name: string } };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};

function schemaFor(type: FieldType): Record<string, unknown> {
  switch (type) {
    case "string":
    case "name-string":
      return { type: "string" };
    case "lowercase-string":
      return { type: "string", "x-vault-lowercase": true };
    case "int":
      return { type: "integer" };
    case "int64":
      return { type: "integer", format: "int64" };
    case "bool":
      return { type: "boolean" };
    case "float":
      return { type: "number" };
    case "duration":
      return { type: "string", format: "duration" };
    case "comma-string-slice":
    case "string-slice":
      return { type: "array", items: { type: "string" } };
    case "kv-pairs":
      return { type: "object", format: "kvpairs" };
    case "map":
    case "header":
      return { type: "object" };
    case "time":
      return { type: "string", format: "date-time" };
  }
}

function propertyFor(field: FieldSchema): Record<string, unknown> {
  const prop: Record<string, unknown> = { ...schemaFor(field.type) };
  if (field.description) prop["description"] = field.description;
  if (field.default !== undefined) prop["default"] = field.default;
  if (field.allowedValues) prop["enum"] = [...field.allowedValues];
  if (field.deprecated) prop["deprecated"] = true;
  const display: Record<string, unknown> = {};
  if (field.displayName) display["name"] = field.displayName;
  if (field.displayGroup) display["group"] = field.displayGroup;
  if (field.sensitive) display["sensitive"] = true;
  if (Object.keys(display).length > 0) prop["x-vault-displayAttrs"] = display;
  return prop;
}

function openApiPath(pattern: string): string {
  return "/" + pattern.replace(/\/\?$/, "/").replace(/<(\w+)\*?>/g, "{$1}");
}

function pascal(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

const METHOD: Record<PathOperation, string> = {
  read: "get",
  list: "get",
  create: "post",
  update: "post",
  patch: "patch",
  delete: "delete",
};

export function buildOpenApi(options: {
  paths: CompiledPath<unknown>[];
  prefix: string;
  description: string;
  version: string;
  sudoPaths: string[];
  unauthenticatedPaths: string[];
}): OpenApiDocument {
  const doc: OpenApiDocument = {
    openapi: "3.0.2",
    info: { title: "HashiCorp Vault API", description: options.description, version: options.version, license: { name: "Mozilla Public License 2.0" } },
    paths: {},
    components: { schemas: {} },
  };
  const prefix = pascal(options.prefix);
  for (const compiled of options.paths) {
    const def = compiled.definition;
    const path = openApiPath(def.pattern);
    const pathItem: Record<string, unknown> = {};
    if (def.helpSynopsis) pathItem["description"] = def.helpSynopsis.trim();
    const fields = def.fields ?? {};
    const parameters = compiled.segments.map((name) => ({
      name,
      description: fields[name]?.description ?? name,
      in: "path",
      schema: { type: "string" },
      required: true,
    }));
    if (parameters.length > 0) pathItem["parameters"] = parameters;
    const bare = def.pattern.replace(/\/?\??$/, "");
    if (options.sudoPaths.some((p) => (p.endsWith("*") ? bare.startsWith(p.slice(0, -1)) : p === bare))) pathItem["x-vault-sudo"] = true;
    if (options.unauthenticatedPaths.includes(bare)) pathItem["x-vault-unauthenticated"] = true;

    const bodyFields = Object.entries(fields).filter(([name]) => !compiled.segments.includes(name));
    const opBase = prefix + pascal(bare.replace(/<\w+\*?>/g, ""));
    for (const op of ["read", "list", "create", "update", "patch", "delete"] as const) {
      const handler = operationHandler(def.operations[op]);
      if (!handler) continue;
      const method = METHOD[op];
      if (op === "create" && def.operations.update) continue;
      if (pathItem[method] && op !== "list") continue;
      const operation: Record<string, unknown> = {
        summary: handler.summary ?? def.helpSynopsis?.trim() ?? "",
        operationId: `${op === "list" ? "list" : op === "read" ? "read" : op === "delete" ? "delete" : op === "patch" ? "patch" : "write"}${opBase}`,
        tags: ["secrets"],
        responses: { "200": { description: "OK" } },
      };
      if (handler.description) operation["description"] = handler.description;
      if (op === "list") {
        operation["parameters"] = [{ name: "list", description: "Must be set to `true`", required: true, in: "query", schema: { type: "string", enum: ["true"] } }];
        if (pathItem["get"]) continue;
      }
      if (method === "post" || method === "patch") {
        const schemaName = `${opBase}Request`;
        const required = bodyFields.filter(([, f]) => f.required).map(([n]) => n);
        const properties = Object.fromEntries(bodyFields.map(([n, f]) => [n, propertyFor(f)]));
        const schema = { type: "object", properties, ...(required.length ? { required } : {}) };
        doc.components.schemas[schemaName] = schema;
        // Inline, not a $ref as the Go SDK writes it: the server decodes a
        // plugin's document with mapstructure, and OASSchema's Ref field has
        // no mapstructure tag, so a $ref arrives empty and the merged
        // document loses every field of every external plugin's request.
        operation["requestBody"] = {
          required: true,
          content: { [method === "patch" ? "application/merge-patch+json" : "application/json"]: { schema } },
        };
      }
      pathItem[method] = operation;
    }
    doc.paths[path] = pathItem;
  }
  return doc;
}
