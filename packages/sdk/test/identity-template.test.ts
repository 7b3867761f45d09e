// Identity templates as Vault's templated policies read them: each directive
// resolves from the caller's entity and groups, and one that finds nothing is
// an error rather than an empty string.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdentityTemplateError, populateIdentityTemplate, resolveIdentityTemplate, validateIdentityTemplate, type IdentityEntity, type IdentityGroup } from "../src/index.ts";
import { StaticSystemView } from "../src/testing/index.ts";

const entity: IdentityEntity = {
  id: "ent-1",
  name: "alice",
  metadata: { team: "blue" },
  disabled: false,
  namespaceId: "root",
  aliases: [
    { id: "al-1", name: "alice@example.com", mountAccessor: "auth_oidc_5b7c1e2a", mountType: "oidc", metadata: { sub: "123" }, customMetadata: { cost_center: "cc-9" }, namespaceId: "root", local: false },
  ],
};
const groups: IdentityGroup[] = [{ id: "grp-1", name: "project-x", metadata: { litellm_team_id: "team-42" }, namespaceId: "root" }];
const fill = (template: string) => populateIdentityTemplate(template, { entity, groups });
const refuses = (template: string, message: RegExp, identity: { entity?: IdentityEntity; groups?: IdentityGroup[] } = { entity, groups }) =>
  assert.throws(() => populateIdentityTemplate(template, identity), (err: unknown) => err instanceof IdentityTemplateError && message.test(err.message));

test("entity directives resolve to the entity's id, name and metadata", () => {
  assert.equal(fill("{{identity.entity.id}}/{{ identity.entity.name }}/{{identity.entity.metadata.team}}"), "ent-1/alice/blue");
});

test("alias directives pick the alias on the named mount accessor", () => {
  assert.equal(fill("{{identity.entity.aliases.auth_oidc_5b7c1e2a.name}}"), "alice@example.com");
  assert.equal(fill("{{identity.entity.aliases.auth_oidc_5b7c1e2a.id}}"), "al-1");
  assert.equal(fill("{{identity.entity.aliases.auth_oidc_5b7c1e2a.metadata.sub}}"), "123");
  assert.equal(fill("{{identity.entity.aliases.auth_oidc_5b7c1e2a.custom_metadata.cost_center}}"), "cc-9");
});

test("group directives find the group by name or by id", () => {
  assert.equal(fill("{{identity.groups.names.project-x.metadata.litellm_team_id}}"), "team-42");
  assert.equal(fill("{{identity.groups.names.project-x.id}}"), "grp-1");
  assert.equal(fill("{{identity.groups.ids.grp-1.name}}"), "project-x");
});

test("text around directives is kept, and a template without directives is returned as it is", () => {
  assert.equal(fill("user-{{identity.entity.name}}-x"), "user-alice-x");
  assert.equal(fill("plain"), "plain");
});

test("a directive that finds nothing is an error, not an empty string", () => {
  refuses("{{identity.entity.metadata.missing}}", /no value could be found/);
  refuses("{{identity.entity.aliases.auth_other.name}}", /^alias not found$/);
  refuses("{{identity.groups.names.nobody.id}}", /not a member of group "nobody"/);
  refuses("{{identity.entity.unknown}}", /no value could be found/);
  refuses("{{identity.other}}", /no value could be found/);
});

test("entity directives without an entity, or group directives without groups, say so", () => {
  refuses("{{identity.entity.id}}", /no entity was provided/, { entity: undefined, groups: [] });
  refuses("{{identity.groups.names.project-x.id}}", /no groups were provided/, { entity, groups: [] });
});

test("unbalanced braces are refused when the template is checked", () => {
  for (const bad of ["{{identity.entity.id", "identity.entity.id}}", "{{a}}}}", "{{ {{identity.entity.id}} }}"]) {
    assert.throws(() => validateIdentityTemplate(bad), /failed to validate policy templating: unbalanced templating characters/, bad);
  }
  assert.deepEqual(validateIdentityTemplate("{{identity.entity.id}}"), { hasDirectives: true });
  assert.deepEqual(validateIdentityTemplate("static"), { hasDirectives: false });
});

test("resolveIdentityTemplate reads the entity and its groups from the system view, and an unknown entity is an error even for a static template", async () => {
  const system = new StaticSystemView({ entities: { "ent-1": entity }, groups: { "ent-1": groups } });
  assert.equal(await resolveIdentityTemplate("{{identity.entity.name}}:{{identity.groups.names.project-x.metadata.litellm_team_id}}", "ent-1", system), "alice:team-42");
  await assert.rejects(resolveIdentityTemplate("static", "ent-unknown", system), /no entity found/);
});

test("a value holding * or + is refused, as Go refuses globs in every template result", () => {
  const plus = { ...entity, name: "alice+ai" };
  assert.throws(
    () => populateIdentityTemplate("{{identity.entity.name}}", { entity: plus }),
    (err: unknown) => err instanceof IdentityTemplateError && err.code === "wildcard" && /globs and wildcards are not allowed/.test(err.message),
  );
});

test("an empty entity name or alias name has no value, as in Go", () => {
  refuses("x-{{identity.entity.name}}-y", /no value could be found/, { entity: { ...entity, name: "" }, groups });
});

test("time directives give Unix seconds, now or shifted by a duration", () => {
  const now = new Date(Date.UTC(2026, 10, 23, 12, 0, 0));
  const at = (t: string) => populateIdentityTemplate(t, { now });
  assert.equal(at("{{time.now}}"), String(now.getTime() / 1000));
  assert.equal(at("{{time.now.plus.1h}}"), String(now.getTime() / 1000 + 3600));
  assert.equal(at("{{time.now.minus.90}}"), String(now.getTime() / 1000 - 90));
  assert.throws(() => at("{{time.now.plus}}"), /missing time operand/);
  assert.throws(() => at("{{time.now.times.1h}}"), /invalid time operator "times"/);
  assert.throws(() => at("{{time.now.plus.soon}}"), /invalid duration/);
  assert.throws(() => at("{{time.later}}"), /invalid time selector "later"/);
});

test("each error says which kind it is", () => {
  const kinds = ["{{identity.entity.metadata.x}}", "{{identity.groups.names.g.id}}"].map((t) => {
    try {
      populateIdentityTemplate(t, { entity, groups: [] });
      return "none";
    } catch (err) {
      return (err as IdentityTemplateError).code;
    }
  });
  assert.deepEqual(kinds, ["value-not-found", "no-groups"]);
});
