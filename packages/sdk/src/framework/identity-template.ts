// Identity templates, the {{identity.…}} syntax of Vault's templated ACL
// policies, with the Go SDK's strictness (framework.PopulateIdentityTemplate
// in ACL mode): a directive that finds nothing is an error, never "".
//
//   identity.entity.id | name | metadata.<key>
//   identity.entity.aliases.<mount accessor>.id | name | metadata.<key> | custom_metadata.<key>
//   identity.groups.ids.<group id>.name | metadata.<key>
//   identity.groups.names.<group name>.id | metadata.<key>
import type { IdentityAlias, IdentityEntity, IdentityGroup, SystemView } from "../logical/types.ts";

export class IdentityTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityTemplateError";
  }
}

const UNBALANCED = "unbalanced templating characters";
const NOT_FOUND = "no value could be found for one of the template directives";

interface Piece {
  literal: string;
  directive?: string;
}

function parse(template: string): Piece[] {
  const parts = template.split("{{");
  if (parts[0]!.includes("}}")) throw new IdentityTemplateError(UNBALANCED);
  const pieces: Piece[] = [{ literal: parts[0]! }];
  for (const part of parts.slice(1)) {
    const inner = part.split("}}");
    if (inner.length !== 2) throw new IdentityTemplateError(UNBALANCED);
    pieces.push({ directive: inner[0]!.trim(), literal: inner[1]! });
  }
  return pieces;
}

/** Whether the text is a well-formed template, and whether it has directives at all. Checked at write time. */
export function validateIdentityTemplate(template: string): { hasDirectives: boolean } {
  return { hasDirectives: parse(template).length > 1 };
}

function fromMap(map: Record<string, string>, key: string): string {
  if (!Object.hasOwn(map, key)) throw new IdentityTemplateError(NOT_FOUND);
  return map[key]!;
}

function aliasValue(alias: IdentityAlias, selector: string): string {
  if (selector === "id") return alias.id;
  if (selector === "name") return alias.name;
  if (selector.startsWith("metadata.")) return fromMap(alias.metadata, selector.slice("metadata.".length));
  if (selector.startsWith("custom_metadata.")) return fromMap(alias.customMetadata, selector.slice("custom_metadata.".length));
  throw new IdentityTemplateError(NOT_FOUND);
}

function entityValue(entity: IdentityEntity, selector: string): string {
  if (selector === "id") return entity.id;
  if (selector === "name") return entity.name;
  if (selector.startsWith("metadata.")) return fromMap(entity.metadata, selector.slice("metadata.".length));
  if (selector.startsWith("aliases.")) {
    const rest = selector.slice("aliases.".length);
    const dot = rest.indexOf(".");
    if (dot < 0) throw new IdentityTemplateError("invalid alias selector");
    const accessor = rest.slice(0, dot);
    const alias = entity.aliases.find((a) => a.mountAccessor === accessor);
    if (!alias) throw new IdentityTemplateError(`the entity has no alias on mount accessor "${accessor}"`);
    return aliasValue(alias, rest.slice(dot + 1));
  }
  throw new IdentityTemplateError(NOT_FOUND);
}

function groupValue(groups: IdentityGroup[], selector: string): string {
  const split = selector.indexOf(".");
  const by = selector.slice(0, split);
  if (split < 0 || (by !== "ids" && by !== "names")) throw new IdentityTemplateError("invalid groups selector");
  const rest = selector.slice(split + 1);
  const dot = rest.indexOf(".");
  if (dot < 0) throw new IdentityTemplateError("invalid groups accessor");
  const wanted = rest.slice(0, dot);
  const group = groups.find((g) => (by === "ids" ? g.id : g.name) === wanted);
  if (!group) throw new IdentityTemplateError(`entity is not a member of group "${wanted}"`);
  const field = rest.slice(dot + 1);
  if (field === "id") return group.id;
  if (field === "name") {
    if (!group.name) throw new IdentityTemplateError(NOT_FOUND);
    return group.name;
  }
  if (field.startsWith("metadata.")) return fromMap(group.metadata, field.slice("metadata.".length));
  throw new IdentityTemplateError(NOT_FOUND);
}

/** Fills in every directive from the entity and its groups; any directive without a value is an IdentityTemplateError. */
export function populateIdentityTemplate(template: string, identity: { entity: IdentityEntity | undefined; groups: IdentityGroup[] }): string {
  let out = "";
  for (const piece of parse(template)) {
    const d = piece.directive;
    if (d !== undefined) {
      if (d.startsWith("identity.entity.")) {
        if (!identity.entity) throw new IdentityTemplateError("string contains entity template directives but no entity was provided");
        out += entityValue(identity.entity, d.slice("identity.entity.".length));
      } else if (d.startsWith("identity.groups.")) {
        if (identity.groups.length === 0) throw new IdentityTemplateError("string contains groups template directives but no groups were provided");
        out += groupValue(identity.groups, d.slice("identity.groups.".length));
      } else {
        throw new IdentityTemplateError(NOT_FOUND);
      }
    }
    out += piece.literal;
  }
  return out;
}

/** The template filled in for a request's entity, read from the server's identity store. */
export async function resolveIdentityTemplate(template: string, entityId: string, system: SystemView): Promise<string> {
  const [entity, groups] = await Promise.all([system.entityInfo(entityId), system.groupsForEntity(entityId)]);
  return populateIdentityTemplate(template, { entity, groups });
}
