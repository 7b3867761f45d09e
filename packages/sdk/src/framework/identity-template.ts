// Identity templates, the {{identity.…}} syntax of Vault's templated ACL
// policies, with the Go SDK's strictness (framework.PopulateIdentityTemplate
// in ACL mode): a directive that finds nothing is an error, never "".
//
//   identity.entity.id | name | metadata.<key>
//   identity.entity.aliases.<mount accessor>.id | name | metadata.<key> | custom_metadata.<key>
//   identity.groups.ids.<group id>.name | metadata.<key>
//   identity.groups.names.<group name>.id | metadata.<key>
//   time.now | time.now.plus.<duration> | time.now.minus.<duration>  (Unix seconds)
import type { IdentityAlias, IdentityEntity, IdentityGroup, SystemView } from "../logical/types.ts";
import { parseDurationSeconds } from "./duration.ts";

/** What went wrong, as the Go SDK's identitytpl errors tell it apart. */
export type IdentityTemplateErrorCode = "unbalanced" | "value-not-found" | "no-entity" | "no-groups" | "wildcard" | "invalid-directive";

export class IdentityTemplateError extends Error {
  readonly code: IdentityTemplateErrorCode;
  constructor(code: IdentityTemplateErrorCode, message: string) {
    super(message);
    this.name = "IdentityTemplateError";
    this.code = code;
  }
}

const unbalanced = () => new IdentityTemplateError("unbalanced", "unbalanced templating characters");
const notFound = () => new IdentityTemplateError("value-not-found", "no value could be found for one of the template directives");
const invalid = (message: string) => new IdentityTemplateError("invalid-directive", message);

interface Piece {
  literal: string;
  directive?: string;
}

function parse(template: string): Piece[] {
  const parts = template.split("{{");
  if (parts[0]!.includes("}}")) throw unbalanced();
  const pieces: Piece[] = [{ literal: parts[0]! }];
  for (const part of parts.slice(1)) {
    const inner = part.split("}}");
    if (inner.length !== 2) throw unbalanced();
    pieces.push({ directive: inner[0]!.trim(), literal: inner[1]! });
  }
  return pieces;
}

/**
 * Whether the text is a well-formed template (balanced braces; directives are
 * checked when filled in, as in Go), and whether it has directives at all.
 */
export function validateIdentityTemplate(template: string): { hasDirectives: boolean } {
  try {
    return { hasDirectives: parse(template).length > 1 };
  } catch (err) {
    if (err instanceof IdentityTemplateError) throw new IdentityTemplateError(err.code, `failed to validate policy templating: ${err.message}`);
    throw err;
  }
}

function fromMap(map: Record<string, string>, key: string): string {
  if (!Object.hasOwn(map, key)) throw notFound();
  return map[key]!;
}

/** An id or a name that is empty has no value, as in Go. */
function present(value: string): string {
  if (value === "") throw notFound();
  return value;
}

function aliasValue(alias: IdentityAlias, selector: string): string {
  if (selector === "id") return present(alias.id);
  if (selector === "name") return present(alias.name);
  if (selector.startsWith("metadata.")) return fromMap(alias.metadata, selector.slice("metadata.".length));
  if (selector.startsWith("custom_metadata.")) return fromMap(alias.customMetadata, selector.slice("custom_metadata.".length));
  throw notFound();
}

function entityValue(entity: IdentityEntity, selector: string): string {
  if (selector === "id") return present(entity.id);
  if (selector === "name") return present(entity.name);
  if (selector.startsWith("metadata.")) return fromMap(entity.metadata, selector.slice("metadata.".length));
  if (selector.startsWith("aliases.")) {
    const rest = selector.slice("aliases.".length);
    const dot = rest.indexOf(".");
    if (dot < 0) throw invalid("invalid alias selector");
    const accessor = rest.slice(0, dot);
    const alias = entity.aliases.find((a) => a.mountAccessor === accessor);
    if (!alias) throw new IdentityTemplateError("value-not-found", "alias not found");
    return aliasValue(alias, rest.slice(dot + 1));
  }
  throw notFound();
}

function timeValue(selector: string, now: Date): string {
  const [what, operator, ...rest] = selector.split(".");
  const operand = rest.join(".");
  if (what !== "now") throw invalid(`invalid time selector "${what}"`);
  const seconds = Math.floor(now.getTime() / 1000);
  if (operator === undefined) return String(seconds);
  if (operand === "") throw invalid("missing time operand");
  const delta = parseDurationSeconds(operand);
  if (delta === undefined) throw invalid(`invalid duration: "${operand}"`);
  if (operator === "plus") return String(seconds + delta);
  if (operator === "minus") return String(seconds - delta);
  throw invalid(`invalid time operator "${operator}"`);
}

function groupValue(groups: IdentityGroup[], selector: string): string {
  const split = selector.indexOf(".");
  const by = selector.slice(0, split);
  if (split < 0 || (by !== "ids" && by !== "names")) throw invalid("invalid groups selector");
  const rest = selector.slice(split + 1);
  const dot = rest.indexOf(".");
  if (dot < 0) throw invalid("invalid groups accessor");
  const wanted = rest.slice(0, dot);
  const group = groups.find((g) => (by === "ids" ? g.id : g.name) === wanted);
  if (!group) throw new IdentityTemplateError("value-not-found", `entity is not a member of group "${wanted}"`);
  const field = rest.slice(dot + 1);
  if (field === "id") return group.id;
  if (field === "name") return present(group.name);
  if (field.startsWith("metadata.")) return fromMap(group.metadata, field.slice("metadata.".length));
  throw notFound();
}

/**
 * Fills in every directive from the entity and its groups. Any directive
 * without a value is an IdentityTemplateError, and so is a value holding "*"
 * or "+", which Go refuses in every template result.
 */
export function populateIdentityTemplate(template: string, identity: { entity?: IdentityEntity | undefined; groups?: IdentityGroup[] | undefined; now?: Date }): string {
  const groups = identity.groups ?? [];
  let out = "";
  for (const piece of parse(template)) {
    const d = piece.directive;
    if (d !== undefined) {
      let value: string;
      if (d.startsWith("identity.entity.")) {
        if (!identity.entity) throw new IdentityTemplateError("no-entity", "string contains entity template directives but no entity was provided");
        value = entityValue(identity.entity, d.slice("identity.entity.".length));
      } else if (d.startsWith("identity.groups.")) {
        if (groups.length === 0) throw new IdentityTemplateError("no-groups", "string contains groups template directives but no groups were provided");
        value = groupValue(groups, d.slice("identity.groups.".length));
      } else if (d.startsWith("time.")) {
        value = timeValue(d.slice("time.".length), identity.now ?? new Date());
      } else {
        throw notFound();
      }
      if (/[*+]/.test(value)) throw new IdentityTemplateError("wildcard", "globs and wildcards are not allowed in template result");
      out += value;
    }
    out += piece.literal;
  }
  return out;
}

/**
 * The template filled in for a request's entity, read from the server's
 * identity store; an entity id the store does not know is an error first.
 */
export async function resolveIdentityTemplate(template: string, entityId: string, system: SystemView): Promise<string> {
  const entity = await system.entityInfo(entityId);
  if (!entity) throw new IdentityTemplateError("no-entity", "no entity found");
  return populateIdentityTemplate(template, { entity, groups: await system.groupsForEntity(entityId) });
}
