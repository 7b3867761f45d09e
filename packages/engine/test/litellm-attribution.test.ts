// Attributing LiteLLM keys to the Vault caller, as benemon's plugin does:
// user_id_template and team_id_template, filled in from the caller's entity
// and groups. A template that cannot be filled in refuses the key, so no key
// is ever issued unattributed by accident.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { defineBackend, type IdentityEntity, type IdentityGroup, type Response } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../../tools/emulators/litellm/emulator.ts";
import { rejects400 } from "./support.ts";

const OIDC = "auth_oidc_5b7c1e2a";
const alice: IdentityEntity = {
  id: "ent-alice",
  name: "alice",
  metadata: {},
  disabled: false,
  namespaceId: "root",
  aliases: [{ id: "al-1", name: "alice@example.com", mountAccessor: OIDC, mountType: "oidc", metadata: {}, customMetadata: {}, namespaceId: "root", local: false }],
};
const projectX: IdentityGroup = { id: "grp-x", name: "project-x", metadata: { litellm_team_id: "team-42" }, namespaceId: "root" };
const nobody: IdentityEntity = { ...alice, id: "ent-nobody", name: "nobody", aliases: [] };
const withEmpty: IdentityEntity = { ...alice, id: "ent-empty", metadata: { empty: "" } };

/** An emulator, closed when the test ends, and a mount configured for it whose identity store knows the entities above. */
async function setUp(t: TestContext): Promise<{ tb: TestBackend; em: LiteLLMEmulator }> {
  const em = await startLiteLLMEmulator();
  t.after(() => em.close());
  const factory = defineBackend<EngineState>(engineDefinition, () => newEngineState());
  const tb = await TestBackend.create(factory, {
    system: { entities: { [alice.id]: alice, [nobody.id]: nobody, [withEmpty.id]: withEmpty }, groups: { [alice.id]: [projectX] } },
  });
  await tb.write("config", { url: em.baseUrl, admin_key: em.masterKey });
  return { tb, em };
}

async function issueAs(tb: TestBackend, entityId: string, role = "app"): Promise<Response> {
  const request = tb.makeRequest({ operation: "read", path: `creds/${role}` });
  request.entityId = entityId;
  return (await tb.backend.handleRequest(request))!;
}

async function keyInfo(em: LiteLLMEmulator, key: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${em.baseUrl}/key/info?key=${encodeURIComponent(key)}`, { headers: { Authorization: `Bearer ${em.masterKey}` } });
  return ((await res.json()) as { info: Record<string, unknown> }).info;
}

const keysAt = (em: LiteLLMEmulator) => (em.control.state() as { keys: unknown[] }).keys.length;

test("the key's user_id and team_id come from the caller's alias and group, as the templates say", async (t) => {
  const { tb, em } = await setUp(t);
  await tb.write("roles/app", {
    user_id_template: `{{identity.entity.aliases.${OIDC}.name}}`,
    team_id_template: "{{identity.groups.names.project-x.metadata.litellm_team_id}}",
  });
  const issued = await issueAs(tb, alice.id);
  const info = await keyInfo(em, String(issued.data?.["key"]));
  assert.equal(info["user_id"], "alice@example.com");
  assert.equal(info["team_id"], "team-42");
});

test("a user_id set on the role is used as it is, and its template is not consulted", async (t) => {
  const { tb, em } = await setUp(t);
  const written = await tb.write("roles/app", { user_id: "svc-batch", user_id_template: `{{identity.entity.aliases.${OIDC}.name}}` });
  assert.match(String(written?.warnings), /user_id is set, so user_id_template is not used/);
  const issued = await issueAs(tb, "");
  assert.equal((await keyInfo(em, String(issued.data?.["key"])))["user_id"], "svc-batch");
});

test("a caller without an entity is refused, and no key is created", async (t) => {
  const { tb, em } = await setUp(t);
  await tb.write("roles/app", { user_id_template: "{{identity.entity.name}}" });
  await rejects400(issueAs(tb, ""), /^user_id_template is set but the caller's token has no entity$/);
  assert.equal(keysAt(em), 0);
});

test("a template that does not resolve for the caller is refused, naming the template and why, and no key is created", async (t) => {
  const { tb, em } = await setUp(t);
  await tb.write("roles/app", { team_id_template: "{{identity.groups.names.project-x.metadata.litellm_team_id}}" });
  await rejects400(issueAs(tb, nobody.id), /^team_id_template "\{\{identity\.groups\.names\.project-x\.metadata\.litellm_team_id\}\}" did not resolve for this caller: .*no groups/);
  await tb.write("roles/app", { team_id_template: "", user_id_template: `{{identity.entity.aliases.${OIDC}.name}}` });
  await rejects400(issueAs(tb, nobody.id), /did not resolve for this caller: alias not found/);
  await rejects400(issueAs(tb, "ent-gone"), /did not resolve for this caller: no entity found/);
  assert.equal(keysAt(em), 0);
});

test("a template that resolves to an empty value is refused", async (t) => {
  const { tb } = await setUp(t);
  await tb.write("roles/app", { user_id_template: "{{identity.entity.metadata.empty}}" });
  await rejects400(issueAs(tb, withEmpty.id), /^user_id_template "\{\{identity\.entity\.metadata\.empty\}\}" resolved to an empty value for this caller$/);
});

test("a malformed template is refused when the role is written, naming the field", async (t) => {
  const { tb } = await setUp(t);
  await rejects400(tb.write("roles/app", { user_id_template: "{{identity.entity.name" }), /^"user_id_template": failed to validate policy templating: unbalanced templating characters$/);
});

test("the templates read back with the role", async (t) => {
  const { tb } = await setUp(t);
  await tb.write("roles/app", { team_id_template: "{{identity.groups.names.project-x.id}}" });
  const data = (await tb.read("roles/app"))!.data!;
  assert.equal(data["team_id_template"], "{{identity.groups.names.project-x.id}}");
  assert.equal(data["user_id_template"], "");
});
