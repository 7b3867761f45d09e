// Security properties on a real OpenBao with the engine serving an OpenAI,
// a LiteLLM and an OpenRouter connection on one mount, the server logging at
// trace level (which carries the plugin's own log lines):
//  - no configured or issued secret appears in the log, in an error or in
//    any answer but the issued key's own (the other scenario files check the
//    same over their faults, crashes and restarts);
//  - config and connection reads never return a credential;
//  - the running plugin refuses a TLS client without the host's certificate,
//    or with another one (the process-level test without a server is in
//    test/runtime/plugin-process.test.ts);
//  - every storage entry holding a credential is in the seal-wrapped paths the
//    plugin declares, and no entry holds an issued key;
//  - npm audit of the shipped dependencies has no high or critical advisory
//    (reported as blocked when the registry does not answer audits).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { connect } from "node:tls";
import { promisify } from "node:util";
import { DevServer } from "../../scripts/lib/dev-server.ts";
import { engineDefinition } from "../../packages/engine/src/backend.ts";
import { generatePluginIdentity } from "../../packages/sdk/src/runtime/tls.ts";
import { AI_PLUGIN, BAO, ROOT } from "../support/paths.ts";
import { report } from "./report.ts";
import {
  type Api,
  errorText,
  issue,
  LeakWatch,
  missingPrerequisite,
  mountStorage,
  mountUuid,
  ok,
  PLUGIN_NAME,
  pluginSocket,
  PROVIDER_LABEL,
  type ProviderFixture,
  rawGet,
  roleFields,
  startProvider,
} from "./support.ts";

const execFileAsync = promisify(execFile);
const CREDENTIAL_FIELDS = ["admin_api_key", "master_key", "admin_key", "provisioning_key"];

/** Vault's matching of special paths: exact, or a prefix when the pattern ends in "*". */
function covered(patterns: readonly string[], key: string): boolean {
  return patterns.some((p) => (p.endsWith("*") ? key.startsWith(p.slice(0, -1)) : key === p));
}

/** The outcome of a TLS handshake with the plugin's socket: "refused: <why>" or "accepted". */
function tryTls(path: string, identity?: { certPem: string; keyPem: string }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({
      path,
      servername: "localhost",
      ALPNProtocols: ["h2"],
      // We test the plugin's check of its client, not ours of the plugin.
      rejectUnauthorized: false,
      ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("accepted: the connection stayed open");
    }, 3_000);
    socket.on("error", (err) => {
      clearTimeout(timer);
      const alert = /tlsv1\d alert [a-z ]+|alert number \d+/.exec(err.message)?.[0];
      resolve(`refused: ${alert ?? err.message.replace(/\s+/g, " ").slice(0, 120)}`);
    });
    socket.on("secureConnect", () => {
      // TLS 1.3 completes the client side before the server checks the
      // client's certificate; a refusal arrives as an alert right after.
      socket.on("data", () => undefined);
      socket.on("close", () => {
        clearTimeout(timer);
        resolve("refused: the plugin closed the connection");
      });
    });
  });
}

const skip = missingPrerequisite();

describe("security on OpenBao", { skip: skip ?? false }, () => {
  let server: DevServer;
  let client: Api;
  const watch = new LeakWatch();
  const fixtures: ProviderFixture[] = [];
  const mount = "sec";
  let uuid = "";
  const issuedKeys: string[] = [];

  before(async () => {
    server = await DevServer.start("openbao", BAO, [AI_PLUGIN], { logLevel: "trace" });
    client = watch.wrap(server);
    const [openai, litellm, openrouter] = await Promise.all([startProvider("openai"), startProvider("litellm"), startProvider("openrouter")]);
    fixtures.push(openai, litellm, openrouter);
    for (const f of fixtures) watch.secret(`${PROVIDER_LABEL[f.provider]} credential`, f.credential);
    await ok(client, "POST", `sys/mounts/${mount}`, { type: PLUGIN_NAME });
    uuid = await mountUuid(server, mount);
    await ok(client, "POST", `${mount}/config`, openai.config);
    await ok(client, "POST", `${mount}/connections/gateway`, litellm.config);
    await ok(client, "POST", `${mount}/connections/router`, openrouter.config);
    await ok(client, "POST", `${mount}/roles/oa`, roleFields(openai, "1h"));
    await ok(client, "POST", `${mount}/roles/ll`, { ...roleFields(litellm, "1h"), connection: "gateway" });
    await ok(client, "POST", `${mount}/roles/or`, { ...roleFields(openrouter, "1h"), connection: "router" });
  });

  after(async () => {
    await server?.stop();
    await Promise.all(fixtures.map((f) => f.close()));
  });

  test("no secret appears in the trace-level log, in errors or in any answer but the issued key's, through every path and operation", async () => {
    const [openai, litellm, openrouter] = fixtures as [ProviderFixture, ProviderFixture, ProviderFixture];
    // Keys issued, renewed and revoked on every provider.
    for (const [role, f] of [["oa", openai], ["ll", litellm], ["or", openrouter]] as const) {
      const kept = await issue(client, f, `${mount}/creds/${role}`);
      const gone = await issue(client, f, `${mount}/creds/${role}`);
      issuedKeys.push(kept.secret, gone.secret);
      await ok(client, "PUT", "sys/leases/renew", { lease_id: kept.leaseId, increment: 7200 });
      await ok(client, "PUT", "sys/leases/revoke", { lease_id: gone.leaseId, sync: true });
    }
    // Rotation twice: each new admin key is a secret too, and so is each it replaced.
    for (let i = 0; i < 2; i++) {
      await ok(client, "PUT", `${mount}/config/rotate`, {});
      watch.secret("rotated OpenAI admin key", (JSON.parse((await rawGet(server, `logical/${uuid}/config`)) ?? "{}") as { admin_api_key?: string }).admin_api_key);
    }
    // Wrong credentials: the rejected value must not come back in the error.
    const wrong = { admin: "sk-admin-wrong0123456789abcdef", master: "sk-wrongmaster0123456789", provisioning: "sk-or-v1-wrong0123456789abcdef" };
    for (const [kind, value] of Object.entries(wrong)) watch.secret(`rejected ${kind} credential`, value);
    const refusals = [
      await client.http("POST", `${mount}/connections/bad-openai`, { ...openai.config, admin_api_key: wrong.admin }),
      await client.http("POST", `${mount}/connections/bad-litellm`, { ...litellm.config, master_key: wrong.master }),
      await client.http("POST", `${mount}/connections/bad-router`, { ...openrouter.config, provisioning_key: wrong.provisioning }),
      // A credential in a field where it does not belong, and one with a line break.
      await client.http("POST", `${mount}/roles/bad`, { project_id: wrong.admin }),
      await client.http("POST", `${mount}/connections/bad-header`, { ...litellm.config, master_key: `${wrong.master}\r\nX: y` }),
    ];
    const accepted = refusals.filter((r) => r.status < 400).length;
    // Every other path, read, listed and asked for help.
    const reads: Array<[string, string]> = [
      ["GET", `${mount}/config`],
      ["GET", `${mount}/connections/gateway`],
      ["GET", `${mount}/connections/router`],
      ["LIST", `${mount}/connections`],
      ["LIST", `${mount}/roles`],
      ["GET", `${mount}/roles/oa`],
      ["GET", `${mount}/roles/ll`],
      ["GET", `${mount}/roles/or`],
      ["GET", `${mount}/sweep`],
      ["PUT", `${mount}/sweep`],
      ["GET", `${mount}/spend`],
      ["GET", `${mount}/config?help=1`],
      ["GET", `sys/internal/specs/openapi`],
      ["LIST", `sys/leases/lookup/${mount}/creds/oa`],
    ];
    for (const [method, path] of reads) await client.http(method, path);
    const metrics = await fetch(`${server.addr}/v1/${mount}/metrics`, { headers: { "X-Vault-Token": server.token } });
    watch.record(`GET ${mount}/metrics (text)`, await metrics.text());

    const findings = watch.findings([{ label: "the server's log (trace, the plugin's lines included)", text: server.log }]);
    report({
      area: "security",
      scenario: "no secret in trace-level logs, errors or non-creds answers: every path",
      tried: `${watch.secretCount} secrets (3 credentials, 2 rotated admin keys, ${issuedKeys.length} issued keys, 3 rejected credentials) against ${watch.responses} answers (${reads.length} reads, 5 refused writes, issue, renew, revoke, rotate) and ${(server.log.length / 1e6).toFixed(1)} MB of trace log`,
      found: `${findings.length === 0 ? "none found" : findings.join("; ")}${accepted ? `; ${accepted} bad write(s) accepted` : ""}`,
      ok: findings.length === 0 && accepted === 0,
    });
    assert.equal(accepted, 0, "every bad write is refused");
    assert.deepEqual(findings, []);
  });

  test("config and connection reads never return a credential", async () => {
    const problems: string[] = [];
    const paths = [`${mount}/config`, `${mount}/connections/gateway`, `${mount}/connections/router`];
    for (const path of paths) {
      const res = await ok(server, "GET", path);
      const text = JSON.stringify(res.body);
      const named = CREDENTIAL_FIELDS.filter((f) => f in (res.body.data ?? {}));
      if (named.length > 0) problems.push(`${path} has field(s) ${named.join(", ")}`);
      if (fixtures.some((f) => text.includes(f.credential))) problems.push(`${path} returns a credential`);
    }
    report({
      area: "security",
      scenario: "config reads never return credentials",
      tried: `read ${paths.join(", ")} (OpenAI, LiteLLM, OpenRouter connections)`,
      found: problems.length === 0 ? "no credential field or value in any answer" : problems.join("; "),
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test("the plugin the server started refuses a TLS client without the host's certificate, or with another one", async () => {
    const pids = await server.pluginPids(PLUGIN_NAME);
    assert.equal(pids.length, 1);
    const socket = pluginSocket(pids[0]!);
    assert.ok(socket, "the plugin listens on a unix socket");
    const without = await tryTls(socket);
    const stranger = await tryTls(socket, await generatePluginIdentity());
    // And it still serves the server afterwards.
    const after = await client.http("GET", `${mount}/creds/oa`);
    const ok = without.startsWith("refused") && stranger.startsWith("refused") && after.status === 200;
    report({
      area: "security",
      scenario: "the running plugin refuses clients without the host's certificate",
      tried: "TLS to the plugin's unix socket (found through /proc) with no client certificate, then with a self-signed one; see also test/runtime/plugin-process.test.ts",
      found: `no certificate: ${without}; another certificate: ${stranger}; the server's own requests still served (${after.status})`,
      ok,
    });
    assert.match(without, /^refused/);
    assert.match(stranger, /^refused/);
    assert.equal(after.status, 200, errorText(after));
  });

  test("every storage entry holding a credential is seal-wrapped, and none holds an issued key", async () => {
    const sealWrapped = engineDefinition.specialPaths?.sealWrapStorage ?? [];
    const entries = await mountStorage(server, uuid);
    const credentials = fixtures.map((f) => f.credential);
    const current = (JSON.parse(entries.get("config") ?? "{}") as { admin_api_key?: string }).admin_api_key;
    if (current) credentials.push(current);
    const holding = [...entries].filter(([, v]) => credentials.some((c) => v.includes(c))).map(([k]) => k);
    const uncovered = holding.filter((k) => !covered(sealWrapped, k));
    const withKeys = [...entries].filter(([, v]) => issuedKeys.some((k) => v.includes(k))).map(([k]) => k);
    report({
      area: "security",
      scenario: "credentials only in seal-wrapped storage; issued keys never stored by the engine",
      tried: `every entry of the mount's storage (${entries.size}, read through sys/raw) against the configured and current credentials and ${issuedKeys.length} issued keys; seal-wrapped paths declared: ${sealWrapped.join(", ")}`,
      found: `credentials in ${holding.join(", ") || "nothing"}; ${uncovered.length ? `NOT seal-wrapped: ${uncovered.join(", ")}` : "all seal-wrapped"}; issued keys in ${withKeys.join(", ") || "no entry"} (the server keeps each lease's response data in its own lease entry, outside the mount)`,
      ok: uncovered.length === 0 && withKeys.length === 0 && holding.length > 0,
    });
    assert.ok(holding.includes("config") && holding.includes("connections/gateway") && holding.includes("connections/router"), `credentials found in ${holding.join(", ")}`);
    assert.deepEqual(uncovered, []);
    assert.deepEqual(withKeys, []);
  });

  test("npm audit of the shipped dependencies has no high or critical advisory", async () => {
    let out = "";
    let err = "";
    try {
      ({ stdout: out, stderr: err } = await execFileAsync("npm", ["audit", "--omit=dev", "--json"], { cwd: ROOT, timeout: 120_000 }));
    } catch (e) {
      // npm audit exits 1 when it finds advisories, and when it cannot ask.
      out = (e as { stdout?: string }).stdout ?? "";
      err = (e as { stderr?: string }).stderr ?? String(e);
    }
    let parsed: { message?: string; error?: { summary?: string }; metadata?: { vulnerabilities?: Record<string, number> } } = {};
    try {
      parsed = JSON.parse(out) as typeof parsed;
    } catch {
      parsed = {};
    }
    const counts = parsed.metadata?.vulnerabilities;
    if (!counts) {
      // The registry this machine reaches refuses the advisories endpoint; the
      // message names it, so its origin is shown as <registry>.
      const reason = (parsed.message ?? parsed.error?.summary ?? err.split("\n").find((l) => /error/i.test(l)) ?? "no answer").replace(/https?:\/\/[^/\s]+/g, "<registry>");
      report({ area: "security", scenario: "npm audit --omit=dev (shipped dependencies)", tried: "npm audit --omit=dev --json", found: `blocked: ${reason}`, ok: true });
      return;
    }
    const severe = (counts["high"] ?? 0) + (counts["critical"] ?? 0);
    report({
      area: "security",
      scenario: "npm audit --omit=dev (shipped dependencies)",
      tried: "npm audit --omit=dev --json",
      found: Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(", "),
      ok: severe === 0,
    });
    assert.equal(severe, 0, `high or critical advisories: ${JSON.stringify(counts)}`);
  });
});
