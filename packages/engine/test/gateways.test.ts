// LiteLLM virtual keys and OpenRouter keys from the same engine, and several
// connections on one mount, in the SDK's test kit against the emulators.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineBackend, type Backend } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator } from "../../../tools/emulators/openrouter/emulator.ts";
import { startOpenAIEmulator } from "../../../tools/emulators/openai/emulator.ts";
import { ageWal, rejects400 } from "./support.ts";

async function mount() {
  const factory = defineBackend<EngineState>(engineDefinition, () => ({ ...newEngineState(), httpOverrides: { retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 2_000 }, timeoutMs: 2_000 } }));
  return TestBackend.create(factory, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
}


async function chat(em: { baseUrl: string }, path: string, key: string, model: string): Promise<number> {
  const res = await fetch(`${em.baseUrl}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function liteLLM(): Promise<{ tb: TestBackend; em: LiteLLMEmulator }> {
  const em = await startLiteLLMEmulator();
  const tb = await mount();
  // The seed plugin's own config command: no "provider", inferred from base_url and master_key.
  await tb.write("config", { base_url: em.baseUrl, master_key: em.masterKey });
  return { tb, em };
}

test("a LiteLLM connection is inferred from the seed plugin's field names, and never returns the master key", async () => {
  const { tb, em } = await liteLLM();
  try {
    const res = await tb.read("config");
    assert.deepEqual(res?.data, { provider: "litellm", base_url: em.baseUrl, url: em.baseUrl, ca_cert: "", insecure_tls: false, max_concurrency: 8 });
  } finally {
    await em.close();
  }
});

test("changing a LiteLLM base_url without the master key is a 400, and keeps the connection", async () => {
  const { tb, em } = await liteLLM();
  try {
    await assert.rejects(tb.write("config", { base_url: "http://127.0.0.1:9/" }), /changing "base_url" needs "master_key" in the same write/);
    assert.equal((await tb.read("config"))?.data?.["base_url"], em.baseUrl);
  } finally {
    await em.close();
  }
});

test("a LiteLLM connection moves to a new base_url when the write carries its master key again", async () => {
  const { tb, em } = await liteLLM();
  const other = await startLiteLLMEmulator({ masterKey: em.masterKey });
  try {
    await tb.write("config", { base_url: other.baseUrl, master_key: em.masterKey });
    assert.equal((await tb.read("config"))?.data?.["base_url"], other.baseUrl);
  } finally {
    await other.close();
    await em.close();
  }
});

test("benemon's configuration names url and admin_key are accepted as aliases", async () => {
  const em = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { url: em.baseUrl, admin_key: em.masterKey });
    assert.equal((await tb.read("config"))?.data?.["base_url"], em.baseUrl);
  } finally {
    await em.close();
  }
});

test("a wrong LiteLLM master key is a 400 naming master_key, and stores nothing", async () => {
  const em = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await rejects400(tb.write("config", { base_url: em.baseUrl, master_key: "sk-wrong" }), /rejected the master key.*master_key/);
    assert.equal(await tb.read("config"), undefined);
  } finally {
    await em.close();
  }
});

test("fields of several providers in one config write are refused", async () => {
  const tb = await mount();
  await rejects400(tb.write("config", { base_url: "http://127.0.0.1:1", master_key: "k", admin_api_key: "sk-admin-x" }), /belong to different providers/);
});

test("rewriting a connection for another provider is a 400 naming its provider", async () => {
  const { tb, em } = await liteLLM();
  try {
    await rejects400(tb.write("config", { provider: "openrouter", provisioning_key: "k", base_url: "http://127.0.0.1:1" }), /connection's provider is litellm; delete it before configuring it for openrouter/);
    assert.equal((await tb.read("config"))?.data?.["provider"], "litellm");
  } finally {
    await em.close();
  }
});

test("a role field that does not apply to the connection's provider is a 400 naming it", async () => {
  const { tb, em } = await liteLLM();
  try {
    await rejects400(tb.write("roles/r", { project_id: "proj_x", models: "gpt-4o" }), /"project_id" do not apply to a litellm role/);
  } finally {
    await em.close();
  }
});

test("LiteLLM role fields are validated one by one", async () => {
  const { tb, em } = await liteLLM();
  try {
    await rejects400(tb.write("roles/r", { max_budget: -1 }), /"max_budget" must be a number of at least 0/);
    await rejects400(tb.write("roles/r", { budget_duration: "monthly" }), /"budget_duration"/);
    await rejects400(tb.write("roles/r", { key_alias_prefix: "bad prefix" }), /"key_alias_prefix"/);
    await rejects400(tb.write("roles/r", { tpm_limit: -5 }), /"tpm_limit"/);
    await rejects400(tb.write("roles/r", { key_request: JSON.stringify({ models: ["a"], key: "sk-x" }) }), /"key_request\.key" is set by Vault and may not be given/);
    await rejects400(tb.write("roles/r", { key_request: JSON.stringify({ guardrails: ["x"] }) }), /key_request: field\(s\) "guardrails" are not supported/);
    await rejects400(tb.write("roles/r", { key_request: "{not json" }), /"key_request" must be a JSON object: /);
    await rejects400(tb.write("roles/r", { key_request: "[1, 2]" }), /"key_request" must be a JSON object$/);
    await rejects400(tb.write("roles/r", { ttl: "2h", max_ttl: "1h" }), /must not exceed "max_ttl"/);
  } finally {
    await em.close();
  }
});

test("key_request values are coerced as their own fields, so a key can be issued from whatever it stores", async () => {
  const { tb, em } = await liteLLM();
  try {
    await rejects400(tb.write("roles/r", { key_request: JSON.stringify({ tags: { a: 1 } }) }), /"key_request\.tags": expected comma-separated string list/);
    await rejects400(tb.write("roles/r", { key_request: JSON.stringify({ metadata: "abc" }) }), /"key_request\.metadata": expected key\/value pairs/);
    await tb.write("roles/r", { key_request: JSON.stringify({ tpm_limit: 1.5, models: "gpt-4o, gpt-4o-mini", metadata: { team: 7 } }) });
    const data = (await tb.read("roles/r"))!.data!;
    assert.equal(data["tpm_limit"], 1);
    assert.deepEqual(data["models"], ["gpt-4o", "gpt-4o-mini"]);
    assert.deepEqual(data["metadata"], { team: "7" });
    const issued = (await tb.read("creds/r"))!;
    assert.ok(issued.data?.["key"]);
    await tb.revoke(issued);
  } finally {
    await em.close();
  }
});

test("a budget beyond 2^53, which storage would read back as another type, is a 400", async () => {
  const { tb, em } = await liteLLM();
  try {
    await rejects400(tb.write("roles/r", { max_budget: 2 ** 60 }), /"max_budget" must be at most 9007199254740991/);
    await rejects400(tb.write("roles/r", { key_request: JSON.stringify({ max_budget: "1e300" }) }), /"max_budget" must be at most/);
  } finally {
    await em.close();
  }
});

test("a LiteLLM role reads back with the seed plugin's fields", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", { models: "gpt-4o,gpt-4o-mini", max_budget: 5, metadata: "team=data", ttl: "1h", max_ttl: "4h" });
    const data = (await tb.read("roles/r"))?.data ?? {};
    assert.deepEqual(data["models"], ["gpt-4o", "gpt-4o-mini"]);
    assert.equal(data["max_budget"], 5);
    assert.equal(data["key_alias_prefix"], "vault");
    assert.deepEqual(data["metadata"], { team: "data" });
    assert.equal(data["ttl"], 3600);
    assert.equal(data["max_ttl"], 14400);
  } finally {
    await em.close();
  }
});

test("a LiteLLM key calls allowed models, is refused others, and carries only its hash in the lease", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", { models: "gpt-4o-mini", max_budget: 1 });
    const res = (await tb.read("creds/r"))!;
    assert.deepEqual(Object.keys(res.data ?? {}).filter((k) => ["key", "key_alias", "max_budget", "models"].includes(k)).sort(), ["key", "key_alias", "max_budget", "models"]);
    const key = String(res.data?.["key"]);
    assert.equal(await chat(em, "/chat/completions", key, "gpt-4o-mini"), 200);
    assert.notEqual(await chat(em, "/chat/completions", key, "gpt-4o"), 200);
    assert.ok(!JSON.stringify(res.secret?.internalData).includes(key));
    assert.match(String(res.data?.["key_alias"]), /^vault-r-[a-z0-9]{8}$/);
  } finally {
    await em.close();
  }
});

test("a LiteLLM key over its budget is refused", async () => {
  const { tb, em } = await liteLLM();
  try {
    em.control.updateSettings({ costPerRequest: 0.6 });
    await tb.write("roles/r", { max_budget: 1 });
    const key = String((await tb.read("creds/r"))?.data?.["key"]);
    assert.equal(await chat(em, "/chat/completions", key, "gpt-4o"), 200);
    assert.equal(await chat(em, "/chat/completions", key, "gpt-4o"), 200);
    assert.notEqual(await chat(em, "/chat/completions", key, "gpt-4o"), 200);
  } finally {
    await em.close();
  }
});

test("revoking a LiteLLM lease deletes the key, and revoking it again succeeds", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", {});
    const res = (await tb.read("creds/r"))!;
    await tb.revoke(res);
    assert.notEqual(await chat(em, "/chat/completions", String(res.data?.["key"]), "gpt-4o"), 200);
    await tb.revoke(res);
  } finally {
    await em.close();
  }
});

test("a LiteLLM key expires at the provider with its lease, even if no revocation arrives", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", { ttl: "10m", max_ttl: "1h" });
    const key = String((await tb.read("creds/r"))?.data?.["key"]);
    em.control.advanceClock(9 * 60_000);
    assert.equal(await chat(em, "/chat/completions", key, "gpt-4o"), 200);
    em.control.advanceClock(2 * 60_000);
    assert.notEqual(await chat(em, "/chat/completions", key, "gpt-4o"), 200);
  } finally {
    await em.close();
  }
});

test("a role ttl beyond the mount's max lease TTL gives LiteLLM and OpenRouter keys no longer life than the lease can have", async () => {
  const ll = await startLiteLLMEmulator();
  const or = await startOpenRouterEmulator();
  try {
    const tb = await mount();
    await tb.write("connections/gw", { base_url: ll.baseUrl, master_key: ll.masterKey });
    await tb.write("connections/or", { provider: "openrouter", base_url: or.baseUrl, provisioning_key: or.managementKey });
    await tb.write("roles/via-gw", { connection: "gw", ttl: "2562047h", max_ttl: "2562047h" });
    await tb.write("roles/via-or", { connection: "or", ttl: "2562047h", max_ttl: "2562047h" });
    const dayFromNow = Date.now() + 86_400_000;
    const litellmLease = (await tb.read("creds/via-gw"))!;
    assert.equal(litellmLease.secret?.leaseOptions.ttl, 86_400);
    assert.ok(Math.abs(Date.parse(String(litellmLease.data?.["expires"])) - dayFromNow) < 60_000, String(litellmLease.data?.["expires"]));
    const openrouterLease = (await tb.read("creds/via-or"))!;
    assert.equal(openrouterLease.secret?.leaseOptions.ttl, 86_400);
    assert.ok(Math.abs(Date.parse(String(openrouterLease.data?.["expires_at"])) - dayFromNow) < 60_000, String(openrouterLease.data?.["expires_at"]));
    await tb.revoke(litellmLease);
    await tb.revoke(openrouterLease);
  } finally {
    await ll.close();
    await or.close();
  }
});

test("renewing a LiteLLM lease moves the key's expiry with it", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", { ttl: "10m", max_ttl: "1h" });
    const res = (await tb.read("creds/r"))!;
    const renewed = await tb.renew(res, 1800);
    assert.equal(renewed?.secret?.leaseOptions.ttl, 1800);
    em.control.advanceClock(20 * 60_000);
    assert.equal(await chat(em, "/chat/completions", String(res.data?.["key"]), "gpt-4o"), 200);
  } finally {
    await em.close();
  }
});

test("a LiteLLM key whose creation answer was lost is deleted by the rollback, found by its alias", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", {});
    em.control.addFault({ method: "POST", path: "/key/generate", times: 1, action: { type: "drop", afterHandler: true } });
    await assert.rejects(tb.read("creds/r"));
    const keys = () => (em.control.state() as { keys: unknown[] }).keys.length;
    assert.equal(keys(), 1);
    await ageWal(tb);
    await tb.rollback();
    assert.equal(keys(), 0);
  } finally {
    await em.close();
  }
});

test("the spend report lists live LiteLLM keys with their spend and budget", async () => {
  const { tb, em } = await liteLLM();
  try {
    await tb.write("roles/r", { max_budget: 2 });
    const key = String((await tb.read("creds/r"))?.data?.["key"]);
    await chat(em, "/chat/completions", key, "gpt-4o");
    const res = await tb.read("spend");
    const keys = res?.data?.["keys"] as Array<Record<string, unknown>>;
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!["max_budget"], 2);
    assert.ok(Number(keys[0]!["spend"]) > 0);
    assert.deepEqual(Object.keys(res?.data?.["roles"] as object), ["r"]);
  } finally {
    await em.close();
  }
});

test("an OpenRouter key is created with its credit limit and an expiry, works, and dies when revoked", async () => {
  const em = await startOpenRouterEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { provider: "openrouter", base_url: em.baseUrl, provisioning_key: em.managementKey });
    await tb.write("roles/r", { limit: 5, ttl: "1h", max_ttl: "2h" });
    await rejects400(tb.write("roles/bad", { models: "x" }), /"models" do not apply to a openrouter role/);
    const res = (await tb.read("creds/r"))!;
    const key = String(res.data?.["key"]);
    assert.equal(res.data?.["limit"], 5);
    assert.ok(Date.parse(String(res.data?.["expires_at"])) > Date.now() + 3600_000);
    assert.equal(await chat(em, "/chat/completions", key, "openai/gpt-4o-mini"), 200);
    await tb.revoke(res);
    assert.notEqual(await chat(em, "/chat/completions", key, "openai/gpt-4o-mini"), 200);
    await tb.revoke(res);
  } finally {
    await em.close();
  }
});

test("revoking a lease whose connection was remade for another provider is a 400 saying so, not a crash", async () => {
  const ll = await startLiteLLMEmulator();
  const or = await startOpenRouterEmulator();
  try {
    const tb = await mount();
    await tb.write("connections/gw", { base_url: ll.baseUrl, master_key: ll.masterKey });
    await tb.write("connections/or", { provider: "openrouter", base_url: or.baseUrl, provisioning_key: or.managementKey });
    await tb.write("roles/via-gw", { connection: "gw" });
    await tb.write("roles/via-or", { connection: "or" });
    const litellmLease = (await tb.read("creds/via-gw"))!;
    const openrouterLease = (await tb.read("creds/via-or"))!;
    const moved = (lease: typeof litellmLease, connection: string) => ({ ...lease, secret: { ...lease.secret!, internalData: { ...lease.secret!.internalData, connection } } });
    await rejects400(tb.revoke(moved(litellmLease, "or")), /connection "or" is a openrouter connection, not litellm/);
    await rejects400(tb.revoke(moved(openrouterLease, "gw")), /connection "gw" is a litellm connection, not openrouter/);
    await tb.revoke(litellmLease);
    await tb.revoke(openrouterLease);
  } finally {
    await ll.close();
    await or.close();
  }
});

test("one mount serves two connections: OpenAI at config and LiteLLM at connections/gateway, each with its own role", async () => {
  const oa = await startOpenAIEmulator();
  const ll = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { admin_api_key: oa.adminKey, admin_api_key_id: oa.adminKeyId, organization_id: oa.organizationId, api_endpoint: oa.baseUrl });
    await tb.write("connections/gateway", { base_url: ll.baseUrl, master_key: ll.masterKey });
    assert.deepEqual((await tb.list("connections"))?.data?.["keys"], ["gateway"]);
    await tb.write("roles/direct", { project_id: oa.projects[0]!.id });
    await tb.write("roles/via-gateway", { connection: "gateway", models: "gpt-4o" });
    assert.equal((await tb.read("roles/via-gateway"))?.data?.["connection"], "gateway");
    const a = (await tb.read("creds/direct"))!;
    const b = (await tb.read("creds/via-gateway"))!;
    assert.ok(a.data?.["api_key"]);
    assert.ok(b.data?.["key"]);
    await tb.revoke(a);
    await tb.revoke(b);
    await rejects400(tb.write("connections/gateway/rotate"), /LiteLLM cannot mint master keys/);
  } finally {
    await oa.close();
    await ll.close();
  }
});

test("a role naming a connection that does not exist is a 400", async () => {
  const tb = await mount();
  await rejects400(tb.write("roles/r", { connection: "nope" }), /connection "nope" does not exist/);
});

test("the default connection cannot be written under connections/", async () => {
  const tb = await mount();
  await rejects400(tb.write("connections/default", { provider: "openai" }), /"default" is the connection at "config"/);
});

export type { Backend };
