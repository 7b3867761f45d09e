// Generates the API reference pages from each plugin's own OpenAPI document,
// obtained as the server obtains it: a "help" request on the mount's root
// path. Each path's long description comes from a "help" request on that
// path, which is what `vault path-help` shows. Nothing here is written by
// hand, so the pages cannot drift from the code; test/docs/api-reference.test.ts
// fails when a committed page differs from a fresh generation.
//
//   node tools/docs/api-reference.ts    (or: npm run docs)
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BackendFactory } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineBackend } from "../../packages/engine/src/backend.ts";
import { kvBackend } from "../../examples/kv/src/backend.ts";
import { githubSlug } from "./check.ts";

export const ROOT = join(import.meta.dirname, "..", "..");

/** One page to generate: which plugin, under what name, into which file. */
export interface ReferenceSpec {
  /** Repository-relative path of the generated page. */
  file: string;
  /** The plugin's catalog name, used in the title and as the OpenAPI prefix. */
  pluginName: string;
  factory: BackendFactory;
  /** Example mount path used in the HTTP column, without slashes. */
  exampleMount: string;
  /** Where readers find what reads return, when the document does not say. */
  responsesNote?: string;
}

export const REFERENCES: readonly ReferenceSpec[] = [
  {
    file: "docs/api.md",
    pluginName: "vault-plugin-secrets-ai",
    factory: engineBackend,
    exampleMount: "openai",
    responsesNote:
      "What `config`, `roles/{name}` and `creds/{name}` return for each provider is on the provider pages: " +
      "[OpenAI](providers/openai.md), [LiteLLM](providers/litellm.md), [OpenRouter](providers/openrouter.md).",
  },
  { file: "docs/api-example-kv.md", pluginName: "vault-plugin-example-kv", factory: kvBackend, exampleMount: "kv" },
];

// The subset of OpenAPI 3.0 the framework emits, read defensively from the
// help response: anything else in the document is ignored, not trusted.
interface Schema {
  type?: string;
  format?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  deprecated?: boolean;
  "x-vault-lowercase"?: boolean;
  "x-vault-displayAttrs"?: { name?: string; sensitive?: boolean };
}

interface Parameter {
  name: string;
  in: string;
  description?: string;
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

interface PathItem {
  description?: string;
  parameters?: Parameter[];
  "x-vault-sudo"?: boolean;
  "x-vault-unauthenticated"?: boolean;
  get?: Operation;
  post?: Operation;
  patch?: Operation;
  delete?: Operation;
}

export interface OpenApiDoc {
  openapi: string;
  info: { title?: string; description?: string; version?: string };
  paths: Record<string, PathItem>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asOpenApi(value: unknown): OpenApiDoc {
  if (!isRecord(value) || typeof value["openapi"] !== "string" || !isRecord(value["paths"]) || !isRecord(value["info"])) {
    throw new Error("the help response holds no OpenAPI document");
  }
  return value as unknown as OpenApiDoc;
}

/** What a plugin tells the server about itself: its OpenAPI document and each path's help description. */
export interface PluginDescription {
  doc: OpenApiDoc;
  /** Long descriptions by OpenAPI path, where the path has one beyond its synopsis. */
  descriptions: Map<string, string>;
}

/** A concrete request path matching an OpenAPI path: "/roles/{name}" becomes "roles/example". */
function concretePath(openApiPath: string): string {
  return openApiPath.slice(1).replace(/\{\w+\}/g, "example");
}

export async function describePlugin(factory: BackendFactory, pluginName: string): Promise<PluginDescription> {
  const tb = await TestBackend.create(factory, { mountPoint: "example/" });
  const help = (path: string) => tb.backend.handleRequest(tb.makeRequest({ operation: "help", path, data: { requestResponsePrefix: pluginName } }));
  const root = await help("");
  const doc = asOpenApi(root?.data?.["openapi"]);
  const descriptions = new Map<string, string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    const res = await help(concretePath(path));
    // The path's own help must describe the same path, or the example
    // request was routed to another pattern and its text is not this one's.
    const own = res?.data?.["openapi"];
    if (!isRecord(own) || !isRecord(own["paths"]) || !(path in own["paths"])) throw new Error(`help for ${concretePath(path)} does not describe ${path}`);
    const text = typeof res?.data?.["help"] === "string" ? res.data["help"] : "";
    const description = text.split("\n## DESCRIPTION\n")[1]?.trim() ?? "";
    if (description && description !== item.description?.trim()) descriptions.set(path, description);
  }
  return { doc, descriptions };
}

// Markdown table cells: one line, no unescaped pipes.
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|").trim();
}

function code(text: string): string {
  const ticks = text.includes("`") ? "``" : "`";
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

export function typeLabel(schema: Schema | undefined): string {
  if (!schema?.type) return "";
  if (schema.type === "array") return `array of ${typeLabel(schema.items) || "any"}`;
  if (schema.format === "duration") return "duration";
  if (schema.format === "kvpairs") return "key=value pairs";
  return schema.format ? `${schema.type} (${schema.format})` : schema.type;
}

function durationNote(schema: Schema | undefined): string {
  return schema?.format === "duration" ? "Seconds, or a duration string such as `90s`, `15m`, `24h`." : "";
}

function parameterNotes(schema: Schema | undefined, required: boolean): string {
  const notes: string[] = [];
  if (schema?.description) notes.push(schema.description.trim());
  const duration = durationNote(schema);
  if (duration) notes.push(duration);
  if (schema?.enum?.length) notes.push(`One of ${schema.enum.map((v) => code(String(v))).join(", ")}.`);
  if (schema?.["x-vault-lowercase"]) notes.push("Lowercased.");
  if (schema?.["x-vault-displayAttrs"]?.sensitive) notes.push("Sensitive.");
  if (schema?.deprecated) notes.push("Deprecated.");
  if (required) notes.push("Required.");
  return notes.join(" ");
}

function defaultLabel(schema: Schema | undefined): string {
  return schema?.default === undefined ? "" : code(JSON.stringify(schema.default));
}

interface ParameterRow {
  name: string;
  where: string;
  schema: Schema | undefined;
  required: boolean;
}

function parameterTable(rows: ParameterRow[]): string[] {
  const withDefaults = rows.some((r) => r.schema?.default !== undefined);
  const head = withDefaults ? ["| Name | In | Type | Default | Description |", "|---|---|---|---|---|"] : ["| Name | In | Type | Description |", "|---|---|---|---|"];
  return [
    ...head,
    ...rows.map((r) => {
      const cols = [code(r.name), r.where, typeLabel(r.schema), ...(withDefaults ? [defaultLabel(r.schema)] : []), parameterNotes(r.schema, r.required)];
      return `| ${cols.map(cell).join(" | ")} |`;
    }),
  ];
}

const METHODS = ["get", "post", "patch", "delete"] as const;
type Method = (typeof METHODS)[number];

/** The Vault operation a method stands for: GET with ?list=true is a list. */
function operationName(method: Method, op: Operation): string {
  if (method === "get") return op.parameters?.some((p) => p.name === "list" && p.in === "query") ? "list" : "read";
  if (method === "post") return "write";
  return method;
}

function requestSchema(op: Operation): Schema | undefined {
  const content = op.requestBody?.content ?? {};
  return Object.values(content)[0]?.schema;
}

function responseNotes(op: Operation): string {
  return Object.entries(op.responses ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, r]) => {
      const fields = Object.keys(Object.values(r.content ?? {})[0]?.schema?.properties ?? {});
      return `${code(status)} ${r.description ?? ""}${fields.length ? ` with ${fields.map(code).join(", ")}` : ""}`.trim();
    })
    .join("; ");
}

/** Whether no operation declares more than a bare "200 OK": then the column would say nothing. */
function onlyBareResponses(doc: OpenApiDoc): boolean {
  return Object.values(doc.paths).every((item) =>
    METHODS.every((m) => {
      const responses = Object.entries(item[m]?.responses ?? {});
      return responses.every(([status, r]) => status === "200" && (r.description ?? "OK") === "OK" && !r.content);
    }),
  );
}

function displayPath(openApiPath: string): string {
  return openApiPath.slice(1);
}

export function renderApiReference(spec: ReferenceSpec, plugin: PluginDescription): string {
  const { doc, descriptions } = plugin;
  const out: string[] = [];
  out.push(`# API reference: ${spec.pluginName}`, "");
  out.push(`<!-- Generated by tools/docs/api-reference.ts from the plugin's OpenAPI document. Do not edit by hand: run \`npm run docs\`. -->`, "");
  if (doc.info.description) out.push(doc.info.description.trim(), "");
  out.push(
    `Version ${code(doc.info.version ?? "")}. This page is generated from the OpenAPI document the plugin returns to the server ` +
      "(the server merges it into `sys/internal/specs/openapi`), and from each path's help text (`vault path-help`). " +
      `Paths are relative to the mount; the HTTP column shows them under an example mount ${code(spec.exampleMount + "/")}. ` +
      "Fields of a write go in the JSON body or as `key=value` arguments of `vault write`; path segments in braces are part of the URL.",
    "",
  );

  const bare = onlyBareResponses(doc);
  if (bare) {
    out.push(
      "The document declares no response fields: every operation is documented as `200 OK` (the server answers `204 No Content` when the plugin returns nothing)." +
        (spec.responsesNote ? ` ${spec.responsesNote}` : ""),
      "",
    );
  }

  const entries = Object.entries(doc.paths);
  out.push("| Path | Operations | Summary |", "|---|---|---|");
  for (const [path, item] of entries) {
    const ops = METHODS.filter((m) => item[m]).map((m) => operationName(m, item[m]!));
    const title = code(displayPath(path));
    out.push(`| [${cell(title)}](#${githubSlug(title)}) | ${ops.join(", ")} | ${cell(item.description ?? "")} |`);
  }
  out.push("");

  for (const [path, item] of entries) {
    out.push(`## ${code(displayPath(path))}`, "");
    if (item.description) out.push(item.description.trim(), "");
    const long = descriptions.get(path);
    if (long) out.push(long, "");
    const access: string[] = [];
    if (item["x-vault-sudo"]) access.push("Needs a token with `sudo` on this path (a root path of the plugin).");
    if (item["x-vault-unauthenticated"]) access.push("Answers without a token.");
    if (access.length) out.push(access.join(" "), "");

    out.push(bare ? "| Operation | HTTP | Summary |" : "| Operation | HTTP | Summary | Responses |", bare ? "|---|---|---|" : "|---|---|---|---|");
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const query = operationName(method, op) === "list" ? "?list=true" : "";
      const http = code(`${method.toUpperCase()} /v1/${spec.exampleMount}${path}${query}`);
      const summary = cell([op.summary ?? "", op.description ?? ""].filter(Boolean).join(" "));
      out.push(`| ${operationName(method, op)} | ${http} | ${summary} |${bare ? "" : ` ${cell(responseNotes(op))} |`}`);
    }
    out.push("");

    // Path segments once, then the fields of each operation that takes a body.
    const rows: ParameterRow[] = (item.parameters ?? []).map((p) => ({ name: p.name, where: "path", schema: { ...p.schema, description: p.description ?? "" }, required: false }));
    const bodies = METHODS.filter((m) => item[m] && requestSchema(item[m]!));
    for (const method of bodies) {
      const op = item[method]!;
      const body = requestSchema(op);
      const where = bodies.length > 1 ? `body (${operationName(method, op)})` : "body";
      for (const [name, schema] of Object.entries(body?.properties ?? {})) rows.push({ name, where, schema, required: body?.required?.includes(name) === true });
    }
    for (const method of METHODS) {
      for (const p of item[method]?.parameters ?? []) {
        if (p.name === "list" && p.in === "query") continue;
        rows.push({ name: p.name, where: p.in, schema: { ...p.schema, description: p.description ?? "" }, required: p.required === true });
      }
    }
    if (rows.length > 0) out.push(...parameterTable(rows), "");
    else out.push("No parameters.", "");
  }
  return out.join("\n").replace(/\n+$/, "\n");
}

/** Every generated page with its fresh content. */
export async function generateReferences(): Promise<Array<{ file: string; content: string }>> {
  const pages: Array<{ file: string; content: string }> = [];
  for (const spec of REFERENCES) {
    pages.push({ file: spec.file, content: renderApiReference(spec, await describePlugin(spec.factory, spec.pluginName)) });
  }
  return pages;
}

if (import.meta.main) {
  for (const page of await generateReferences()) {
    await writeFile(join(ROOT, page.file), page.content);
    process.stdout.write(`wrote ${page.file}\n`);
  }
}
