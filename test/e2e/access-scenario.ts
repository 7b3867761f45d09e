// Who may read which key: the example policies in examples/access/policies,
// written to a real server from their files, enforced on the engine's paths;
// response wrapping of issued keys; and the audit device's HMAC of key values.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { AI_PLUGIN, ROOT, requireFile } from "../support/paths.ts";
import { DevServer, type ServerKind, waitFor } from "../../scripts/lib/dev-server.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../tools/emulators/litellm/emulator.ts";

export const POLICY_DIR = join(ROOT, "examples", "access", "policies");

interface Issued {
  lease_id: string;
  data: Record<string, string>;
}

export function accessScenario(kind: ServerKind, binary: string | undefined, skipReason: string) {
  describe(`access control on ${kind}`, { skip: binary ? false : skipReason }, () => {
    let server: DevServer;
    let em: OpenAIEmulator;
    let ll: LiteLLMEmulator;
    let auditDir: string;
    let auditLog: string;
    // One user per example policy, each holding only that policy (and the server's default).
    const tokens: Record<string, string> = {};
    // Every key value the tests saw, to look for in the audit log.
    const seen: string[] = [];
    const keyWorks = async (key: string) => (await fetch(`${em.baseUrl}/models`, { headers: { Authorization: `Bearer ${key}` } })).status === 200;
    const status = async (who: string, method: string, path: string, body?: unknown) => (await server.http(method, path, body, tokens[who])).status;
    const issueAs = async (who: string, path: string): Promise<Issued> => {
      const res = await server.http("GET", path, undefined, tokens[who]);
      assert.equal(res.status, 200, `${who} reads ${path}`);
      const issued = res.body as unknown as Issued;
      seen.push(issued.data["api_key"] ?? issued.data["key"]!);
      return issued;
    };

    before(async () => {
      em = await startOpenAIEmulator();
      ll = await startLiteLLMEmulator();
      auditDir = mkdtempSync(join(tmpdir(), "access-audit-"));
      auditLog = join(auditDir, "audit.log");
      // OpenBao takes audit devices only from its configuration; Vault through the API.
      const config = kind === "openbao" ? `audit "file" "file" {\n  options {\n    file_path = ${JSON.stringify(auditLog)}\n  }\n}\n` : undefined;
      server = await DevServer.start(kind, binary!, [requireFile(AI_PLUGIN, "run `npm run build` first")], config === undefined ? {} : { config });
      if (kind === "vault") await server.cliOk(["audit", "enable", "file", `file_path=${auditLog}`]);

      await server.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-ai"]);
      await server.cliOk(["secrets", "enable", "-path=litellm", "vault-plugin-secrets-ai"]);
      const project = em.projects[0]!.id;
      await server.cliOk(["write", "openai/config", `admin_api_key=${em.adminKey}`, `admin_api_key_id=${em.adminKeyId}`, `organization_id=${em.organizationId}`, `api_endpoint=${em.baseUrl}`]);
      await server.cliOk(["write", "openai/roles/chatbot", `project_id=${project}`, "ttl=1h", "max_ttl=4h"]);
      await server.cliOk(["write", "openai/roles/batch", `project_id=${project}`, "ttl=1h", "max_ttl=4h"]);
      await server.cliOk(["write", "litellm/config", `base_url=${ll.baseUrl}`, `master_key=${ll.masterKey}`]);
      await server.cliOk(["write", "litellm/roles/analyst", "models=gpt-4o-mini", "max_budget=5", "ttl=1h"]);

      await server.cliOk(["auth", "enable", "userpass"]);
      const files = readdirSync(POLICY_DIR).filter((f) => f.endsWith(".hcl"));
      for (const file of files) {
        const policy = basename(file, ".hcl");
        await server.cliOk(["policy", "write", policy, join(POLICY_DIR, file)]);
        const password = `pw-${policy}`;
        await server.cliOk(["write", `auth/userpass/users/${policy}`, `password=${password}`, `token_policies=${policy}`]);
        const login = await server.http("POST", `auth/userpass/login/${policy}`, { password });
        tokens[policy] = String((login.body["auth"] as { client_token: string }).client_token);
      }
    });

    after(async () => {
      await server?.stop();
      await em?.close();
      await ll?.close();
      if (auditDir) rmSync(auditDir, { recursive: true, force: true });
    });

    test("a consumer of a role issues a key from it, and the key works at the provider", async () => {
      const issued = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      assert.match(issued.lease_id, /^openai\/creds\/chatbot\//);
      assert.ok(await keyWorks(issued.data["api_key"]!));
    });

    test("a consumer of a role is denied other roles' keys, the connection, rotation and roles", async () => {
      assert.equal(await status("ai-openai-chatbot", "GET", "openai/creds/batch"), 403);
      assert.equal(await status("ai-openai-chatbot", "POST", "openai/creds/batch", {}), 403);
      assert.equal(await status("ai-openai-chatbot", "GET", "openai/config"), 403);
      assert.equal(await status("ai-openai-chatbot", "POST", "openai/config", { api_endpoint: "http://127.0.0.1:9/v1" }), 403);
      assert.equal(await status("ai-openai-chatbot", "POST", "openai/config/rotate", {}), 403);
      assert.equal(await status("ai-openai-chatbot", "GET", "openai/roles/chatbot"), 403);
      assert.equal(await status("ai-openai-chatbot", "GET", "litellm/creds/analyst"), 403);
    });

    test("a consumer revokes its own role's lease early, and the key dies", async () => {
      const issued = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      const r = await server.cli(["lease", "revoke", issued.lease_id], { [kind === "openbao" ? "BAO_TOKEN" : "VAULT_TOKEN"]: tokens["ai-openai-chatbot"]! });
      assert.equal(r.code, 0, r.stderr);
      await waitFor("the key to die", async () => ((await keyWorks(issued.data["api_key"]!)) ? undefined : true));
    });

    test("a consumer may not revoke another role's leases", async () => {
      const other = JSON.parse(await server.cliOk(["read", "-format=json", "openai/creds/batch"])) as Issued;
      assert.equal(await status("ai-openai-chatbot", "PUT", `sys/leases/revoke/${other.lease_id}`), 403);
      assert.ok(await keyWorks(other.data["api_key"]!));
      await server.cliOk(["lease", "revoke", other.lease_id]);
    });

    test("the LiteLLM consumer policy issues a virtual key of its role only", async () => {
      const issued = await issueAs("ai-litellm-analyst", "litellm/creds/analyst");
      assert.ok(issued.data["key"]);
      assert.equal(await status("ai-litellm-analyst", "GET", "openai/creds/chatbot"), 403);
    });

    test("the operator creates, reads, lists and deletes roles", async () => {
      assert.equal(await status("ai-operator", "POST", "openai/roles/nightly", { project_id: em.projects[0]!.id, ttl: "30m" }), 204);
      const role = await server.http("GET", "openai/roles/nightly", undefined, tokens["ai-operator"]);
      assert.equal(role.body.data?.["ttl"], 1800);
      const list = await server.http("GET", "openai/roles?list=true", undefined, tokens["ai-operator"]);
      assert.ok((list.body.data?.["keys"] as string[]).includes("nightly"));
      assert.equal(await status("ai-operator", "DELETE", "openai/roles/nightly"), 204);
    });

    test("the operator rotates the default connection's admin key", async () => {
      const before = em.adminKeyId;
      const res = await server.http("POST", "openai/config/rotate", {}, tokens["ai-operator"]);
      assert.equal(res.status, 200);
      assert.notEqual(res.body.data?.["admin_api_key_id"], before);
      const issued = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      assert.ok(await keyWorks(issued.data["api_key"]!));
    });

    test("the operator rotates a named connection's admin key", async () => {
      const second = em.createAdminKey({ name: "second" });
      await server.cliOk(["write", "openai/connections/second", `admin_api_key=${second.value}`, `admin_api_key_id=${second.id}`, `organization_id=${em.organizationId}`, `api_endpoint=${em.baseUrl}`]);
      const res = await server.http("POST", "openai/connections/second/rotate", {}, tokens["ai-operator"]);
      assert.equal(res.status, 200);
      assert.notEqual(res.body.data?.["admin_api_key_id"], second.id);
    });

    test("the operator may not write the connection, which would hand it the admin key", async () => {
      assert.equal(await status("ai-operator", "POST", "openai/config", { api_endpoint: "http://127.0.0.1:9/v1" }), 403);
      assert.equal(await status("ai-operator", "POST", "openai/connections/second", { api_endpoint: "http://127.0.0.1:9/v1" }), 403);
      assert.equal(await status("ai-operator", "DELETE", "openai/config"), 403);
      const config = await server.http("GET", "openai/config", undefined, tokens["ai-operator"]);
      assert.equal(config.status, 200);
      assert.ok(!JSON.stringify(config.body).includes("sk-admin-"), "a read never returns the admin key");
    });

    test("the operator does not issue keys", async () => {
      assert.equal(await status("ai-operator", "GET", "openai/creds/chatbot"), 403);
      assert.equal(await status("ai-operator", "GET", "litellm/creds/analyst"), 403);
    });

    test("the operator reads metrics, the sweep report and spend, all root-protected", async () => {
      const metrics = await fetch(`${server.addr}/v1/openai/metrics`, { headers: { "X-Vault-Token": tokens["ai-operator"]! } });
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /ai_secrets_keys_issued_total/);
      assert.equal(await status("ai-operator", "POST", "openai/sweep", {}), 200);
      assert.equal(await status("ai-operator", "GET", "litellm/spend"), 200);
    });

    test("the operator lists a role's leases and revokes them all by prefix", async () => {
      const a = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      const listed = await server.http("GET", "sys/leases/lookup/openai/creds/chatbot?list=true", undefined, tokens["ai-operator"]);
      assert.equal(listed.status, 200);
      assert.ok((listed.body.data?.["keys"] as string[]).includes(a.lease_id.split("/").at(-1)!));
      assert.equal(await status("ai-operator", "PUT", "sys/leases/revoke-prefix/openai/creds/chatbot"), 204);
      await waitFor("the key to die", async () => ((await keyWorks(a.data["api_key"]!)) ? undefined : true));
    });

    test("the auditor reads metrics and spend", async () => {
      const issued = await issueAs("ai-litellm-analyst", "litellm/creds/analyst");
      const metrics = await fetch(`${server.addr}/v1/litellm/metrics`, { headers: { "X-Vault-Token": tokens["ai-auditor"]! } });
      assert.equal(metrics.status, 200);
      await metrics.arrayBuffer();
      const spend = await server.http("GET", "litellm/spend", undefined, tokens["ai-auditor"]);
      assert.equal(spend.status, 200);
      assert.ok((spend.body.data?.["roles"] as Record<string, unknown>)["analyst"]);
      assert.ok(!JSON.stringify(spend.body).includes(issued.data["key"]!), "spend never shows a key value");
    });

    test("the auditor issues, changes and revokes nothing", async () => {
      assert.equal(await status("ai-auditor", "GET", "openai/creds/chatbot"), 403);
      assert.equal(await status("ai-auditor", "GET", "litellm/creds/analyst"), 403);
      assert.equal(await status("ai-auditor", "GET", "openai/config"), 403);
      assert.equal(await status("ai-auditor", "POST", "openai/config/rotate", {}), 403);
      assert.equal(await status("ai-auditor", "POST", "openai/roles/chatbot", { ttl: "2h" }), 403);
      assert.equal(await status("ai-auditor", "POST", "openai/sweep", {}), 403);
      assert.equal(await status("ai-auditor", "PUT", "sys/leases/revoke-prefix/openai/creds/chatbot"), 403);
    });

    test("read on metrics without sudo is a 403: the policies grant sudo for that", async () => {
      const policy = 'path "openai/metrics" { capabilities = ["read"] }';
      const res = await server.http("PUT", "sys/policies/acl/metrics-without-sudo", { policy });
      assert.equal(res.status, 204);
      const token = await server.http("POST", "auth/token/create", { policies: ["metrics-without-sudo"] });
      const t = String((token.body["auth"] as { client_token: string }).client_token);
      assert.equal((await fetch(`${server.addr}/v1/openai/metrics`, { headers: { "X-Vault-Token": t } })).status, 403);
    });

    test("a wrapped creds response holds no key; unwrapping it once yields a working key in a lease", async () => {
      const wrapped = await fetch(`${server.addr}/v1/openai/creds/chatbot`, { headers: { "X-Vault-Token": tokens["ai-openai-chatbot"]!, "X-Vault-Wrap-TTL": "5m" } });
      assert.equal(wrapped.status, 200);
      const body = (await wrapped.json()) as { data: unknown; wrap_info: { token: string; creation_path: string } };
      assert.equal(body.data, null);
      assert.equal(body.wrap_info.creation_path, "openai/creds/chatbot");
      // Whoever holds the wrapping token unwraps it, with no token of its own.
      const unwrapped = await server.http("POST", "sys/wrapping/unwrap", undefined, body.wrap_info.token);
      assert.equal(unwrapped.status, 200);
      const issued = unwrapped.body as unknown as Issued;
      seen.push(issued.data["api_key"]!);
      assert.match(issued.lease_id, /^openai\/creds\/chatbot\//);
      assert.ok(await keyWorks(issued.data["api_key"]!));
      const again = await server.http("POST", "sys/wrapping/unwrap", undefined, body.wrap_info.token);
      assert.equal(again.status, 400, "a wrapping token unwraps once");
    });

    test("the audit log holds issued key values only as HMACs, which sys/audit-hash reproduces", async () => {
      const issued = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      const key = issued.data["api_key"]!;
      const hash = await server.http("POST", "sys/audit-hash/file", { input: key });
      const hmac = String(hash.body.data?.["hash"]);
      assert.match(hmac, /^hmac-sha256:/);
      const log = readFileSync(auditLog, "utf8");
      assert.ok(!log.includes(key), "the key value is not in the audit log");
      assert.ok(log.includes(hmac), "its HMAC is");
    });

    test("the audit log never holds an issued key, an admin key or a master key in clear", () => {
      const log = readFileSync(auditLog, "utf8");
      assert.ok(log.includes('"path":"openai/creds/chatbot"') && log.includes('"path":"litellm/creds/analyst"'));
      assert.ok(seen.length >= 5);
      for (const key of seen) assert.ok(!log.includes(key), "an issued key is in the audit log");
      assert.doesNotMatch(log, /sk-(svcacct|admin)-/);
      assert.ok(!log.includes(em.adminKey));
      assert.ok(!log.includes(ll.masterKey));
    });
  });
}
