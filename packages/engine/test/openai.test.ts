// The OpenAI engine, unit-tested in the SDK's test kit against the Admin API
// emulator: the seed plugin's paths and response keys, and what we do better.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ageWal, emulatorState, keyWorks, openAIHarness, rejects400, serviceAccounts } from "./support.ts";


test("config write with a wrong admin key is a 400 naming the problem, and stores nothing", async () => {
  const h = await openAIHarness({ configure: false });
  try {
    await rejects400(
      h.tb.write("config", { admin_api_key: "sk-admin-wrong", admin_api_key_id: "key_x", organization_id: h.em.organizationId, api_endpoint: h.em.baseUrl }),
      /rejected the admin API key.*admin_api_key/,
    );
    assert.equal(await h.tb.read("config"), undefined);
  } finally {
    await h.close();
  }
});

test("config write refuses an endpoint that is not http(s) or carries credentials", async () => {
  const h = await openAIHarness({ configure: false });
  try {
    const base = { admin_api_key: h.em.adminKey, admin_api_key_id: h.em.adminKeyId, organization_id: h.em.organizationId };
    await rejects400(h.tb.write("config", { ...base, api_endpoint: "file:///etc/passwd" }), /api_endpoint must use http or https/);
    await rejects400(h.tb.write("config", { ...base, api_endpoint: "https://user:pw@example.com/v1" }), /api_endpoint must not carry credentials/);
    await rejects400(h.tb.write("config", { ...base, api_endpoint: "not a url" }), /api_endpoint must be an absolute/);
  } finally {
    await h.close();
  }
});

test("changing api_endpoint without the admin key is a 400: the stored key never goes to a new endpoint", async () => {
  const h = await openAIHarness();
  const seen: string[] = [];
  const listener = createServer((req, res) => (seen.push(String(req.headers.authorization)), res.end("{}")));
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  try {
    const other = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/v1`;
    await rejects400(h.tb.write("config", { api_endpoint: other }), /changing "api_endpoint" needs "admin_api_key" in the same write/);
    assert.deepEqual(seen, [], "nothing reached the new endpoint");
    assert.equal((await h.tb.read("config"))?.data?.["api_endpoint"], h.em.baseUrl);
  } finally {
    listener.close();
    await h.close();
  }
});

test("a config whose api_endpoint is not the Admin API is a 400 naming api_endpoint, and stores nothing", async () => {
  const h = await openAIHarness({ configure: false });
  try {
    const base = { admin_api_key: h.em.adminKey, admin_api_key_id: h.em.adminKeyId, organization_id: h.em.organizationId };
    await rejects400(h.tb.write("config", { ...base, api_endpoint: `${h.em.url}/wrong` }), /HTTP 404.*check api_endpoint/);
    await rejects400(h.tb.write("config", { ...base, api_endpoint: "http://127.0.0.1:1/v1" }), /cannot reach OpenAI.*check api_endpoint/);
    assert.equal(await h.tb.read("config"), undefined);
  } finally {
    await h.close();
  }
});

test("a config whose endpoint answers 200 with something other than the admin key list is refused, naming api_endpoint", async () => {
  const h = await openAIHarness({ configure: false });
  try {
    h.em.control.addFault({ method: "GET", path: "/v1/organization/admin_api_keys", action: { type: "status", status: 200, body: { ok: true } } });
    await rejects400(
      h.tb.write("config", { admin_api_key: h.em.adminKey, admin_api_key_id: h.em.adminKeyId, organization_id: h.em.organizationId, api_endpoint: h.em.baseUrl }),
      /malformed admin API key list: check api_endpoint/,
    );
    assert.equal(await h.tb.read("config"), undefined);
  } finally {
    await h.close();
  }
});

test("config write needs the admin key, its id and the organization", async () => {
  const h = await openAIHarness({ configure: false });
  try {
    await rejects400(h.tb.write("config", { admin_api_key: h.em.adminKey, organization_id: "org" }), /"admin_api_key_id"/);
  } finally {
    await h.close();
  }
});

test("config read returns the seed plugin's non-secret fields and never the admin key", async () => {
  const h = await openAIHarness();
  try {
    const res = await h.tb.read("config");
    assert.equal(res?.data?.["admin_api_key_id"], h.em.adminKeyId);
    assert.equal(res?.data?.["organization_id"], h.em.organizationId);
    assert.equal(res?.data?.["api_endpoint"], h.em.baseUrl);
    assert.ok(!("admin_api_key" in (res?.data ?? {})));
    assert.ok(!JSON.stringify(res).includes(h.em.adminKey));
  } finally {
    await h.close();
  }
});

test("a role for a project that does not exist is a 400", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("roles/r", { project_id: "proj_nope" }), /project_id "proj_nope" does not exist/);
  } finally {
    await h.close();
  }
});

test("a role for an archived project is a 400", async () => {
  const h = await openAIHarness();
  try {
    const archived = h.em.seedProject({ status: "archived" });
    await rejects400(h.tb.write("roles/r", { project_id: archived.id }), /is archived, not active/);
  } finally {
    await h.close();
  }
});

test("a role write with a key named after an Object.prototype member ignores it with a warning", async () => {
  const h = await openAIHarness();
  try {
    const data = JSON.parse(`{"project_id":"${h.em.projects[0]!.id}","constructor":"x","__proto__":"y"}`) as Record<string, never>;
    const res = await h.tb.write("roles/r", data);
    assert.deepEqual(res?.warnings, ["Endpoint ignored these unrecognized parameters: [__proto__ constructor]"]);
    assert.equal((await h.tb.read("roles/r"))?.data?.["project_id"], h.em.projects[0]!.id);
  } finally {
    await h.close();
  }
});

test("a role whose ttl exceeds its max_ttl is a 400", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, ttl: "2h", max_ttl: "1h" }), /"ttl" \(7200s\) must not exceed "max_ttl" \(3600s\)/);
  } finally {
    await h.close();
  }
});

test("a bad name template is rejected when the role is written", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, service_account_name_template: "vault-{{.RoleName" }), /service_account_name_template/);
    await rejects400(h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, service_account_name_template: "{{ nosuchfunc .RoleName }}" }), /service_account_name_template/);
    await rejects400(h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, service_account_name_template: "vault-{{.Rolename}}-{{.RandomSuffix}}" }), /unknown field\(s\) \.Rolename/);
  } finally {
    await h.close();
  }
});

test("the name template is tried with the role's own name and project, so a role whose names would be too long is refused when written", async () => {
  const h = await openAIHarness();
  try {
    const project = h.em.projects[0]!.id;
    await rejects400(h.tb.write(`roles/${"r".repeat(200)}`, { project_id: project }), /service_account_name_template renders a name longer than 128 characters/);
    const longProject = h.em.seedProject({ name: "p".repeat(150) }).id;
    await rejects400(h.tb.write("roles/r", { project_id: longProject, service_account_name_template: "{{.ProjectName}}-{{.RandomSuffix}}" }), /longer than 128 characters/);
    assert.equal(await h.tb.read("roles/r"), undefined);
  } finally {
    await h.close();
  }
});

test("a service account name with invisible formatting such as U+202E is refused, from the template or the token's display name", async () => {
  const h = await openAIHarness();
  try {
    const project = h.em.projects[0]!.id;
    await rejects400(h.tb.write("roles/r", { project_id: project, service_account_name_template: "vault-\u202e-{{.RandomSuffix}}" }), /invisible formatting \(U\+202E\)/);
    await rejects400(h.tb.write("roles/r", { project_id: project, service_account_name_template: "vault-\u200b{{.RandomSuffix}}" }), /\(U\+200B\)/);
    await h.tb.write("roles/r", { project_id: project, service_account_name_template: "{{.DisplayName}}-{{.RandomSuffix}}" });
    await rejects400(h.tb.request({ operation: "read", path: "creds/r", displayName: "token-\u202egpj.exe" }), /\(U\+202E\)/);
    assert.equal(serviceAccounts(h.em).length, 0);
  } finally {
    await h.close();
  }
});

test("a role too large for storage is a 400 naming its largest field, and nothing is stored", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, service_account_description: "d".repeat(100_000) }), /more than 65536: "service_account_description" is too large/);
    assert.equal(await h.tb.read("roles/r"), undefined);
    await rejects400(h.tb.write("config", { admin_api_key_id: "k".repeat(100_000) }), /"admin_api_key_id" is too large/);
  } finally {
    await h.close();
  }
});

test("a name template that could repeat a name is rejected, since the rollback finds orphans by name", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, service_account_name_template: "svc-{{.RoleName}}" }), /must make every name unique/);
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, service_account_name_template: "svc-{{.RoleName}}-{{random 6}}" });
  } finally {
    await h.close();
  }
});

test("the rollback never deletes an account a live lease holds, even under the orphan's name", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const live = (await h.tb.read("creds/r"))!;
    const { putWal } = await import("@vault-plugin-ai/sdk");
    await putWal(h.tb.storage, "openai-service-account", { project_id: h.em.projects[0]!.id, name: live.data?.["service_account"] });
    await ageWal(h.tb);
    await h.tb.rollback();
    assert.equal(serviceAccounts(h.em).length, 1);
    assert.deepEqual(await h.tb.storage.list("wal/"), []);
  } finally {
    await h.close();
  }
});

test("a provider's refusal of the creation leaves no WAL entry behind", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    h.em.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", times: 1, action: { type: "status", status: 400 } });
    await assert.rejects(h.tb.read("creds/r"));
    assert.deepEqual(await h.tb.storage.list("wal/"), []);
  } finally {
    await h.close();
  }
});

test("an admin key with a line break is refused before it could reach a header or an error", async () => {
  const h = await openAIHarness({ configure: false });
  try {
    const secret = `${h.em.adminKey}\nsecond-line`;
    await assert.rejects(
      h.tb.write("config", { admin_api_key: secret, admin_api_key_id: h.em.adminKeyId, organization_id: h.em.organizationId, api_endpoint: h.em.baseUrl }),
      (err: Error) => /"admin_api_key" must be printable ASCII/.test(err.message) && !err.message.includes(h.em.adminKey),
    );
  } finally {
    await h.close();
  }
});

test("two rotations at once leave exactly one admin key, the stored one", async () => {
  const h = await openAIHarness();
  try {
    await Promise.all([h.tb.write("config/rotate"), h.tb.write("config/rotate")]);
    const stored = (await h.tb.read("config"))?.data?.["admin_api_key_id"];
    assert.deepEqual(emulatorState(h.em).admin_api_keys.map((k) => k.id), [stored]);
  } finally {
    await h.close();
  }
});

test("a rotation racing a config write never leaves a stale admin key stored", async () => {
  const h = await openAIHarness();
  try {
    await Promise.all([h.tb.write("config/rotate"), h.tb.write("config", { api_endpoint: h.em.baseUrl + "/" })]);
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    assert.ok((await h.tb.read("creds/r"))?.data?.["api_key"], "the stored key works");
    assert.equal(emulatorState(h.em).admin_api_keys.length, 1);
  } finally {
    await h.close();
  }
});

test("an engine-made admin key is replaced before it expires, even after the schedule was lengthened", async () => {
  const h = await openAIHarness({ config: { rotation_period: "1h" } });
  try {
    await h.tb.write("config/rotate");
    await h.tb.write("config", { rotation_period: "720h" });
    const { rotationDue } = await import("../src/rotation.ts");
    const { readConfig } = await import("../src/storage.ts");
    const config = (await readConfig(h.tb.storage))!;
    assert.ok(config.provider === "openai" && (config.admin_api_key_expires_at ?? 0) > 0, "the rotated key carries an expiry");
    assert.equal(rotationDue(config as Parameters<typeof rotationDue>[0], new Date()), false);
    assert.equal(rotationDue(config as Parameters<typeof rotationDue>[0], new Date(Date.now() + 100 * 60_000)), true, "due before the 2h expiry, though the period is 720h");
  } finally {
    await h.close();
  }
});

test("a role reads back with the seed plugin's fields and defaults, TTLs in seconds", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    assert.deepEqual((await h.tb.read("roles/r"))?.data, {
      project_id: h.em.projects[0]!.id,
      service_account_name_template: "vault-{{.RoleName}}-{{.RandomSuffix}}",
      service_account_description: "Service account created by Vault",
      ttl: 3600,
      max_ttl: 86400,
    });
    assert.deepEqual((await h.tb.list("roles"))?.data?.["keys"], ["r"]);
  } finally {
    await h.close();
  }
});

test("creds issues a working key with the seed plugin's response keys, in a renewable lease holding only ids", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, ttl: "10m" });
    const res = (await h.tb.read("creds/r"))!;
    assert.deepEqual(Object.keys(res.data ?? {}).sort(), ["api_key", "api_key_id", "project_id", "service_account", "service_account_id"]);
    const key = String(res.data?.["api_key"]);
    assert.ok(await keyWorks(h.em, key));
    assert.match(String(res.data?.["service_account"]), /^vault-r-[a-z0-9]{8}$/);
    assert.equal(res.secret?.leaseOptions.ttl, 600);
    assert.equal(res.secret?.leaseOptions.renewable, true);
    assert.ok(!JSON.stringify(res.secret?.internalData).includes(key), "the key value is not in the lease");
    assert.equal(res.secret?.internalData["service_account_id"], res.data?.["service_account_id"]);
    assert.deepEqual(await h.tb.storage.list("wal/"), [], "no WAL entry is left behind");
  } finally {
    await h.close();
  }
});

test("issuing a key makes one provider call", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    h.em.control.clearRequests();
    await h.tb.read("creds/r");
    assert.equal(h.em.control.requests().length, 1);
  } finally {
    await h.close();
  }
});

test("revoking the lease deletes the service account, and the key stops working", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const res = (await h.tb.read("creds/r"))!;
    await h.tb.revoke(res);
    assert.equal(await keyWorks(h.em, String(res.data?.["api_key"])), false);
    assert.deepEqual(serviceAccounts(h.em), []);
  } finally {
    await h.close();
  }
});

test("revoking a lease whose service account was already deleted succeeds", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const res = (await h.tb.read("creds/r"))!;
    await h.tb.revoke(res);
    await h.tb.revoke(res);
  } finally {
    await h.close();
  }
});

test("a requested ttl above the role's max_ttl is capped, with a warning", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, ttl: "10m", max_ttl: "1h" });
    const res = (await h.tb.read("creds/r", { ttl: "5h" }))!;
    assert.equal(res.secret?.leaseOptions.ttl, 3600);
    assert.match(String(res.warnings), /exceeds the role's max_ttl of 1h0m0s; capped/);
  } finally {
    await h.close();
  }
});

test("renew extends the lease, but never past max_ttl from issue", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, ttl: "10m", max_ttl: "1h" });
    const res = (await h.tb.read("creds/r"))!;
    const renewed = await h.tb.renew(res, 1800, new Date());
    assert.equal(renewed?.secret?.leaseOptions.ttl, 1800);
    const late = await h.tb.renew(res, 1800, new Date(Date.now() - 50 * 60_000));
    assert.ok((late?.secret?.leaseOptions.ttl ?? 0) <= 600);
    assert.match(String(late?.warnings), /capped/);
  } finally {
    await h.close();
  }
});

test("a renewal ignores a max_ttl in the lease that is not whole seconds, and uses the role's", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, ttl: "10m", max_ttl: "1h" });
    const res = (await h.tb.read("creds/r"))!;
    for (const bad of [-3.9e198, 1e300, 1.5, "3600"]) {
      const lease = { ...res, secret: { ...res.secret!, internalData: { ...res.secret!.internalData, max_ttl: bad } } };
      const renewed = await h.tb.renew(lease, 7200, new Date());
      assert.equal(renewed?.secret?.leaseOptions.maxTtl, 3600, String(bad));
      const ttl = renewed?.secret?.leaseOptions.ttl ?? 0;
      assert.ok(ttl > 3500 && ttl <= 3600, `${String(bad)}: ttl ${ttl}`);
    }
  } finally {
    await h.close();
  }
});

test("a 429 with Retry-After on a provider call is retried and the key is issued", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    h.em.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", times: 1, action: { type: "status", status: 429, retryAfter: 0 } });
    const res = await h.tb.read("creds/r");
    assert.ok(res?.data?.["api_key"]);
    assert.equal(serviceAccounts(h.em).length, 1);
  } finally {
    await h.close();
  }
});

test("a 500 on creation fails the request with a clear error and leaves no account", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    h.em.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", times: 1, action: { type: "status", status: 500 } });
    await rejects400(h.tb.read("creds/r"), /the key was not issued: OpenAI refused create project service account \(HTTP 500\)/);
    assert.equal(serviceAccounts(h.em).length, 0);
  } finally {
    await h.close();
  }
});

test("when the creation's answer is lost, the rollback finds the orphaned account by name and deletes it", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    h.em.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", times: 1, action: { type: "drop", afterHandler: true } });
    await assert.rejects(h.tb.read("creds/r"));
    assert.equal(serviceAccounts(h.em).length, 1, "the account was created at the provider");
    await h.tb.rollback();
    assert.equal(serviceAccounts(h.em).length, 1, "a young WAL entry is left alone");
    await ageWal(h.tb);
    await h.tb.rollback();
    assert.equal(serviceAccounts(h.em).length, 0);
    assert.deepEqual(await h.tb.storage.list("wal/"), []);
  } finally {
    await h.close();
  }
});

test("a response without the key value is rejected and the half-made account is deleted", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    h.em.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", times: 1, action: { type: "malformed", variant: "missing-fields", fields: ["api_key"] } });
    await rejects400(h.tb.read("creds/r"), /malformed service account/);
    assert.equal(serviceAccounts(h.em).length, 0);
  } finally {
    await h.close();
  }
});

test("config/rotate replaces the admin key, deletes the old one, and returns the seed plugin's keys", async () => {
  const h = await openAIHarness();
  try {
    const res = (await h.tb.write("config/rotate"))!;
    const newId = String(res.data?.["admin_api_key_id"]);
    assert.notEqual(newId, h.em.adminKeyId);
    assert.match(String(res.data?.["rotated_time"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(emulatorState(h.em).admin_api_keys.map((k) => k.id), [newId], "exactly one admin key is left");
    const config = await h.tb.read("config");
    assert.equal(config?.data?.["admin_api_key_id"], newId);
    assert.equal(config?.data?.["last_rotated"], res.data?.["rotated_time"]);
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    assert.ok((await h.tb.read("creds/r"))?.data?.["api_key"], "the engine works with the new key");
  } finally {
    await h.close();
  }
});

test("when the old admin key cannot be deleted, its id is kept and the periodic function deletes it later", async () => {
  const h = await openAIHarness();
  try {
    h.em.control.addFault({ method: "DELETE", path: "/v1/organization/admin_api_keys/*", times: 4, action: { type: "status", status: 503 } });
    const res = (await h.tb.write("config/rotate"))!;
    assert.match(String(res.warnings), /could not be deleted yet/);
    assert.deepEqual((await h.tb.read("config"))?.data?.["pending_admin_key_deletions"], [h.em.adminKeyId]);
    assert.equal(emulatorState(h.em).admin_api_keys.length, 2);
    await h.tb.rollback();
    assert.equal(emulatorState(h.em).admin_api_keys.length, 1);
    assert.equal((await h.tb.read("config"))?.data?.["pending_admin_key_deletions"], undefined);
  } finally {
    await h.close();
  }
});

test("config cannot be deleted while an admin key it replaced is still alive at OpenAI", async () => {
  const h = await openAIHarness();
  try {
    h.em.control.addFault({ method: "DELETE", path: "/v1/organization/admin_api_keys/*", times: 8, action: { type: "status", status: 503 } });
    await h.tb.write("config/rotate");
    await rejects400(h.tb.delete("config"), /cannot be deleted yet: the admin keys it replaced \(key_\w+\)/);
    assert.ok(await h.tb.read("config"), "the connection is kept");
  } finally {
    await h.close();
  }
});

test("deleting config first deletes the admin keys it replaced", async () => {
  const h = await openAIHarness();
  try {
    h.em.control.addFault({ method: "DELETE", path: "/v1/organization/admin_api_keys/*", times: 4, action: { type: "status", status: 503 } });
    await h.tb.write("config/rotate");
    assert.equal(emulatorState(h.em).admin_api_keys.length, 2);
    await h.tb.delete("config");
    assert.equal(await h.tb.read("config"), undefined);
    assert.equal(emulatorState(h.em).admin_api_keys.length, 1, "only the connection's own admin key is left, for its owner to delete");
  } finally {
    await h.close();
  }
});

test("when the new admin key does not work, the old one stays in use and the new one is deleted", async () => {
  const h = await openAIHarness();
  try {
    h.em.control.addFault({ method: "GET", path: "/v1/organization/admin_api_keys", times: 10, action: { type: "status", status: 401 } });
    await assert.rejects(h.tb.write("config/rotate"));
    h.em.control.clearFaults();
    assert.equal((await h.tb.read("config"))?.data?.["admin_api_key_id"], h.em.adminKeyId);
    assert.deepEqual(emulatorState(h.em).admin_api_keys.map((k) => k.id), [h.em.adminKeyId]);
  } finally {
    await h.close();
  }
});

test("a rotation cut short after the new key was created is undone by the rollback", async () => {
  const h = await openAIHarness();
  try {
    h.em.control.addFault({ method: "POST", path: "/v1/organization/admin_api_keys", times: 1, action: { type: "drop", afterHandler: true } });
    await assert.rejects(h.tb.write("config/rotate"));
    assert.equal(emulatorState(h.em).admin_api_keys.length, 2, "the new key exists but nobody knows its value");
    await ageWal(h.tb);
    await h.tb.rollback();
    assert.deepEqual(emulatorState(h.em).admin_api_keys.map((k) => k.id), [h.em.adminKeyId]);
  } finally {
    await h.close();
  }
});

test("with a rotation_period, the periodic function rotates once the period has passed", async () => {
  const h = await openAIHarness({ config: { rotation_period: "1h" } });
  try {
    await h.tb.rollback();
    const first = (await h.tb.read("config"))?.data?.["admin_api_key_id"];
    assert.notEqual(first, h.em.adminKeyId, "never rotated, so due at once");
    await h.tb.rollback();
    assert.equal((await h.tb.read("config"))?.data?.["admin_api_key_id"], first, "not due again within the hour");
    assert.equal(emulatorState(h.em).admin_api_keys.length, 1);
  } finally {
    await h.close();
  }
});

test("rotation_period and rotation_schedule are mutually exclusive, and a bad cron is a 400", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("config", { rotation_period: "1h", rotation_schedule: "0 * * * *" }), /mutually exclusive/);
    await rejects400(h.tb.write("config", { rotation_schedule: "61 * * * *" }), /not a valid cron expression/);
  } finally {
    await h.close();
  }
});

test("metrics report issued and revoked keys and provider latency in the Prometheus text format", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    await h.tb.revoke((await h.tb.read("creds/r"))!);
    const res = await h.tb.read("metrics");
    const text = Buffer.from(String(res?.data?.["http_raw_body"]), "base64").toString();
    assert.match(text, /ai_secrets_keys_issued_total\{provider="openai",role="r"\} 1/);
    assert.match(text, /ai_secrets_leases_revoked_total\{outcome="deleted",provider="openai",role="r"\} 1/);
    assert.match(text, /ai_secrets_provider_request_duration_seconds_count\{operation="create project service account",provider="openai"\} 1/);
  } finally {
    await h.close();
  }
});

test("the sweeper reports and deletes a role-prefixed account that no lease holds, and leaves leased ones alone", async () => {
  const { sweepOrphans } = await import("../src/sweeper.ts");
  const h = await openAIHarness({ config: { delete_orphaned_accounts: true } });
  try {
    const backend = h.tb.backend as Parameters<typeof sweepOrphans>[0];
    await sweepOrphans(backend, h.tb.storage, new Date(Date.now() - 3600_000));
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const leased = (await h.tb.read("creds/r"))!;
    const res = await fetch(`${h.em.baseUrl}/organization/projects/${h.em.projects[0]!.id}/service_accounts`, {
      method: "POST",
      headers: { Authorization: `Bearer ${h.em.adminKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "vault-r-orphan01" }),
    });
    const orphan = (await res.json()) as { id: string };
    await fetch(`${h.em.baseUrl}/organization/projects/${h.em.projects[0]!.id}/service_accounts`, {
      method: "POST",
      headers: { Authorization: `Bearer ${h.em.adminKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "made-by-hand" }),
    });
    const report = await sweepOrphans(backend, h.tb.storage, new Date(Date.now() + 3600_000));
    assert.deepEqual(report.orphans.map((o) => [o.service_account_id, o.deleted]), [[orphan.id, true]]);
    const left = serviceAccounts(h.em).map((a) => a.name).sort();
    assert.deepEqual(left, ["made-by-hand", String(leased.data?.["service_account"])].sort());
    assert.deepEqual((await h.tb.read("sweep"))?.data?.["orphans"], report.orphans);
  } finally {
    await h.close();
  }
});

test("the sweeper only reports orphans when deletion is not enabled, and ignores accounts younger than its grace period", async () => {
  const { sweepOrphans } = await import("../src/sweeper.ts");
  const h = await openAIHarness();
  try {
    const backend = h.tb.backend as Parameters<typeof sweepOrphans>[0];
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const leased = (await h.tb.read("creds/r"))!;
    await h.tb.storage.delete(`issued/${String(leased.data?.["service_account_id"])}`);
    assert.deepEqual((await sweepOrphans(backend, h.tb.storage)).orphans, [], "too young to judge");
    const report = await sweepOrphans(backend, h.tb.storage, new Date(Date.now() + 3600_000));
    assert.equal(report.orphans.length, 1);
    assert.equal(report.orphans[0]!.deleted, false);
    assert.equal(serviceAccounts(h.em).length, 1);
  } finally {
    await h.close();
  }
});

test("the sweeper takes an account whose lease must have ended for an orphan, as after a forced revoke", async () => {
  const { sweepOrphans } = await import("../src/sweeper.ts");
  const h = await openAIHarness({ config: { delete_orphaned_accounts: true } });
  try {
    const backend = h.tb.backend as Parameters<typeof sweepOrphans>[0];
    await sweepOrphans(backend, h.tb.storage, new Date(Date.now() - 3600_000));
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id, ttl: "1h", max_ttl: "2h" });
    const leased = (await h.tb.read("creds/r"))!;
    const id = String(leased.data?.["service_account_id"]);
    assert.deepEqual((await sweepOrphans(backend, h.tb.storage, new Date(Date.now() + 3600_000))).orphans, [], "within its lease's maximum life it is held");
    const report = await sweepOrphans(backend, h.tb.storage, new Date(Date.now() + 4 * 3600_000));
    assert.deepEqual(report.orphans.map((o) => [o.service_account_id, o.deleted]), [[id, true]]);
    assert.deepEqual(serviceAccounts(h.em), []);
    assert.deepEqual(await h.tb.storage.list("issued/"), [], "its record goes with it");
  } finally {
    await h.close();
  }
});

test("a project_id holding a lone surrogate is a 400 naming project_id, not a crash", async () => {
  const h = await openAIHarness();
  try {
    await rejects400(h.tb.write("roles/r", { project_id: "proj_\ud800" }), /project_id .* does not exist/);
  } finally {
    await h.close();
  }
});

test("revoking a lease removes its issued-account record", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const res = (await h.tb.read("creds/r"))!;
    assert.deepEqual(await h.tb.storage.list("issued/"), [String(res.data?.["service_account_id"])]);
    await h.tb.revoke(res);
    assert.deepEqual(await h.tb.storage.list("issued/"), []);
  } finally {
    await h.close();
  }
});
