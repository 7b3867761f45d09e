// The AI engine's OpenAI mount on a real server against the Admin API
// emulator: the seed plugin's README commands, then what revocation,
// expiry and rotation do at the provider.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AI_PLUGIN, requireFile } from "../support/paths.ts";
import { DevServer, type ServerKind, waitFor } from "../../scripts/lib/dev-server.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";

interface Issued {
  lease_id: string;
  lease_duration: number;
  renewable: boolean;
  data: Record<string, string>;
}

export function openAIScenario(kind: ServerKind, binary: string | undefined, skipReason: string) {
  describe(`OpenAI engine on ${kind}`, { skip: binary ? false : skipReason }, () => {
    let server: DevServer;
    let em: OpenAIEmulator;
    let project: string;
    const accounts = () =>
      ((em.control.state() as { projects: Array<{ id: string; service_accounts: Array<{ id: string }> }> }).projects.find((p) => p.id === project)?.service_accounts ?? []).length;
    const adminKeys = () => (em.control.state() as { admin_api_keys: Array<{ id: string }> }).admin_api_keys.map((k) => k.id);
    const keyWorks = async (key: string) => (await fetch(`${em.baseUrl}/models`, { headers: { Authorization: `Bearer ${key}` } })).status === 200;
    const issue = async (role: string) => JSON.parse(await server.cliOk(["read", "-format=json", `openai/creds/${role}`])) as Issued;

    before(async () => {
      em = await startOpenAIEmulator();
      project = em.projects[0]!.id;
      server = await DevServer.start(kind, binary!, [requireFile(AI_PLUGIN, "run `npm run build` first")]);
      await server.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-ai"]);
    });

    after(async () => {
      await server?.stop();
      await em?.close();
    });

    test("the seed README's config command configures the mount", async () => {
      await server.cliOk([
        "write",
        "openai/config",
        `admin_api_key=${em.adminKey}`,
        `admin_api_key_id=${em.adminKeyId}`,
        `organization_id=${em.organizationId}`,
        `api_endpoint=${em.baseUrl}`,
      ]);
      const config = JSON.parse(await server.cliOk(["read", "-format=json", "openai/config"])) as { data: Record<string, unknown> };
      assert.equal(config.data["organization_id"], em.organizationId);
      assert.ok(!JSON.stringify(config).includes(em.adminKey), "the admin key is never read back");
    });

    test("a wrong admin key is refused with a 400 that names it", async () => {
      const res = await server.http("POST", "openai/config", { admin_api_key: "sk-admin-wrong" });
      assert.equal(res.status, 400);
      assert.match(String(res.body.errors), /rejected the admin API key/);
      assert.ok(!String(res.body.errors).includes("sk-admin-wrong"));
    });

    test("the seed README's role command creates a role that reads back", async () => {
      await server.cliOk(["write", "openai/roles/my-role", `project_id=${project}`, "ttl=1h", "max_ttl=24h"]);
      const role = JSON.parse(await server.cliOk(["read", "-format=json", "openai/roles/my-role"])) as { data: Record<string, unknown> };
      assert.equal(role.data["ttl"], 3600);
      assert.equal(role.data["max_ttl"], 86400);
      assert.deepEqual(JSON.parse(await server.cliOk(["list", "-format=json", "openai/roles"])), ["my-role"]);
    });

    test("creds returns the seed plugin's keys in a renewable lease, and the key works", async () => {
      const issued = await issue("my-role");
      for (const k of ["api_key", "api_key_id", "service_account", "service_account_id"]) assert.ok(issued.data[k], k);
      assert.equal(issued.lease_duration, 3600);
      assert.equal(issued.renewable, true);
      assert.ok(await keyWorks(issued.data["api_key"]!));
      const renewed = JSON.parse(await server.cliOk(["lease", "renew", "-format=json", "-increment=2h", issued.lease_id])) as { lease_duration: number };
      assert.equal(renewed.lease_duration, 7200);
    });

    test("bao lease revoke makes the key stop working and removes the service account", async () => {
      const before = accounts();
      const issued = await issue("my-role");
      assert.equal(accounts(), before + 1);
      await server.cliOk(["lease", "revoke", issued.lease_id]);
      await waitFor("the key to die", async () => ((await keyWorks(issued.data["api_key"]!)) ? undefined : true));
      assert.equal(accounts(), before);
    });

    test("revoking by prefix removes every account of the role", async () => {
      await issue("my-role");
      await issue("my-role");
      assert.ok(accounts() >= 2);
      await server.cliOk(["lease", "revoke", "-prefix", "openai/creds/my-role"]);
      await waitFor("every account to be deleted", async () => (accounts() === 0 ? true : undefined));
    });

    test("lease expiry deletes the service account", { timeout: 60_000 }, async () => {
      await server.cliOk(["write", "openai/roles/short", `project_id=${project}`, "ttl=3s", "max_ttl=1m"]);
      const issued = await issue("short");
      assert.ok(await keyWorks(issued.data["api_key"]!));
      await waitFor("the lease to expire and the key to die", async () => ((await keyWorks(issued.data["api_key"]!)) ? undefined : true), 30_000);
      assert.equal(accounts(), 0);
    });

    test("a requested ttl over max_ttl is capped with a warning", async () => {
      await server.cliOk(["write", "openai/roles/capped", `project_id=${project}`, "ttl=10m", "max_ttl=1h"]);
      const res = await server.http("GET", "openai/creds/capped?ttl=5h");
      assert.equal(res.status, 200);
      assert.equal(res.body["lease_duration"], 3600);
      assert.match(String(res.body.warnings), /capped/);
      await server.cliOk(["lease", "revoke", "-prefix", "openai/creds/capped"]);
    });

    test("manual rotation leaves exactly one admin key at the provider and a working config", async () => {
      const out = JSON.parse(await server.cliOk(["write", "-format=json", "-f", "openai/config/rotate"])) as { data: Record<string, string> };
      assert.ok(out.data["admin_api_key_id"] && out.data["rotated_time"]);
      assert.deepEqual(adminKeys(), [out.data["admin_api_key_id"]]);
      const issued = await issue("my-role");
      assert.ok(await keyWorks(issued.data["api_key"]!));
      await server.cliOk(["lease", "revoke", issued.lease_id]);
    });

    test("a provider failure during issuance is a clear 400 that names the provider's answer", async () => {
      em.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", times: 1, action: { type: "status", status: 500 } });
      const res = await server.http("GET", "openai/creds/my-role");
      assert.equal(res.status, 400);
      assert.match(String(res.body.errors), /the key was not issued: OpenAI refused create project service account \(HTTP 500\)/);
    });

    test("a value that cannot be coerced, on a path with an existence check, is a 400 naming the field", async () => {
      const res = await server.http("POST", "openai/roles/typo", { project_id: project, ttl: "soon" });
      assert.equal(res.status, 400);
      assert.match(String(res.body.errors), /"ttl".*duration/);
    });

    test("scheduled rotation, driven by the engine's own periodic function, replaces the admin key and deletes the old one", { timeout: 150_000 }, async () => {
      const em2 = await startOpenAIEmulator();
      try {
        await server.cliOk(["secrets", "enable", "-path=openai-scheduled", "vault-plugin-secrets-ai"]);
        await server.cliOk([
          "write",
          "openai-scheduled/config",
          `admin_api_key=${em2.adminKey}`,
          `admin_api_key_id=${em2.adminKeyId}`,
          `organization_id=${em2.organizationId}`,
          `api_endpoint=${em2.baseUrl}`,
          "rotation_period=2s",
        ]);
        // The server's rollback tick comes once a minute per mount.
        const rotated = await waitFor(
          "a scheduled rotation",
          async () => {
            const config = JSON.parse(await server.cliOk(["read", "-format=json", "openai-scheduled/config"])) as { data: Record<string, unknown> };
            const id = String(config.data["admin_api_key_id"]);
            const atProvider = (em2.control.state() as { admin_api_keys: Array<{ id: string }> }).admin_api_keys.map((k) => k.id);
            return id !== em2.adminKeyId && atProvider.length === 1 && atProvider[0] === id ? id : undefined;
          },
          130_000,
        );
        assert.notEqual(rotated, em2.adminKeyId);
      } finally {
        await server.cli(["secrets", "disable", "openai-scheduled"]);
        await em2.close();
      }
    });

    test("the metrics path answers in the Prometheus text format", async () => {
      const res = await fetch(`${server.addr}/v1/openai/metrics`, { headers: { "X-Vault-Token": server.token } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
      assert.match(await res.text(), /ai_secrets_keys_issued_total/);
    });
  });
}
