// A production-mode OpenBao (integrated storage, a real plugin catalog,
// sealed on every start) restarted with leases outstanding: once stopped
// cleanly (SIGTERM) and once killed (SIGKILL), each time started and unsealed
// again. Afterwards every lease is still there; half are revoked by prefix
// and the rest expire on their short TTL, and every key dies at its provider.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { BaoServer } from "../../scripts/lib/bao-server.ts";
import { AI_PLUGIN, BAO } from "../support/paths.ts";
import { report, scale, soak } from "./report.ts";
import {
  type Api,
  errorText,
  type Issued,
  issue,
  LeakWatch,
  leaseIds,
  missingPrerequisite,
  mountEngine,
  ok,
  PLUGIN_NAME,
  pool,
  PROVIDER_LABEL,
  PROVIDER_NAMES,
  type ProviderFixture,
  type ProviderName,
  roleFields,
  secs,
  startProvider,
  waitFor,
} from "./support.ts";

/** Leases per role: two roles on each of three providers (102, or 1,002 in the long form). */
const PER_ROLE = scale(17, 167);
const LEASES = PER_ROLE * 6;
/** Long enough to outlast issuing every lease and both restarts. */
const BRIEF_TTL_S = scale(25, 240);

interface Mounted {
  provider: ProviderName;
  mount: string;
  fixture: ProviderFixture;
  keep: Issued[];
  brief: Issued[];
}

const skip = missingPrerequisite();

describe("server restart with leases outstanding (production-mode OpenBao)", { skip: skip ?? false }, () => {
  let server: BaoServer;
  let client: Api;
  const watch = new LeakWatch();
  const mounts: Mounted[] = [];

  before(async () => {
    server = await BaoServer.start("openbao", BAO, [AI_PLUGIN], { logLevel: "debug" });
    client = watch.wrap(server);
  });

  after(async () => {
    await server?.destroy();
    await Promise.all(mounts.map((m) => m.fixture.close()));
  });

  /** Leases the server holds under each mount's roles. */
  async function held(): Promise<{ keep: number; brief: number }> {
    let keep = 0;
    let brief = 0;
    for (const m of mounts) {
      keep += (await leaseIds(server, `${m.mount}/creds/keep`)).length;
      brief += (await leaseIds(server, `${m.mount}/creds/brief`)).length;
    }
    return { keep, brief };
  }

  async function restart(how: "stop" | "kill"): Promise<{ downMs: number; pluginGoneMs: number | undefined }> {
    const pids = server.pluginPids(PLUGIN_NAME);
    const t0 = Date.now();
    if (how === "stop") await server.stop();
    else await server.kill();
    // A plugin whose server is gone must not linger.
    let pluginGoneMs: number | undefined;
    try {
      await waitFor("the old plugin process to exit", async () => (pids.every((p) => !server.pluginPids(PLUGIN_NAME).includes(p)) ? true : undefined), 30_000);
      pluginGoneMs = Date.now() - t0;
    } catch {
      pluginGoneMs = undefined;
    }
    await server.restart();
    return { downMs: Date.now() - t0, pluginGoneMs };
  }

  test(`${LEASES} outstanding leases survive a clean stop and a kill of the server: half revoke by prefix, half expire, and every key dies at its provider`, { timeout: soak ? 3_600_000 : 600_000 }, async () => {
    const problems: string[] = [];
    for (const provider of PROVIDER_NAMES) {
      const fixture = await startProvider(provider);
      watch.secret(`${PROVIDER_LABEL[provider]} credential`, fixture.credential);
      const mount = `restart-${provider}`;
      await mountEngine(client, mount, fixture);
      await ok(client, "POST", `${mount}/roles/keep`, roleFields(fixture, "1h"));
      await ok(client, "POST", `${mount}/roles/brief`, roleFields(fixture, `${BRIEF_TTL_S}s`, "1h"));
      mounts.push({ provider, mount, fixture, keep: [], brief: [] });
    }
    const t0 = Date.now();
    const jobs = mounts.flatMap((m) => ["keep", "brief"].flatMap((role) => Array.from({ length: PER_ROLE }, () => ({ m, role: role as "keep" | "brief" }))));
    await pool(jobs, 16, async ({ m, role }) => {
      m[role].push(await issue(client, m.fixture, `${m.mount}/creds/${role}`));
    });
    const issuedMs = Date.now() - t0;
    const briefEnds = t0 + BRIEF_TTL_S * 1000;
    const total = jobs.length;

    const stopped = await restart("stop");
    const afterStop = await held();
    if (afterStop.keep + afterStop.brief !== total) problems.push(`after the clean stop the server holds ${afterStop.keep + afterStop.brief} of ${total} leases`);
    const killed = await restart("kill");
    const afterKill = await held();
    if (Date.now() < briefEnds && afterKill.keep + afterKill.brief !== total) problems.push(`after the kill the server holds ${afterKill.keep + afterKill.brief} of ${total} leases`);
    if (stopped.pluginGoneMs === undefined || killed.pluginGoneMs === undefined) problems.push("a plugin process outlived its server by more than 30 s");

    // Half: revoked by prefix, as an operator would.
    const t1 = Date.now();
    for (const m of mounts) {
      const res = await client.http("PUT", `sys/leases/revoke-prefix/${m.mount}/creds/keep`, { sync: true });
      if (res.status >= 300) problems.push(`${m.mount}: revoke-prefix failed: ${res.status} ${errorText(res)}`);
      const left = m.keep.filter((l) => m.fixture.keyIds().includes(l.keyId)).length;
      if (left > 0) problems.push(`${m.mount}: ${left} key(s) of revoked leases still at the provider`);
    }
    const revokeMs = Date.now() - t1;

    // The other half: they expire on their own.
    let expiredLate = 0;
    try {
      await waitFor(
        "the brief leases to expire and their keys to die",
        async () => {
          for (const m of mounts) if ((await leaseIds(server, `${m.mount}/creds/brief`)).length > 0 || m.brief.some((l) => m.fixture.keyIds().includes(l.keyId))) return undefined;
          return true;
        },
        BRIEF_TTL_S * 1000 + 300_000,
      );
      expiredLate = Date.now() - briefEnds;
    } catch {
      problems.push(`${(await held()).brief} brief lease(s) never expired`);
    }
    for (const m of mounts) if (m.fixture.keyIds().length > 0) problems.push(`${m.mount}: ${m.fixture.keyIds().length} key(s) left at the provider`);
    const irrevocable = Number(((await ok(server, "GET", "sys/leases/count?type=irrevocable")).body.data as { lease_count?: number } | undefined)?.lease_count ?? NaN);
    if (irrevocable !== 0) problems.push(`the server counts ${irrevocable} irrevocable lease(s)`);

    report({
      area: "restart",
      scenario: "leases outstanding across a clean stop and a kill of a production-mode OpenBao",
      tried: `${total} leases over OpenAI, LiteLLM and OpenRouter mounts (issued in ${secs(issuedMs)}), half with ttl ${BRIEF_TTL_S}s; SIGTERM, start, unseal; SIGKILL, start, unseal; revoke the long half by prefix`,
      found: `down and back (unsealed): ${secs(stopped.downMs)} after the stop, ${secs(killed.downMs)} after the kill; old plugin process gone ${stopped.pluginGoneMs === undefined ? "never" : secs(stopped.pluginGoneMs)} / ${killed.pluginGoneMs === undefined ? "never" : secs(killed.pluginGoneMs)} after; leases held after each: ${afterStop.keep + afterStop.brief}, ${afterKill.keep + afterKill.brief}; revoke-prefix of ${afterKill.keep} took ${secs(revokeMs)}; the ${total - afterKill.keep} brief leases expired and their keys died ${secs(Math.max(0, expiredLate))} after their TTL; ${problems.length ? problems.join("; ") : "no key left, none irrevocable"}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test("no secret appears in the server's log, in errors or in any answer but the issued key's", () => {
    const findings = watch.findings([{ label: "the server's log (debug, the plugin's lines included)", text: server.log }]);
    report({
      area: "security",
      scenario: "no secret in logs, errors or non-creds answers: server restarts",
      tried: `${watch.secretCount} secrets against ${watch.responses} answers and ${(server.log.length / 1e6).toFixed(1)} MB of server log`,
      found: findings.length === 0 ? "none found" : findings.join("; "),
      ok: findings.length === 0,
    });
    assert.deepEqual(findings, []);
  });
});
