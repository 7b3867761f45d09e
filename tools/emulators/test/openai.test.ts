// The OpenAI Admin API emulator against the documented behaviour.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startOpenAIEmulator, type OpenAIEmulator } from "../openai/emulator.ts";
import { call, list, pick, str } from "./helpers.ts";

let emu: OpenAIEmulator;
let project: string;
const V1 = "/v1/organization";

before(async () => {
  emu = await startOpenAIEmulator({
    adminKey: "sk-admin-seeded-for-tests-0123456789",
    adminKeyId: "key_seededAdmin001",
    organizationId: "org-emulatortests000000000",
    projects: [{ name: "Default Project" }, { id: "proj_archived00000000000000", name: "Old", status: "archived" }],
  });
  project = emu.projects[0]?.id ?? "";
});
after(() => emu.close());
beforeEach(() => emu.control.reset());

async function createServiceAccount(name = "vault-role-abc123", projectId = project) {
  const res = await call(emu.url, "POST", `${V1}/projects/${projectId}/service_accounts`, { token: emu.adminKey, body: { name } });
  assert.equal(res.status, 200, res.text);
  return { id: str(res.body, "id"), keyId: str(res.body, "api_key.id"), value: str(res.body, "api_key.value"), body: res.body };
}

describe("seed and authentication", () => {
  test("the seeded admin key, id, organization and projects are the ones asked for", async () => {
    assert.equal(emu.adminKey, "sk-admin-seeded-for-tests-0123456789");
    const res = await call(emu.url, "GET", `${V1}/admin_api_keys/key_seededAdmin001`, { token: emu.adminKey });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "redacted_value"), "sk-admin...789");
    assert.equal(emu.organizationId, "org-emulatortests000000000");
    assert.equal(emu.baseUrl, `${emu.url}/v1`);
  });

  test("no Authorization header is a 401 with OpenAI's 'didn't provide an API key' body", async () => {
    const res = await call(emu.url, "GET", `${V1}/projects`);
    assert.equal(res.status, 401);
    assert.match(str(res.body, "error.message"), /^You didn't provide an API key/);
    assert.equal(pick(res.body, "error.type"), "invalid_request_error");
    assert.equal(pick(res.body, "error.code"), null);
  });

  test("an unknown key is a 401 invalid_api_key that echoes the key masked", async () => {
    const res = await call(emu.url, "GET", `${V1}/projects`, { token: "sk-admin-wrongwrongwrongwrong1234" });
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.code"), "invalid_api_key");
    assert.match(str(res.body, "error.message"), /^Incorrect API key provided: sk-admin\*+1234\./);
  });

  test("a project key on an admin route is a 403 whose error is a bare string", async () => {
    const sa = await createServiceAccount();
    const res = await call(emu.url, "GET", `${V1}/projects`, { token: sa.value });
    assert.equal(res.status, 403);
    assert.match(str(res.body, "error"), /Missing scopes: api\.management\.read/);
  });

  test("an OpenAI-Organization header naming another organization is refused", async () => {
    const res = await call(emu.url, "GET", `${V1}/projects`, { token: emu.adminKey, headers: { "openai-organization": "org-someoneelse" } });
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.code"), "mismatched_organization");
  });

  test("every response carries an x-request-id", async () => {
    const res = await call(emu.url, "GET", `${V1}/projects`, { token: emu.adminKey });
    assert.match(res.headers.get("x-request-id") ?? "", /^req_[0-9a-f]{32}$/);
  });

  test("an unknown path is a 404 'Invalid URL' naming method and path", async () => {
    const res = await call(emu.url, "GET", "/v1/organization/nope", { token: emu.adminKey });
    assert.equal(res.status, 404);
    assert.equal(pick(res.body, "error.message"), "Invalid URL (GET /v1/organization/nope)");
  });

  test("a body that is not JSON is a 400 with OpenAI's parse-error message", async () => {
    const res = await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, rawBody: "{name:" });
    assert.equal(res.status, 400);
    assert.match(str(res.body, "error.message"), /^We could not parse the JSON body of your request/);
  });
});

describe("admin API keys", () => {
  test("create returns the value once; retrieve and list never do", async () => {
    const created = await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, body: { name: "rotated" } });
    assert.equal(created.status, 200);
    assert.match(str(created.body, "value"), /^sk-admin-/);
    assert.match(str(created.body, "id"), /^key_[A-Za-z0-9]{16}$/);
    assert.equal(pick(created.body, "object"), "organization.admin_api_key");
    assert.equal(pick(created.body, "expires_at"), null);
    assert.equal(pick(created.body, "owner.role"), "owner");
    const got = await call(emu.url, "GET", `${V1}/admin_api_keys/${str(created.body, "id")}`, { token: emu.adminKey });
    assert.equal(pick(got.body, "value"), undefined);
    const listed = await call(emu.url, "GET", `${V1}/admin_api_keys`, { token: emu.adminKey });
    assert.ok(!listed.text.includes(str(created.body, "value")));
  });

  test("name is required", async () => {
    const res = await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, body: {} });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.param"), "name");
    assert.equal(pick(res.body, "error.code"), "missing_required_parameter");
  });

  test("expires_in_seconds sets expires_at, and the key stops working once it passes", async () => {
    const created = await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, body: { name: "short", expires_in_seconds: 60 } });
    assert.equal(Number(pick(created.body, "expires_at")) - Number(pick(created.body, "created_at")), 60);
    const value = str(created.body, "value");
    assert.equal((await call(emu.url, "GET", `${V1}/projects`, { token: value })).status, 200);
    emu.control.advanceClock(61_000);
    const res = await call(emu.url, "GET", `${V1}/projects`, { token: value });
    assert.equal(res.status, 401);
    assert.equal(pick(res.body, "error.code"), "invalid_api_key");
  });

  test("expires_in_seconds outside 1..31536000 is refused naming the bound", async () => {
    const res = await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, body: { name: "x", expires_in_seconds: 31_536_001 } });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.code"), "integer_above_max_value");
  });

  test("an admin key deleted through the API stops working", async () => {
    const created = await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, body: { name: "successor" } });
    const successor = str(created.body, "value");
    const deleted = await call(emu.url, "DELETE", `${V1}/admin_api_keys/${emu.adminKeyId}`, { token: successor });
    assert.deepEqual(deleted.body, { id: emu.adminKeyId, object: "organization.admin_api_key.deleted", deleted: true });
    assert.equal((await call(emu.url, "GET", `${V1}/projects`, { token: emu.adminKey })).status, 401);
    assert.equal((await call(emu.url, "GET", `${V1}/projects`, { token: successor })).status, 200);
  });

  test("list pages with after and limit, reporting first_id, last_id and has_more", async () => {
    for (let i = 0; i < 4; i++) await call(emu.url, "POST", `${V1}/admin_api_keys`, { token: emu.adminKey, body: { name: `k${i}` } });
    const page1 = await call(emu.url, "GET", `${V1}/admin_api_keys?limit=2`, { token: emu.adminKey });
    assert.equal(list(page1.body, "data").length, 2);
    assert.equal(pick(page1.body, "has_more"), true);
    assert.equal(pick(page1.body, "first_id"), emu.adminKeyId);
    const page2 = await call(emu.url, "GET", `${V1}/admin_api_keys?limit=2&after=${str(page1.body, "last_id")}`, { token: emu.adminKey });
    const page3 = await call(emu.url, "GET", `${V1}/admin_api_keys?limit=2&after=${str(page2.body, "last_id")}`, { token: emu.adminKey });
    assert.equal(list(page3.body, "data").length, 1);
    assert.equal(pick(page3.body, "has_more"), false);
    const names = [page1, page2, page3].flatMap((p) => list(p.body, "data").map((k) => pick(k, "name")));
    assert.deepEqual(names, ["Seed admin key", "k0", "k1", "k2", "k3"]);
  });

  test("a limit above 100 is refused", async () => {
    const res = await call(emu.url, "GET", `${V1}/admin_api_keys?limit=101`, { token: emu.adminKey });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.param"), "limit");
  });
});

describe("projects", () => {
  test("retrieve returns the documented project object", async () => {
    const res = await call(emu.url, "GET", `${V1}/projects/${project}`, { token: emu.adminKey });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "object"), "organization.project");
    assert.equal(pick(res.body, "status"), "active");
    assert.equal(pick(res.body, "archived_at"), null);
    assert.equal(typeof pick(res.body, "created_at"), "number");
  });

  test("a missing project is a 404 in the error envelope", async () => {
    const res = await call(emu.url, "GET", `${V1}/projects/proj_doesnotexist`, { token: emu.adminKey });
    assert.equal(res.status, 404);
    assert.equal(pick(res.body, "error.type"), "invalid_request_error");
  });

  test("list hides archived projects unless include_archived=true", async () => {
    const active = await call(emu.url, "GET", `${V1}/projects`, { token: emu.adminKey });
    const all = await call(emu.url, "GET", `${V1}/projects?include_archived=true`, { token: emu.adminKey });
    assert.equal(list(active.body, "data").length, 1);
    assert.equal(list(all.body, "data").length, 2);
  });

  test("projects seeded through the control API can be retrieved", async () => {
    const seeded = await call(emu.url, "POST", "/__emulator/openai/projects", { body: { id: "proj_seededbycontrol000000", name: "Seeded" } });
    assert.equal(seeded.status, 201);
    const res = await call(emu.url, "GET", `${V1}/projects/proj_seededbycontrol000000`, { token: emu.adminKey });
    assert.equal(pick(res.body, "name"), "Seeded");
  });
});

describe("service accounts", () => {
  test("create returns the account and its api_key with a sk-svcacct- value", async () => {
    const sa = await createServiceAccount("vault-x");
    assert.match(sa.id, /^svc_acct_/);
    assert.equal(pick(sa.body, "object"), "organization.project.service_account");
    assert.equal(pick(sa.body, "role"), "member");
    assert.equal(pick(sa.body, "api_key.object"), "organization.project.service_account.api_key");
    assert.equal(pick(sa.body, "api_key.name"), "Secret Key");
    assert.match(sa.value, /^sk-svcacct-/);
    assert.match(sa.keyId, /^key_/);
  });

  test("the new key works on GET /v1/models and stops working when the account is deleted", async () => {
    const sa = await createServiceAccount();
    const before = await call(emu.url, "GET", "/v1/models", { token: sa.value });
    assert.equal(before.status, 200);
    assert.equal(pick(before.body, "object"), "list");
    const deleted = await call(emu.url, "DELETE", `${V1}/projects/${project}/service_accounts/${sa.id}`, { token: emu.adminKey });
    assert.deepEqual(deleted.body, { object: "organization.project.service_account.deleted", id: sa.id, deleted: true });
    const afterDelete = await call(emu.url, "GET", "/v1/models", { token: sa.value });
    assert.equal(afterDelete.status, 401);
    assert.equal(pick(afterDelete.body, "error.code"), "invalid_api_key");
  });

  test("deleting an account that is already gone is a 404", async () => {
    const sa = await createServiceAccount();
    await call(emu.url, "DELETE", `${V1}/projects/${project}/service_accounts/${sa.id}`, { token: emu.adminKey });
    const again = await call(emu.url, "DELETE", `${V1}/projects/${project}/service_accounts/${sa.id}`, { token: emu.adminKey });
    assert.equal(again.status, 404);
  });

  test("create_service_account_only gives role none and a null api_key", async () => {
    const res = await call(emu.url, "POST", `${V1}/projects/${project}/service_accounts`, {
      token: emu.adminKey,
      body: { name: "bare", create_service_account_only: true },
    });
    assert.equal(pick(res.body, "role"), "none");
    assert.equal(pick(res.body, "api_key"), null);
  });

  test("an archived project refuses service-account creation with 400", async () => {
    const res = await call(emu.url, "POST", `${V1}/projects/proj_archived00000000000000/service_accounts`, { token: emu.adminKey, body: { name: "x" } });
    assert.equal(res.status, 400);
  });

  test("creating in a missing project is a 404", async () => {
    const res = await call(emu.url, "POST", `${V1}/projects/proj_nothere/service_accounts`, { token: emu.adminKey, body: { name: "x" } });
    assert.equal(res.status, 404);
  });

  test("an empty name is refused", async () => {
    const res = await call(emu.url, "POST", `${V1}/projects/${project}/service_accounts`, { token: emu.adminKey, body: { name: "" } });
    assert.equal(res.status, 400);
    assert.equal(pick(res.body, "error.param"), "name");
  });

  test("list pages with after and limit", async () => {
    for (let i = 0; i < 3; i++) await createServiceAccount(`sa-${i}`);
    const page1 = await call(emu.url, "GET", `${V1}/projects/${project}/service_accounts?limit=2`, { token: emu.adminKey });
    assert.equal(pick(page1.body, "has_more"), true);
    const page2 = await call(emu.url, "GET", `${V1}/projects/${project}/service_accounts?limit=2&after=${str(page1.body, "last_id")}`, { token: emu.adminKey });
    assert.deepEqual(list(page2.body, "data").map((s) => pick(s, "name")), ["sa-2"]);
    assert.equal(pick(page2.body, "has_more"), false);
  });

  test("retrieve returns the account without a key", async () => {
    const sa = await createServiceAccount();
    const res = await call(emu.url, "GET", `${V1}/projects/${project}/service_accounts/${sa.id}`, { token: emu.adminKey });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "api_key"), undefined);
    assert.equal(pick(res.body, "id"), sa.id);
  });
});

describe("project API keys", () => {
  test("the list shows a service account's key with its owner", async () => {
    const sa = await createServiceAccount("owner-sa");
    const res = await call(emu.url, "GET", `${V1}/projects/${project}/api_keys`, { token: emu.adminKey });
    const [key] = list(res.body, "data");
    assert.equal(pick(key, "id"), sa.keyId);
    assert.equal(pick(key, "object"), "organization.project.api_key");
    assert.equal(pick(key, "owner.type"), "service_account");
    assert.equal(pick(key, "owner.service_account.name"), "owner-sa");
    assert.ok(!res.text.includes(sa.value));
  });

  test("retrieve of a user key made in the dashboard shows a user owner", async () => {
    const userKey = emu.createUserKey(project, "laptop");
    const res = await call(emu.url, "GET", `${V1}/projects/${project}/api_keys/${userKey.id}`, { token: emu.adminKey });
    assert.equal(pick(res.body, "owner.type"), "user");
    assert.equal(pick(res.body, "name"), "laptop");
  });

  test("deleting a service account's key kills the key but keeps the account", async () => {
    const sa = await createServiceAccount();
    const res = await call(emu.url, "DELETE", `${V1}/projects/${project}/api_keys/${sa.keyId}`, { token: emu.adminKey });
    assert.deepEqual(res.body, { object: "organization.project.api_key.deleted", id: sa.keyId, deleted: true });
    assert.equal((await call(emu.url, "GET", "/v1/models", { token: sa.value })).status, 401);
    assert.equal((await call(emu.url, "GET", `${V1}/projects/${project}/service_accounts/${sa.id}`, { token: emu.adminKey })).status, 200);
  });

  test("with serviceAccountKeyDelete=reject, deleting a service account's key is a 400", async () => {
    emu.control.updateSettings({ serviceAccountKeyDelete: "reject" });
    const sa = await createServiceAccount();
    const res = await call(emu.url, "DELETE", `${V1}/projects/${project}/api_keys/${sa.keyId}`, { token: emu.adminKey });
    assert.equal(res.status, 400);
    assert.equal((await call(emu.url, "GET", "/v1/models", { token: sa.value })).status, 200);
  });
});

describe("inference", () => {
  test("an admin key cannot list models", async () => {
    const res = await call(emu.url, "GET", "/v1/models", { token: emu.adminKey });
    assert.equal(res.status, 401);
    assert.match(str(res.body, "error.message"), /Missing scopes: api\.model\.read/);
  });

  test("a chat completion with a service-account key succeeds for a known model", async () => {
    const sa = await createServiceAccount();
    const res = await call(emu.url, "POST", "/v1/chat/completions", { token: sa.value, body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "object"), "chat.completion");
  });

  test("an unknown model is a 404 model_not_found", async () => {
    const sa = await createServiceAccount();
    const res = await call(emu.url, "POST", "/v1/chat/completions", { token: sa.value, body: { model: "gpt-9", messages: [] } });
    assert.equal(res.status, 404);
    assert.equal(pick(res.body, "error.code"), "model_not_found");
  });
});
