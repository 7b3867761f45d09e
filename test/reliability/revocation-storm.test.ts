// Revocation storm: thousands of OpenAI leases revoked by prefix on a real
// OpenBao server, measured at the emulator: how long it took, the peak
// request rate and the peak number of requests in flight at the provider,
// which the connection's max_concurrency must cap.
//
// OpenBao revokes a synchronous revoke-prefix one lease after another; an
// asynchronous one (sync=false) goes to the expiration manager's workers,
// which revoke many leases at once: that is where the engine's cap matters.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { DevServer } from "../../scripts/lib/dev-server.ts";
import { AI_PLUGIN, BAO } from "../support/paths.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";
import { report, scale } from "./report.ts";

const PLUGIN = "vault-plugin-secrets-ai";
const missing = !existsSync(BAO) ? `${BAO} is missing: run scripts/setup.sh` : !existsSync(AI_PLUGIN) ? `${AI_PLUGIN} is missing: run npm run build` : undefined;

/** Leases per storm; two storms, so the suite issues twice this many. */
const LEASES = scale(500, 10_000);
const MAX_CONCURRENCY = 4;
const ISSUERS = 16;

describe("revocation storm: leases revoked by prefix", { skip: missing ?? false }, () => {
  let server: DevServer;
  let em: OpenAIEmulator;

  const accountsOf = (role: string) =>
    (em.control.state() as { projects: Array<{ service_accounts: Array<{ name: string }> }> }).projects.reduce((n, p) => n + p.service_accounts.filter((a) => a.name.startsWith(`vault-${role}-`)).length, 0);
  const leasesOf = async (role: string) => {
    const res = await server.http("LIST", `sys/leases/lookup/openai/creds/${role}/`);
    return res.status === 404 ? 0 : ((res.body.data?.["keys"] as string[] | undefined) ?? []).length;
  };

  async function issueMany(role: string, count: number): Promise<number> {
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: ISSUERS }, async () => {
        while (next < count) {
          next++;
          const res = await server.http("GET", `openai/creds/${role}`);
          assert.equal(res.status, 200, JSON.stringify(res.body.errors));
        }
      }),
    );
    return Date.now() - started;
  }

  before(async () => {
    em = await startOpenAIEmulator();
    server = await DevServer.start("openbao", BAO, [AI_PLUGIN], { logLevel: "warn" });
    await server.cliOk(["secrets", "enable", "-path=openai", PLUGIN]);
    await server.cliOk(["write", "openai/config", `admin_api_key=${em.adminKey}`, `admin_api_key_id=${em.adminKeyId}`, `organization_id=${em.organizationId}`, `api_endpoint=${em.baseUrl}`]);
    for (const role of ["storm-sync", "storm-async"]) await server.cliOk(["write", `openai/roles/${role}`, `project_id=${em.projects[0]!.id}`, "ttl=24h"]);
  });

  after(async () => {
    await server?.stop();
    await em?.close();
  });

  test(`${LEASES} leases revoked by a synchronous revoke-prefix: every key deleted at the provider, within the cap`, { timeout: 1_800_000 }, async () => {
    const issueMs = await issueMany("storm-sync", LEASES);
    assert.equal(accountsOf("storm-sync"), LEASES);
    // Writing the connection also drops the cached client: the storm starts cold.
    await server.cliOk(["write", "openai/config", `max_concurrency=${MAX_CONCURRENCY}`]);
    em.control.clearRequests();
    const started = Date.now();
    const res = await server.http("PUT", "sys/leases/revoke-prefix/openai/creds/storm-sync", { sync: true });
    const tookMs = Date.now() - started;
    const stats = em.control.stats({ windowMs: 1000 });
    const left = accountsOf("storm-sync");
    const leases = await leasesOf("storm-sync");
    const ok = res.status === 204 && left === 0 && leases === 0 && stats.peakConcurrency <= MAX_CONCURRENCY;
    report({
      area: "load",
      scenario: "revocation storm, synchronous revoke-prefix",
      tried: `${LEASES} leases (issued by ${ISSUERS} clients in ${(issueMs / 1000).toFixed(1)} s) revoked by PUT sys/leases/revoke-prefix/openai/creds/<role> (sync); max_concurrency ${MAX_CONCURRENCY}; no provider latency`,
      found: `${res.status} after ${(tookMs / 1000).toFixed(1)} s = ${Math.round(LEASES / (tookMs / 1000))} revocations/s; at the provider: ${stats.total} requests, peak ${stats.peakRate.requests} req/s, peak ${stats.peakConcurrency} in flight (the server revokes a sync prefix one lease at a time); ${left} accounts and ${leases} leases left`,
      ok,
    });
    assert.equal(res.status, 204, JSON.stringify(res.body.errors));
    assert.equal(left, 0);
    assert.equal(leases, 0);
    assert.ok(stats.peakConcurrency <= MAX_CONCURRENCY, `peak in flight ${stats.peakConcurrency}`);
  });

  test(`${LEASES} leases revoked by an asynchronous revoke-prefix: the provider never sees more than max_concurrency requests at once`, { timeout: 1_800_000 }, async () => {
    const latencyMs = 20;
    const issueMs = await issueMany("storm-async", LEASES);
    assert.equal(accountsOf("storm-async"), LEASES);
    await server.cliOk(["write", "openai/config", `max_concurrency=${MAX_CONCURRENCY}`]);
    em.control.setLatency(latencyMs);
    em.control.clearRequests();
    const started = Date.now();
    const res = await server.http("PUT", "sys/leases/revoke-prefix/openai/creds/storm-async", { sync: false });
    assert.equal(res.status, 202, JSON.stringify(res.body.errors));
    // Generous: at the cap and this latency the provider takes ~200 deletions a second.
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + Math.max(120_000, LEASES * 50);
      const poll = async () => {
        if (accountsOf("storm-async") === 0 && (await leasesOf("storm-async")) === 0) return resolve();
        if (Date.now() > deadline) return reject(new Error(`still ${accountsOf("storm-async")} accounts at the provider`));
        setTimeout(() => void poll().catch(reject), 100);
      };
      void poll().catch(reject);
    });
    const tookMs = Date.now() - started;
    em.control.setLatency(0);
    const stats = em.control.stats({ windowMs: 1000 });
    const ok = stats.peakConcurrency <= MAX_CONCURRENCY;
    report({
      area: "load",
      scenario: "revocation storm, asynchronous revoke-prefix",
      tried: `${LEASES} leases (issued in ${(issueMs / 1000).toFixed(1)} s) revoked by revoke-prefix with sync=false (the expiration manager's workers revoke in parallel); max_concurrency ${MAX_CONCURRENCY}, set just before (cold client cache); ${latencyMs} ms provider latency`,
      found: `every account and lease gone ${(tookMs / 1000).toFixed(1)} s after the 202 = ${Math.round(LEASES / (tookMs / 1000))} revocations/s; at the provider: ${stats.total} requests, peak ${stats.peakRate.requests} req/s, peak ${stats.peakConcurrency} in flight (cap ${MAX_CONCURRENCY}; before the fix, 15 with a cold cache)`,
      ok,
    });
    assert.ok(stats.peakConcurrency <= MAX_CONCURRENCY, `peak in flight ${stats.peakConcurrency}`);
  });
});
