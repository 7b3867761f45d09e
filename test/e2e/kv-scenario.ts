// The example KV plugin on a real server, through the server's CLI and HTTP
// API. The same scenario runs against OpenBao and HashiCorp Vault.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AI_PLUGIN, KV_PLUGIN, requireFile } from "../support/paths.ts";
import { DevServer, type ServerKind, waitFor } from "../../scripts/lib/dev-server.ts";

export function kvScenario(kind: ServerKind, binary: string | undefined, skipReason: string) {
  const cliName = kind === "openbao" ? "bao" : "vault";
  describe(`example KV plugin on ${kind}`, { skip: binary ? false : skipReason }, () => {
    let server: DevServer;

    before(async () => {
      server = await DevServer.start(kind, binary!, [
        requireFile(KV_PLUGIN, "run `npm run build` first"),
        requireFile(AI_PLUGIN, "run `npm run build` first"),
      ]);
      await server.cliOk(["secrets", "enable", "-path=kv-a", "vault-plugin-example-kv"]);
      await server.cliOk(["secrets", "enable", "-path=kv-b", "vault-plugin-example-kv"]);
    });

    after(async () => {
      await server?.stop();
    });

    test("the server registered both executables from its plugin directory as secrets plugins", async () => {
      const out = await server.cliOk(["plugin", "list", "secret"]);
      assert.match(out, /vault-plugin-example-kv/);
      assert.match(out, /vault-plugin-secrets-ai/);
    });

    test("the server records the version the plugin reports, making it a versioned catalog entry", async () => {
      const res = await server.http("GET", "sys/plugins/catalog/secret/vault-plugin-example-kv?version=v0.1.0");
      assert.equal(res.status, 200);
      assert.equal(res.body.data?.["version"], "v0.1.0");
    });

    test(`${cliName} write, read and list go through the plugin to storage`, async () => {
      await server.cliOk(["write", "kv-a/data/app/db", "user=alice", "port=5432"]);
      const read = JSON.parse(await server.cliOk(["read", "-format=json", "kv-a/data/app/db"])) as { data: Record<string, unknown> };
      assert.deepEqual(read.data, { user: "alice", port: "5432" });
      const list = JSON.parse(await server.cliOk(["list", "-format=json", "kv-a/data/"])) as string[];
      assert.deepEqual(list, ["app/"]);
    });

    test("two mounts of the same plugin keep separate storage", async () => {
      await server.cliOk(["write", "kv-a/data/only-in-a", "x=1"]);
      const other = await server.cli(["read", "kv-b/data/only-in-a"]);
      assert.notEqual(other.code, 0);
      assert.match(other.stdout + other.stderr, /No value found/);
    });

    test("two mounts are served by one multiplexed plugin process", async () => {
      const pids = await server.pluginPids("vault-plugin-example-kv");
      assert.equal(pids.length, 1);
    });

    test("the HTTP API writes JSON values and reads them back with their types", async () => {
      const put = await server.http("POST", "kv-a/data/typed", { n: 42, flag: true, nested: { a: [1, 2] } });
      assert.equal(put.status, 204);
      const get = await server.http("GET", "kv-a/data/typed");
      assert.equal(get.status, 200);
      assert.deepEqual(get.body.data, { n: 42, flag: true, nested: { a: [1, 2] } });
      const list = await server.http("LIST", "kv-a/data/");
      assert.ok((list.body.data?.["keys"] as string[]).includes("typed"));
    });

    test("delete removes an entry, and reading it then gives 404", async () => {
      await server.cliOk(["write", "kv-a/data/short-lived", "v=1"]);
      await server.cliOk(["delete", "kv-a/data/short-lived"]);
      const res = await server.http("GET", "kv-a/data/short-lived");
      assert.equal(res.status, 404);
    });

    test(`${cliName} path-help shows the path's synopsis and fields`, async () => {
      const out = await server.cliOk(["path-help", "kv-a/data/foo"]);
      assert.match(out, /Read, write and delete an entry of arbitrary JSON fields/);
      assert.match(out, /key \(string\)/);
    });

    test("an unknown path is a 404", async () => {
      const res = await server.http("GET", "kv-a/no-such-path");
      assert.equal(res.status, 404);
    });

    test("an operation the path does not declare is a 405", async () => {
      const res = await server.http("DELETE", "kv-a/info");
      assert.equal(res.status, 405);
    });

    test("a value that cannot be coerced is a 400 naming the field", async () => {
      const res = await server.http("POST", "kv-a/config", { greeting: { not: "a string" } });
      assert.equal(res.status, 400);
      assert.match(String(res.body.errors), /"greeting".*string/);
    });

    test("an unauthenticated path answers without a token", async () => {
      const res = await fetch(`${server.addr}/v1/kv-a/info`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: Record<string, unknown> };
      assert.equal(body.data["plugin"], "example-kv");
    });

    test("the server's OpenAPI document lists the plugin's paths", async () => {
      const res = await server.http("GET", "sys/internal/specs/openapi");
      assert.equal(res.status, 200);
      const paths = Object.keys(res.body["paths"] as Record<string, unknown>);
      for (const p of ["/kv-a/data/{key}", "/kv-a/data/", "/kv-a/config", "/kv-a/info"]) assert.ok(paths.includes(p), `${p} in ${paths.filter((x) => x.startsWith("/kv-a")).join(", ")}`);
    });

    test("the server's OpenAPI document carries the plugin's request fields and their types", async () => {
      const res = await server.http("GET", "sys/internal/specs/openapi");
      const config = (res.body["paths"] as Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, { type?: string }> } }> } } }>)["/kv-a/config"];
      assert.equal(config?.post?.requestBody?.content?.["application/json"]?.schema?.properties?.["greeting"]?.type, "string");
    });

    test("after kill -9 of the plugin process, the next request succeeds and the data is still there", async () => {
      await server.cliOk(["write", "kv-a/data/survivor", "alive=yes"]);
      const [pid] = await server.pluginPids("vault-plugin-example-kv");
      assert.ok(pid, "the plugin process is running");
      process.kill(pid, "SIGKILL");
      await waitFor("the killed process to go", async () => ((await server.pluginPids("vault-plugin-example-kv")).includes(pid) ? undefined : true));
      const read = JSON.parse(await server.cliOk(["read", "-format=json", "kv-a/data/survivor"])) as { data: Record<string, unknown> };
      assert.equal(read.data["alive"], "yes");
    });

    test("a lease issued by the plugin renews through the server and then revokes, running the revoke handler", async () => {
      const issued = JSON.parse(await server.cliOk(["read", "-format=json", "kv-a/leases/demo1"])) as { lease_id: string; lease_duration: number; renewable: boolean };
      assert.match(issued.lease_id, /^kv-a\/leases\/demo1\//);
      assert.equal(issued.lease_duration, 300);
      assert.equal(issued.renewable, true);
      const renewed = JSON.parse(await server.cliOk(["lease", "renew", "-format=json", "-increment=600", issued.lease_id])) as { lease_duration: number };
      assert.equal(renewed.lease_duration, 600);
      // Revocation is queued by the server and runs shortly after.
      await server.cliOk(["lease", "revoke", issued.lease_id]);
      const keys = await waitFor("the revoke handler", async () => (await server.http("LIST", "kv-a/revocations/")).body.data?.["keys"]);
      assert.deepEqual(keys, ["demo1"]);
    });

    test("the server's rollback tick rolls back a write-ahead log entry", { timeout: 120_000 }, async () => {
      await server.cliOk(["write", "kv-a/wal-demo/crashed-step", "x=1"]);
      // The server ticks once a minute per mount.
      await waitFor(
        "the rollback tick",
        async () => {
          const res = await server.http("LIST", "kv-a/rolled-back/");
          return (res.body.data?.["keys"] as string[] | undefined)?.includes("crashed-step") ? true : undefined;
        },
        90_000,
      );
    });

    test("the AI engine mounts and answers path-help", async () => {
      await server.cliOk(["secrets", "enable", "-path=ai", "vault-plugin-secrets-ai"]);
      const out = await server.cliOk(["path-help", "ai/"]);
      assert.match(out, /AI providers/);
      await server.cliOk(["secrets", "disable", "ai"]);
    });

    test("disabling both mounts ends the plugin process", async () => {
      await server.cli(["read", "kv-b/data/anything"]);
      await server.cliOk(["secrets", "disable", "kv-a"]);
      await server.cliOk(["secrets", "disable", "kv-b"]);
      await waitFor("the plugin process to exit", async () => ((await server.pluginPids("vault-plugin-example-kv")).length === 0 ? true : undefined));
    });
  });
}

export function orphanScenario(kind: ServerKind, binary: string | undefined, skipReason: string) {
  test(`when the ${kind} server is killed with SIGKILL, the plugin process exits instead of lingering`, { skip: binary ? false : skipReason }, async () => {
    const server = await DevServer.start(kind, binary!, [requireFile(KV_PLUGIN, "run `npm run build` first")]);
    try {
      await server.cliOk(["secrets", "enable", "-path=kv", "vault-plugin-example-kv"]);
      const [pid] = await server.pluginPids("vault-plugin-example-kv");
      assert.ok(pid, "the plugin is running");
      server.kill();
      await waitFor("the orphaned plugin to exit", async () => ((await server.pluginPids("vault-plugin-example-kv")).length === 0 ? true : undefined), 15_000);
    } finally {
      await server.stop();
    }
  });
}
