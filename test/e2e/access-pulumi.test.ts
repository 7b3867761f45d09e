// The Pulumi example (examples/access/pulumi) run under Pulumi's mocks: what
// it declares, checked against the policy files it is meant to load. No
// engine, no server; the policies themselves are enforced in access-*.test.ts.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { declaredResources, type DeclaredResource } from "../../examples/access/pulumi/mocks.ts";
import { POLICY_DIR } from "./access-scenario.ts";

// How a secret input looks to a mock: Pulumi's secret signature around the value.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function reveal(v: unknown): unknown {
  return typeof v === "object" && v !== null && SECRET_SIG in v ? (v as Record<string, unknown>)["value"] : v;
}

describe("the Pulumi access example under mocks", () => {
  let declared: DeclaredResource[];
  const ofType = (type: string) => declared.filter((r) => r.type === type);
  const policyFiles = readdirSync(POLICY_DIR).filter((f) => f.endsWith(".hcl"));

  before(async () => {
    declared = await declaredResources({
      pluginSha256: "0".repeat(64),
      openaiProjectId: "proj_example",
      openaiAdminApiKey: "sk-admin-example",
      openaiAdminApiKeyId: "key_example",
      openaiOrganizationId: "org-example",
      litellmBaseUrl: "http://127.0.0.1:4000",
      oidcDiscoveryUrl: "https://idp.example",
      oidcClientId: "vault-client",
      oidcClientSecret: "client-secret",
    });
  });

  test("every policy file becomes a policy named after it, with the file's text", () => {
    const policies = ofType("vault:index/policy:Policy");
    assert.deepEqual(policies.map((p) => p.inputs["name"]).sort(), policyFiles.map((f) => f.slice(0, -4)).sort());
    for (const p of policies) assert.equal(p.inputs["policy"], readFileSync(join(POLICY_DIR, `${String(p.inputs["name"])}.hcl`), "utf8"));
  });

  test("every identity-provider group is an external group holding example policies", () => {
    const groups = ofType("vault:identity/group:Group");
    assert.ok(groups.length >= 1);
    const names = new Set(policyFiles.map((f) => f.slice(0, -4)));
    for (const g of groups) {
      assert.equal(g.inputs["type"], "external");
      const policies = g.inputs["policies"] as string[];
      assert.ok(policies.length > 0 && policies.every((p) => names.has(p)), `${g.name}: ${policies.join(", ")}`);
    }
  });

  test("each group alias carries the group's name as the claim has it, on the OIDC backend, pointing at its group", () => {
    const backend = ofType("vault:jwt/authBackend:AuthBackend");
    assert.equal(backend.length, 1);
    assert.equal(backend[0]!.inputs["type"], "oidc");
    const groups = ofType("vault:identity/group:Group");
    const aliases = ofType("vault:identity/groupAlias:GroupAlias");
    assert.equal(aliases.length, groups.length);
    for (const a of aliases) {
      const group = groups.find((g) => `${g.name}-id` === a.inputs["canonicalId"]);
      assert.ok(group, `${a.name} points at no declared group`);
      assert.equal(group.inputs["name"], `idp-${String(a.inputs["name"])}`);
      assert.equal(a.inputs["mountAccessor"], `${backend[0]!.name}-accessor`);
    }
  });

  test("the login role takes groups from the groups claim and grants only the default policy itself", () => {
    const roles = ofType("vault:jwt/authBackendRole:AuthBackendRole");
    assert.equal(roles.length, 1);
    assert.equal(roles[0]!.inputs["groupsClaim"], "groups");
    assert.deepEqual(roles[0]!.inputs["tokenPolicies"], ["default"]);
    assert.deepEqual(roles[0]!.inputs["boundAudiences"], ["vault-client"]);
  });

  test("every role a policy issues keys from is declared on its mount", () => {
    const rolePaths = new Set(ofType("vault:generic/endpoint:Endpoint").map((e) => String(e.inputs["path"])));
    const wanted = policyFiles.flatMap((f) => [...readFileSync(join(POLICY_DIR, f), "utf8").matchAll(/^path "([\w-]+)\/creds\/([\w-]+)"/gm)].map((m) => `${m[1]}/roles/${m[2]}`));
    assert.ok(wanted.length >= 3);
    for (const w of wanted) assert.ok(rolePaths.has(w), `${w} is not declared`);
  });

  test("role TTLs are numbers of seconds, as the engine reads them back", () => {
    for (const e of ofType("vault:generic/endpoint:Endpoint").filter((x) => String(x.inputs["path"]).includes("/roles/"))) {
      const body = JSON.parse(String(reveal(e.inputs["dataJson"]))) as Record<string, unknown>;
      assert.equal(typeof body["ttl"], "number", e.name);
      assert.equal(typeof body["max_ttl"], "number", e.name);
    }
  });

  test("a connection is declared only when its credential is given, and then as a secret", () => {
    const endpoints = ofType("vault:generic/endpoint:Endpoint");
    const openaiConfig = endpoints.find((e) => e.inputs["path"] === "openai/config");
    assert.ok(openaiConfig);
    const dataJson = openaiConfig.inputs["dataJson"];
    assert.ok(typeof dataJson === "object" && dataJson !== null && SECRET_SIG in dataJson, "the admin key goes in as a secret");
    assert.equal(JSON.parse(String(reveal(dataJson)))["admin_api_key"], "sk-admin-example");
    assert.equal(endpoints.find((e) => e.inputs["path"] === "litellm/config"), undefined, "no LiteLLM master key, no LiteLLM connection");
  });
});
