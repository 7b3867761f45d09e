// LiteLLM virtual keys and OpenRouter keys from the same executable on a
// real server, against the emulators: what a key may call, budgets, revoke,
// expiry, and a key that dies at the provider when revocation never comes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AI_PLUGIN, requireFile } from "../support/paths.ts";
import { generatePluginIdentity } from "../../packages/sdk/src/runtime/tls.ts";
import { DevServer, type ServerKind, waitFor } from "../../scripts/lib/dev-server.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator, type OpenRouterEmulator } from "../../tools/emulators/openrouter/emulator.ts";
import { startOpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";

async function chat(baseUrl: string, key: string, model: string): Promise<number> {
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

export function gatewayScenario(kind: ServerKind, binary: string | undefined, skipReason: string) {
  describe(`LiteLLM and OpenRouter keys on ${kind}`, { skip: binary ? false : skipReason }, () => {
    let server: DevServer;
    let ll: LiteLLMEmulator;
    let or: OpenRouterEmulator;
    const issue = async (path: string) => JSON.parse(await server.cliOk(["read", "-format=json", path])) as { lease_id: string; data: Record<string, unknown> };

    before(async () => {
      ll = await startLiteLLMEmulator();
      or = await startOpenRouterEmulator();
      server = await DevServer.start(kind, binary!, [requireFile(AI_PLUGIN, "run `npm run build` first")]);
      await server.cliOk(["secrets", "enable", "-path=litellm", "vault-plugin-secrets-ai"]);
      await server.cliOk(["secrets", "enable", "-path=openrouter", "vault-plugin-secrets-ai"]);
      // The LiteLLM seed's README commands, unchanged.
      await server.cliOk(["write", "litellm/config", `base_url=${ll.baseUrl}`, `master_key=${ll.masterKey}`]);
      await server.cliOk(["write", "litellm/roles/analyst", "models=gpt-4o-mini", "max_budget=1", "ttl=1h", "max_ttl=2h"]);
      await server.cliOk(["write", "openrouter/config", "provider=openrouter", `base_url=${or.baseUrl}`, `provisioning_key=${or.managementKey}`]);
      await server.cliOk(["write", "openrouter/roles/small", "limit=2", "ttl=1h", "max_ttl=2h"]);
    });

    after(async () => {
      await server?.stop();
      await ll?.close();
      await or?.close();
    });

    test("a LiteLLM key calls an allowed model and is refused a disallowed one", async () => {
      const issued = await issue("litellm/creds/analyst");
      for (const k of ["key", "key_alias", "max_budget", "models"]) assert.ok(k in issued.data, k);
      const key = String(issued.data["key"]);
      assert.equal(await chat(ll.baseUrl, key, "gpt-4o-mini"), 200);
      assert.notEqual(await chat(ll.baseUrl, key, "gpt-4o"), 200);
    });

    test("a LiteLLM key over its budget is refused", async () => {
      ll.control.updateSettings({ costPerRequest: 0.6 });
      const key = String((await issue("litellm/creds/analyst")).data["key"]);
      assert.equal(await chat(ll.baseUrl, key, "gpt-4o-mini"), 200);
      assert.equal(await chat(ll.baseUrl, key, "gpt-4o-mini"), 200);
      assert.notEqual(await chat(ll.baseUrl, key, "gpt-4o-mini"), 200);
      ll.control.updateSettings({ costPerRequest: 0.001 });
    });

    test("the seed's creds update (write) also issues a key", async () => {
      const out = JSON.parse(await server.cliOk(["write", "-format=json", "-f", "litellm/creds/analyst"])) as { data: Record<string, unknown> };
      assert.ok(out.data["key"]);
    });

    test("benemon/vault-plugin-secrets-litellm's README commands work unchanged: url, admin_key, key_request=@file", async () => {
      await server.cliOk(["secrets", "enable", "-path=benemon", "vault-plugin-secrets-ai"]);
      await server.cliOk(["write", "benemon/config", `url=${ll.baseUrl}`, `admin_key=${ll.masterKey}`]);
      assert.equal((await server.cliOk(["read", "-field=url", "benemon/config"])).trim(), ll.baseUrl);
      const file = join(server.workDir, "app.json");
      writeFileSync(file, JSON.stringify({ models: ["gpt-4o-mini"], max_budget: 5, rpm_limit: 60, metadata: { team: "blue" } }, null, 2));
      await server.cliOk(["write", "benemon/roles/app", "ttl=1h", "max_ttl=24h", `key_request=@${file}`]);
      const issued = await issue("benemon/creds/app");
      for (const k of ["key", "key_alias", "token_id"]) assert.ok(issued.data[k], k);
      const key = String(issued.data["key"]);
      assert.equal(await chat(ll.baseUrl, key, "gpt-4o-mini"), 200);
      assert.notEqual(await chat(ll.baseUrl, key, "gpt-4o"), 200);
      await server.cliOk(["lease", "revoke", issued.lease_id]);
      await waitFor("the key to die", async () => ((await chat(ll.baseUrl, key, "gpt-4o-mini")) === 200 ? undefined : true));
    });

    test("a LiteLLM proxy behind a private CA, trusted with ca_cert=@ca.pem", async () => {
      const identity = await generatePluginIdentity();
      const tls = await startLiteLLMEmulator({ tls: { certPem: identity.certPem, keyPem: identity.keyPem } });
      try {
        await server.cliOk(["secrets", "enable", "-path=private", "vault-plugin-secrets-ai"]);
        const refused = await server.cli(["write", "private/config", `url=${tls.baseUrl}`, `admin_key=${tls.masterKey}`]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /check ca_cert/);
        const ca = join(server.workDir, "ca.pem");
        writeFileSync(ca, identity.certPem);
        await server.cliOk(["write", "private/config", `url=${tls.baseUrl}`, `admin_key=${tls.masterKey}`, `ca_cert=@${ca}`]);
        await server.cliOk(["write", "private/roles/app", "models=gpt-4o-mini"]);
        const issued = await issue("private/creds/app");
        assert.ok(issued.data["key"]);
        await server.cliOk(["lease", "revoke", issued.lease_id]);
      } finally {
        await tls.close();
      }
    });

    test("LiteLLM keys attributed to the caller's identity: user_id from an alias, team_id from a group's metadata", async () => {
      await server.cliOk(["secrets", "enable", "-path=attr", "vault-plugin-secrets-ai"]);
      await server.cliOk(["write", "attr/config", `url=${ll.baseUrl}`, `admin_key=${ll.masterKey}`]);
      await server.cliOk(["auth", "enable", "userpass"]);
      const accessor = (JSON.parse(await server.cliOk(["auth", "list", "-format=json"])) as Record<string, { accessor: string }>)["userpass/"]!.accessor;
      const policy = join(server.workDir, "creds.hcl");
      writeFileSync(policy, 'path "attr/creds/*" { capabilities = ["read"] }\n');
      await server.cliOk(["policy", "write", "attr-creds", policy]);
      await server.cliOk(["write", "auth/userpass/users/alice", "password=correct-horse", "policies=attr-creds"]);
      const entityId = String((JSON.parse(await server.cliOk(["write", "-format=json", "identity/entity", "name=alice-entity"])) as { data: { id: string } }).data.id);
      await server.cliOk(["write", "identity/entity-alias", "name=alice", `canonical_id=${entityId}`, `mount_accessor=${accessor}`]);
      await server.cliOk(["write", "identity/group", "name=project-x", `member_entity_ids=${entityId}`, "metadata=litellm_team_id=team-42"]);
      await server.cliOk([
        "write",
        "attr/roles/app",
        `user_id_template={{identity.entity.aliases.${accessor}.name}}`,
        "team_id_template={{identity.groups.names.project-x.metadata.litellm_team_id}}",
      ]);
      const login = JSON.parse(await server.cliOk(["write", "-format=json", "auth/userpass/login/alice", "password=correct-horse"])) as { auth: { client_token: string } };
      const res = await server.http("GET", "attr/creds/app", undefined, login.auth.client_token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const key = String((res.body["data"] as Record<string, unknown>)["key"]);
      const info = await fetch(`${ll.baseUrl}/key/info?key=${encodeURIComponent(key)}`, { headers: { Authorization: `Bearer ${ll.masterKey}` } });
      const row = ((await info.json()) as { info: Record<string, unknown> }).info;
      assert.equal(row["user_id"], "alice");
      assert.equal(row["team_id"], "team-42");
      // The root token has no entity: no key, and a 400 that says why.
      const refused = await server.http("GET", "attr/creds/app");
      assert.equal(refused.status, 400);
      assert.match(String(refused.body["errors"]), /the caller's token has no entity/);
    });

    test("revoking a LiteLLM lease makes its key stop working", async () => {
      const issued = await issue("litellm/creds/analyst");
      await server.cliOk(["lease", "revoke", issued.lease_id]);
      await waitFor("the key to die", async () => ((await chat(ll.baseUrl, String(issued.data["key"]), "gpt-4o-mini")) === 200 ? undefined : true));
    });

    test("when its lease expires, a LiteLLM key stops working", { timeout: 60_000 }, async () => {
      await server.cliOk(["write", "litellm/roles/brief", "ttl=3s", "max_ttl=1m"]);
      const key = String((await issue("litellm/creds/brief")).data["key"]);
      assert.equal(await chat(ll.baseUrl, key, "gpt-4o"), 200);
      await waitFor("the key to die", async () => ((await chat(ll.baseUrl, key, "gpt-4o")) === 200 ? undefined : true), 30_000);
    });

    test("a LiteLLM key whose revocation never succeeds still dies at the provider when its lease ends", { timeout: 60_000 }, async () => {
      ll.control.addFault({ method: "POST", path: "/key/delete", times: "always", action: { type: "status", status: 503 } });
      try {
        await server.cliOk(["write", "litellm/roles/stranded", "ttl=3s", "max_ttl=1m"]);
        const key = String((await issue("litellm/creds/stranded")).data["key"]);
        await waitFor("the key to expire at the provider", async () => ((await chat(ll.baseUrl, key, "gpt-4o")) === 200 ? undefined : true), 30_000);
      } finally {
        ll.control.clearFaults();
      }
    });

    test("an OpenRouter key works until its lease is revoked", async () => {
      const issued = await issue("openrouter/creds/small");
      const key = String(issued.data["key"]);
      assert.equal(await chat(or.baseUrl, key, "openai/gpt-4o-mini"), 200);
      await server.cliOk(["lease", "revoke", issued.lease_id]);
      await waitFor("the key to die", async () => ((await chat(or.baseUrl, key, "openai/gpt-4o-mini")) === 200 ? undefined : true));
    });

    test("an OpenRouter key is created with its credit limit and an expiry at the provider", async () => {
      const issued = await issue("openrouter/creds/small");
      const key = (or.control.state() as { keys: Array<{ hash: string; limit: number | null; expires_at: string | null }> }).keys.find((k) => k.hash === issued.data["key_hash"]);
      assert.equal(key?.limit, 2);
      assert.ok(key?.expires_at, "the key has an expiry at the provider");
    });

    test("one mount with two connections serves an OpenAI role and a LiteLLM role", async () => {
      const oa = await startOpenAIEmulator();
      try {
        await server.cliOk(["secrets", "enable", "-path=multi", "vault-plugin-secrets-ai"]);
        await server.cliOk(["write", "multi/config", `admin_api_key=${oa.adminKey}`, `admin_api_key_id=${oa.adminKeyId}`, `organization_id=${oa.organizationId}`, `api_endpoint=${oa.baseUrl}`]);
        await server.cliOk(["write", "multi/connections/gateway", `base_url=${ll.baseUrl}`, `master_key=${ll.masterKey}`]);
        await server.cliOk(["write", "multi/roles/direct", `project_id=${oa.projects[0]!.id}`]);
        await server.cliOk(["write", "multi/roles/via-gateway", "connection=gateway", "models=gpt-4o"]);
        const direct = await issue("multi/creds/direct");
        const gateway = await issue("multi/creds/via-gateway");
        assert.equal((await fetch(`${oa.baseUrl}/models`, { headers: { Authorization: `Bearer ${String(direct.data["api_key"])}` } })).status, 200);
        assert.equal(await chat(ll.baseUrl, String(gateway.data["key"]), "gpt-4o"), 200);
        await server.cliOk(["lease", "revoke", "-sync", "-prefix", "multi/creds/"]);
        assert.notEqual(await chat(ll.baseUrl, String(gateway.data["key"]), "gpt-4o"), 200);
        assert.notEqual((await fetch(`${oa.baseUrl}/models`, { headers: { Authorization: `Bearer ${String(direct.data["api_key"])}` } })).status, 200);
      } finally {
        await oa.close();
      }
    });

    test("a role field of another provider is a 400 through the server", async () => {
      const res = await server.http("POST", "litellm/roles/wrong", { project_id: "proj_x" });
      assert.equal(res.status, 400);
      assert.match(String(res.body.errors), /"project_id" do not apply to a litellm role/);
    });
  });
}
