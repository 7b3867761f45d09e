// Who may read which key: the example policies in examples/access/policies,
// written to a real server from their files, enforced on the engine's paths;
// response wrapping of issued keys; and the audit device's HMAC of key values.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
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

/** Role bodies as examples/access/terraform/engine.tf and examples/access/pulumi/index.ts write them. */
function roleBodies(project: string): Record<string, Record<string, unknown>> {
  return {
    "openai/roles/chatbot": { project_id: project, ttl: 3600, max_ttl: 14400 },
    "openai/roles/batch": { project_id: project, ttl: 1800, max_ttl: 3600 },
    "litellm/roles/analyst": { models: ["gpt-4o-mini"], max_budget: 5, budget_duration: "30d", ttl: 3600, max_ttl: 28800 },
  };
}

/** An RS256 JWT as an identity provider would sign it. */
function signJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iat: now, nbf: now - 5, exp: now + 300, ...claims })}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
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
      await server.cliOk(["write", "litellm/config", `base_url=${ll.baseUrl}`, `master_key=${ll.masterKey}`]);
      // The roles, as the Terraform and Pulumi examples write them.
      for (const [path, body] of Object.entries(roleBodies(project))) {
        const res = await server.http("POST", path, body);
        assert.ok(res.status === 200 || res.status === 204, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
      }

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

    test("roles written as the IaC examples write them read back unchanged, so a plan shows no drift", async () => {
      for (const [path, body] of Object.entries(roleBodies(em.projects[0]!.id))) {
        const read = await server.http("GET", path);
        for (const [k, v] of Object.entries(body)) assert.deepEqual(read.body.data?.[k], v, `${path} ${k}`);
      }
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

    test("read on metrics, and lease listing or revoke-prefix, without sudo are 403s: the policies grant sudo for those", async () => {
      const policy = [
        'path "openai/metrics" { capabilities = ["read"] }',
        'path "sys/leases/lookup/openai/creds/*" { capabilities = ["list"] }',
        'path "sys/leases/revoke-prefix/openai/creds/*" { capabilities = ["update"] }',
      ].join("\n");
      const res = await server.http("PUT", "sys/policies/acl/metrics-without-sudo", { policy });
      assert.equal(res.status, 204);
      const token = await server.http("POST", "auth/token/create", { policies: ["metrics-without-sudo"] });
      const t = String((token.body["auth"] as { client_token: string }).client_token);
      assert.equal((await fetch(`${server.addr}/v1/openai/metrics`, { headers: { "X-Vault-Token": t } })).status, 403);
      assert.equal((await server.http("GET", "sys/leases/lookup/openai/creds/chatbot?list=true", undefined, t)).status, 403);
      assert.equal((await server.http("PUT", "sys/leases/revoke-prefix/openai/creds/chatbot", undefined, t)).status, 403);
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

    test("a policy can require wrapping: min_wrapping_ttl refuses a bare read, max_wrapping_ttl a long-lived wrap", async () => {
      const policy = 'path "openai/creds/chatbot" {\n  capabilities = ["read"]\n  min_wrapping_ttl = "1s"\n  max_wrapping_ttl = "10m"\n}';
      assert.equal((await server.http("PUT", "sys/policies/acl/chatbot-wrapped-only", { policy })).status, 204);
      const created = await server.http("POST", "auth/token/create", { policies: ["chatbot-wrapped-only"] });
      const token = (created.body["auth"] as { client_token: string }).client_token;
      const read = (wrapTtl?: string) =>
        fetch(`${server.addr}/v1/openai/creds/chatbot`, { headers: { "X-Vault-Token": token, ...(wrapTtl ? { "X-Vault-Wrap-TTL": wrapTtl } : {}) } });
      // Both are a plain permission denied: the policy does not match.
      const bare = await read();
      assert.equal(bare.status, 403);
      await bare.arrayBuffer();
      const tooLong = await read("1h");
      assert.equal(tooLong.status, 403);
      await tooLong.arrayBuffer();
      const wrapped = await read("5m");
      assert.equal(wrapped.status, 200);
      const body = (await wrapped.json()) as { data: unknown; wrap_info: { token: string } };
      assert.equal(body.data, null);
      const unwrapped = await server.http("POST", "sys/wrapping/unwrap", undefined, body.wrap_info.token);
      seen.push(String(unwrapped.body.data?.["api_key"]));
    });

    test("the audit log holds issued key values only as HMACs, which sys/audit-hash reproduces", async () => {
      const issued = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      const key = issued.data["api_key"]!;
      // The auditor's policy allows this: HMAC a value as the audit device does.
      const hash = await server.http("POST", "sys/audit-hash/file", { input: key }, tokens["ai-auditor"]);
      assert.equal(hash.status, 200);
      const hmac = String(hash.body.data?.["hash"]);
      assert.match(hmac, /^hmac-sha256:/);
      const log = readFileSync(auditLog, "utf8");
      assert.ok(!log.includes(key), "the key value is not in the audit log");
      assert.ok(log.includes(hmac), "its HMAC is");
    });

    test("a mount tuned with audit_non_hmac_response_keys logs the key's ids in clear, and the key still as an HMAC", async () => {
      await server.cliOk(["secrets", "tune", "-audit-non-hmac-response-keys=api_key_id", "-audit-non-hmac-response-keys=service_account_id", "openai/"]);
      const issued = await issueAs("ai-openai-chatbot", "openai/creds/chatbot");
      const entry = readFileSync(auditLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; response?: { secret?: { lease_id: string }; data?: Record<string, string> } })
        .find((e) => e.type === "response" && e.response?.secret?.lease_id === issued.lease_id);
      assert.ok(entry, "the issuing response is in the log with its lease id in clear");
      assert.equal(entry.response!.data!["api_key_id"], issued.data["api_key_id"]);
      assert.equal(entry.response!.data!["service_account_id"], issued.data["service_account_id"]);
      assert.match(entry.response!.data!["api_key"]!, /^hmac-sha256:/);
    });

    describe("an identity provider's groups claim, mapped to the policies", () => {
      // The IaC examples log in with OIDC; a JWT role with the provider's key
      // takes the same groups claim through the same group aliases, without
      // a browser or a live identity provider.
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const login = async (groups: string[]) => {
        const jwt = signJwt(privateKey, { iss: "https://idp.test", sub: "user-alice", aud: "vault-client", groups });
        const res = await server.http("POST", "auth/jwt/login", { role: "ai-users", jwt });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body["auth"] as { client_token: string; token_policies: string[]; identity_policies?: string[] };
      };

      before(async () => {
        await server.cliOk(["auth", "enable", "jwt"]);
        const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
        assert.equal((await server.http("POST", "auth/jwt/config", { jwt_validation_pubkeys: [pem], bound_issuer: "https://idp.test" })).status, 204);
        const role = { role_type: "jwt", user_claim: "sub", groups_claim: "groups", bound_audiences: ["vault-client"], token_policies: ["default"] };
        assert.equal((await server.http("POST", "auth/jwt/role/ai-users", role)).status, 204);
        const auths = await server.http("GET", "sys/auth");
        const accessor = String((auths.body.data?.["jwt/"] as { accessor: string }).accessor);
        // As examples/access/terraform/oidc.tf: an external group per IdP group, its alias named as in the claim.
        const group = await server.http("POST", "identity/group", { name: "idp-ai-chatbot-developers", type: "external", policies: ["ai-openai-chatbot"] });
        const id = String(group.body.data?.["id"]);
        assert.equal((await server.http("POST", "identity/group-alias", { name: "ai-chatbot-developers", mount_accessor: accessor, canonical_id: id })).status, 200);
      });

      test("a member of the IdP group gets its policy through the identity group, and issues that role's keys only", async () => {
        const auth = await login(["ai-chatbot-developers", "unrelated-group"]);
        assert.deepEqual(auth.token_policies, ["default"]);
        assert.deepEqual(auth.identity_policies, ["ai-openai-chatbot"]);
        const res = await server.http("GET", "openai/creds/chatbot", undefined, auth.client_token);
        assert.equal(res.status, 200);
        seen.push(String(res.body.data?.["api_key"]));
        assert.equal((await server.http("GET", "openai/creds/batch", undefined, auth.client_token)).status, 403);
      });

      test("someone outside the IdP group is denied", async () => {
        const jwt = signJwt(privateKey, { iss: "https://idp.test", sub: "user-bob", aud: "vault-client", groups: ["ai-analysts-elsewhere"] });
        const res = await server.http("POST", "auth/jwt/login", { role: "ai-users", jwt });
        const token = (res.body["auth"] as { client_token: string }).client_token;
        assert.equal((await server.http("GET", "openai/creds/chatbot", undefined, token)).status, 403);
      });

      test("removed from the IdP group, a user loses the policy at the next login, on the tokens it already holds too", async () => {
        const before = await login(["ai-chatbot-developers"]);
        assert.equal((await server.http("GET", "openai/creds/chatbot", undefined, before.client_token)).status, 200);
        const after = await login([]);
        assert.equal((await server.http("GET", "openai/creds/chatbot", undefined, after.client_token)).status, 403);
        assert.equal((await server.http("GET", "openai/creds/chatbot", undefined, before.client_token)).status, 403);
      });
    });

    describe("how long a key lives", () => {
      test("the mount's max_lease_ttl caps a role's longer TTL, with a warning", async () => {
        await server.cliOk(["secrets", "enable", "-path=openai-short", "-max-lease-ttl=10m", "vault-plugin-secrets-ai"]);
        // A key of its own: the operator's rotation replaced the seeded one.
        const admin = em.createAdminKey({ name: "short" });
        await server.cliOk(["write", "openai-short/config", `admin_api_key=${admin.value}`, `admin_api_key_id=${admin.id}`, `organization_id=${em.organizationId}`, `api_endpoint=${em.baseUrl}`]);
        await server.cliOk(["write", "openai-short/roles/long", `project_id=${em.projects[0]!.id}`, "ttl=1h", "max_ttl=2h"]);
        const res = await server.http("GET", "openai-short/creds/long");
        assert.equal(res.status, 200);
        seen.push(String(res.body.data?.["api_key"]));
        assert.equal(res.body["lease_duration"], 600);
        assert.match(String(res.body.warnings), /max_ttl|capped/i);
      });

      test("the mount's max_lease_ttl also bounds a LiteLLM key's expiry at the provider", async () => {
        await server.cliOk(["secrets", "enable", "-path=litellm-short", "-max-lease-ttl=10m", "vault-plugin-secrets-ai"]);
        await server.cliOk(["write", "litellm-short/config", `base_url=${ll.baseUrl}`, `master_key=${ll.masterKey}`]);
        await server.cliOk(["write", "litellm-short/roles/long", "ttl=1h", "max_ttl=2h"]);
        const before = Date.now();
        const res = await server.http("GET", "litellm-short/creds/long");
        const after = Date.now();
        assert.equal(res.status, 200);
        seen.push(String(res.body.data?.["key"]));
        assert.equal(res.body["lease_duration"], 600);
        const expires = Date.parse(String(res.body.data?.["expires"]));
        assert.ok(expires >= before + 590_000 && expires <= after + 610_000, `expires ${String(res.body.data?.["expires"])}`);
      });

      test("a key dies with the token that issued it, whatever its own TTL", { timeout: 60_000 }, async () => {
        const created = await server.http("POST", "auth/token/create", { policies: ["ai-openai-chatbot"], ttl: "4s" });
        const token = (created.body["auth"] as { client_token: string }).client_token;
        const res = await server.http("GET", "openai/creds/chatbot", undefined, token);
        assert.equal(res.status, 200);
        assert.equal(res.body["lease_duration"], 3600);
        const key = String(res.body.data?.["api_key"]);
        seen.push(key);
        assert.ok(await keyWorks(key));
        await waitFor("the token to expire and take the key with it", async () => ((await keyWorks(key)) ? undefined : true), 45_000);
      });
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
