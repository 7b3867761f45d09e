// Paths: a pattern with named segments, typed fields and one handler per
// operation, as the Go SDK's framework.Path.
import type { ExistenceResult, JsonObject, Operation, Request, Response } from "../logical/types.ts";
import type { FieldData, FieldSchemas } from "./field-data.ts";

export type PathOperation = Extract<Operation, "create" | "read" | "update" | "patch" | "delete" | "list">;

export interface HandlerContext<B = unknown> {
  request: Request;
  fields: FieldData;
  backend: B;
}

export type Handler<B = unknown> = (ctx: HandlerContext<B>) => Promise<Response | undefined> | Response | undefined;

export interface OperationDefinition<B = unknown> {
  handler: Handler<B>;
  summary?: string;
  description?: string;
  /**
   * Send the request to the active node when it reaches a read-enabled
   * standby, before the handler runs, as the Go SDK's
   * ForwardPerformanceStandby. For operations that act on the provider and
   * must write: on a standby they would otherwise run against storage that
   * may lag the active node's, until their first write fails.
   */
  forwardPerformanceStandby?: boolean;
}

export interface DisplayAttributes {
  navigation?: boolean;
  itemType?: string;
  operationPrefix?: string;
  operationVerb?: string;
  operationSuffix?: string;
}

export interface PathDefinition<B = unknown> {
  /**
   * The path below the mount. "<name>" is a segment of letters, digits, "-",
   * "_" and "." (Go's GenericNameRegex); "<name*>" takes the rest of the path,
   * slashes included. A trailing "/?" also matches without the slash.
   */
  pattern: string;
  fields?: FieldSchemas;
  operations: Partial<Record<PathOperation, Handler<B> | OperationDefinition<B>>>;
  /** Decides create against update, so that ACL create and update differ. */
  existenceCheck?: (ctx: HandlerContext<B>) => Promise<boolean> | boolean;
  /** Accept fields the path does not declare, without a warning (e.g. free-form data). */
  takesArbitraryInput?: boolean;
  helpSynopsis?: string;
  helpDescription?: string;
  displayAttrs?: DisplayAttributes;
}

export interface CompiledPath<B = unknown> {
  definition: PathDefinition<B>;
  regex: RegExp;
  segments: string[];
}

const NAME = String.raw`\w(?:(?:[\w.-]+)?\w)?`;

export function compilePattern(pattern: string): { regex: RegExp; segments: string[] } {
  const segments: string[] = [];
  let source = "";
  let rest = pattern;
  while (rest.length > 0) {
    const open = rest.indexOf("<");
    if (open < 0) {
      source += escapeLiteral(rest);
      break;
    }
    const close = rest.indexOf(">", open);
    if (close < 0) throw new Error(`unclosed "<" in path pattern ${JSON.stringify(pattern)}`);
    source += escapeLiteral(rest.slice(0, open));
    const spec = rest.slice(open + 1, close);
    const greedy = spec.endsWith("*");
    const name = greedy ? spec.slice(0, -1) : spec;
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`bad segment name <${spec}> in path pattern ${JSON.stringify(pattern)}`);
    segments.push(name);
    source += `(?<${name}>${greedy ? ".+" : NAME})`;
    rest = rest.slice(close + 1);
  }
  return { regex: new RegExp(`^${source}$`), segments };
}

function escapeLiteral(s: string): string {
  // "/?" at the end is the one piece of pattern syntax kept from Go paths.
  const optionalSlash = s.endsWith("/?");
  const body = optionalSlash ? s.slice(0, -2) : s;
  return body.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + (optionalSlash ? "/?" : "");
}

export function operationHandler<B>(def: Handler<B> | OperationDefinition<B> | undefined): OperationDefinition<B> | undefined {
  if (def === undefined) return undefined;
  return typeof def === "function" ? { handler: def } : def;
}

export type { ExistenceResult, JsonObject };
