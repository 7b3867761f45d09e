// The plugin process killed with SIGKILL on a real OpenBao, once while keys
// are being issued and once while leases are being revoked, with OpenAI,
// LiteLLM and OpenRouter mounts served by the one multiplexed process. The
// server starts the plugin again on the next request; every lease a client
// received must still revoke, and once the WAL rollback has run no key its
// WAL named may be left. An answer that dies with the plugin after the
// issuance finished (its WAL entry already removed) is no WAL's to cover:
// OpenBao sends such a request once more to the restarted plugin, with the
// same request id, and the engine's index of issuances by request id lets
// that retry delete the first key before it issues the one that is leased.
// OpenBao retries only when it has already noticed the plugin's death as the
// call fails; otherwise the client gets the RPC error, and a key its request
// finished stays without a lease: recorded and indexed by the engine, and
// ending by itself (at the provider, or through the sweeper once the
// record's lease_ends_at passed).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DevServer, type HttpResult } from "../../scripts/lib/dev-server.ts";
import { AI_PLUGIN, BAO } from "../support/paths.ts";
import { report, scale, soak } from "./report.ts";
import {
  type Api,
  awaitRollback,
  callCount,
  errorText,
  type Issued,
  issue,
  issuedRecord,
  LeakWatch,
  leaseExists,
  leaseIds,
  leaseOf,
  missingPrerequisite,
  mountEngine,
  mountUuid,
  ok,
  PLUGIN_NAME,
  PROVIDER_LABEL,
  PROVIDER_NAMES,
  rawGet,
  rawList,
  type ProviderFixture,
  type ProviderName,
  reconcile,
  roleFields,
  secs,
  startProvider,
  waitFor,
  walIds,
  walNames,
} from "./support.ts";

const PER_PROVIDER = scale(50, 300);

interface Mounted {
  provider: ProviderName;
  mount: string;
  uuid: string;
  fixture: ProviderFixture;
}

const skip = missingPrerequisite();

describe("plugin crash on OpenBao", { skip: skip ?? false }, () => {
  let server: DevServer;
  let client: Api;
  const watch = new LeakWatch();
  const mounts: Mounted[] = [];

  before(async () => {
    server = await DevServer.start("openbao", BAO, [AI_PLUGIN], { logLevel: "debug" });
    client = watch.wrap(server);
  });

  after(async () => {
    await server?.stop();
    await Promise.all(mounts.map((m) => m.fixture.close()));
  });

  async function setUp(prefix: string): Promise<Mounted[]> {
    return Promise.all(
      PROVIDER_NAMES.map(async (provider) => {
        // A little provider latency keeps requests in flight when the kill lands.
        const fixture = await startProvider(provider, { latencyMs: 30 });
        watch.secret(`${PROVIDER_LABEL[provider]} credential`, fixture.credential);
        const mount = `${prefix}-${provider}`;
        await mountEngine(client, mount, fixture);
        // The sweeper then deletes what the rollback cannot know of (below).
        if (provider === "openai") await ok(client, "POST", `${mount}/config`, { delete_orphaned_accounts: true });
        await ok(client, "POST", `${mount}/roles/r`, roleFields(fixture, "1h"));
        const m = { provider, mount, uuid: await mountUuid(server, mount), fixture };
        mounts.push(m);
        return m;
      }),
    );
  }

  async function thePlugin(): Promise<number> {
    const pids = await server.pluginPids(PLUGIN_NAME);
    assert.equal(pids.length, 1, `one plugin process serves every mount (found ${pids.length})`);
    return pids[0]!;
  }

  /** Runs every request at once and kills the plugin when a third of them have answered. */
  async function killMidway<T>(requests: Array<() => Promise<T>>): Promise<{ results: T[]; killedAfter: number; pid: number }> {
    const pid = await thePlugin();
    let answered = 0;
    let killedAfter = -1;
    const results = await Promise.all(
      requests.map(async (run) => {
        const r = await run();
        if (++answered >= requests.length / 3 && killedAfter < 0) {
          killedAfter = answered;
          process.kill(pid, "SIGKILL");
        }
        return r;
      }),
    );
    return { results, killedAfter, pid };
  }

  /** Error messages the clients saw, counted, each checked for a stack trace. */
  function tally(failures: HttpResult[], problems: string[]): string {
    const counts = new Map<string, number>();
    for (const f of failures) {
      const message = errorText(f);
      if (/\n\s+at\s|\.(ts|js|cjs):\d+/.test(message)) problems.push(`an error carries a stack trace: ${message.slice(0, 200)}`);
      const key = `${f.status} ${message.replace(/\s+/g, " ").trim().slice(0, 120)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${n}× ${k}`).join("; ") || "none";
  }

  const received: Array<{ m: Mounted; lease: Issued }> = [];
  let issueErrors = 0;

  test(`a plugin killed while ${PER_PROVIDER} keys per provider are being issued at once: every lease the clients received revokes`, { timeout: soak ? 1_800_000 : 300_000 }, async () => {
    const set = await setUp("crash-issue");
    const problems: string[] = [];
    const requests = set.flatMap((m) => Array.from({ length: PER_PROVIDER }, () => async () => ({ m, res: await client.http("GET", `${m.mount}/creds/r`) })));
    const t0 = Date.now();
    const { results, killedAfter, pid } = await killMidway(requests);
    const leases = results.filter((r) => r.res.status === 200).map((r) => ({ m: r.m, lease: leaseOf(r.m.fixture, r.res) }));
    received.push(...leases);
    const failures = results.filter((r) => r.res.status !== 200).map((r) => r.res);
    issueErrors = failures.length;
    // OpenBao retries a request that died with the plugin once on the new
    // process, so its client may see no error: the provider's count of
    // creations shows what the kill interrupted.
    const creations = set.reduce((n, m) => n + callCount(m.fixture.control, m.fixture.calls.issue), 0);
    let pendingWal = 0;
    for (const m of set) pendingWal += (await walIds(server, m.uuid)).length;
    if (failures.length === 0 && creations <= leases.length && pendingWal === 0) problems.push("the kill interrupted nothing: no request failed, no creation went unleased, no WAL entry is pending");

    // The server starts the plugin again on the next request.
    const restarted = Date.now();
    const again = await client.http("GET", `${set[0]!.mount}/creds/r`);
    if (again.status !== 200) problems.push(`the first request after the kill failed: ${again.status} ${errorText(again)}`);
    else received.push({ m: set[0]!, lease: leaseOf(set[0]!.fixture, again) });
    const newPid = await thePlugin();
    if (newPid === pid) problems.push("the plugin process was not replaced");
    const restartMs = Date.now() - restarted;

    // Every lease the clients received names a key the provider has...
    for (const m of set) {
      const state = await reconcile(server, m.fixture, `${m.mount}/creds`);
      if (state.unknown.length > 0) problems.push(`${PROVIDER_LABEL[m.provider]}: ${state.unknown.length} lease(s) naming a key the provider does not have`);
    }
    // ...and revokes cleanly.
    const revoked = await Promise.all(received.map(({ lease }) => client.http("PUT", "sys/leases/revoke", { lease_id: lease.leaseId, sync: true })));
    const refused = revoked.filter((r) => r.status >= 300);
    if (refused.length > 0) problems.push(`${refused.length} revocation(s) failed: ${tally(refused, problems)}`);
    for (const { m, lease } of received) if (m.fixture.keyIds().includes(lease.keyId)) problems.push(`${PROVIDER_LABEL[m.provider]}: a revoked lease's key still exists`);

    report({
      area: "crash",
      scenario: "plugin killed (SIGKILL) in the middle of concurrent issuance",
      tried: `${requests.length} creds requests at once (${PER_PROVIDER} each on OpenAI, LiteLLM, OpenRouter mounts of one plugin process); kill after ${killedAfter} answers`,
      found: `${leases.length} leases, ${failures.length} errors (${tally(failures, problems)}); ${creations} creations at the providers, ${pendingWal} WAL entries of interrupted issuances; a new plugin process answered the next request in ${secs(restartMs)}; ${received.length - refused.length}/${received.length} leases revoked cleanly; ${secs(Date.now() - t0)}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test(`a plugin killed while ${PER_PROVIDER} leases per provider are being revoked: every revocation completes`, { timeout: soak ? 1_800_000 : 300_000 }, async () => {
    const set = await setUp("crash-revoke");
    const problems: string[] = [];
    const leases: Array<{ m: Mounted; lease: Issued }> = [];
    for (const m of set) {
      const batch = await Promise.all(Array.from({ length: PER_PROVIDER }, () => issue(client, m.fixture, `${m.mount}/creds/r`)));
      leases.push(...batch.map((lease) => ({ m, lease })));
    }
    const t0 = Date.now();
    const { results, killedAfter } = await killMidway(leases.map(({ lease }) => () => client.http("PUT", "sys/leases/revoke", { lease_id: lease.leaseId, sync: true })));
    const failed = leases.filter((_, i) => results[i]!.status >= 300);
    const failures = results.filter((r) => r.status >= 300);
    // What an operator does with a revocation that failed: revoke again; the
    // server then retries until it succeeds.
    for (const { lease } of failed) await ok(client, "PUT", "sys/leases/revoke", { lease_id: lease.leaseId, sync: false });
    try {
      await waitFor(
        "every lease to be revoked and its key deleted",
        async () => {
          for (const { m, lease } of leases) if ((await leaseExists(server, lease.leaseId)) || m.fixture.keyIds().includes(lease.keyId)) return undefined;
          return true;
        },
        soak ? 900_000 : 180_000,
      );
    } catch {
      const left = (await Promise.all(set.map((m) => leaseIds(server, `${m.mount}/creds`)))).flat().length;
      problems.push(`${left} lease(s) still held`);
    }
    const irrevocable = Number(((await ok(server, "GET", "sys/leases/count?type=irrevocable")).body.data as { lease_count?: number } | undefined)?.lease_count ?? NaN);
    if (irrevocable !== 0) problems.push(`the server counts ${irrevocable} irrevocable lease(s)`);
    report({
      area: "crash",
      scenario: "plugin killed (SIGKILL) in the middle of concurrent revocation",
      tried: `${leases.length} synchronous revocations at once over three providers; kill after ${killedAfter} answers; failed ones revoked again (queued)`,
      found: `${leases.length - failed.length} revoked at once, ${failed.length} failed (${tally(failures, problems)}) and were revoked on retry; every key deleted, none irrevocable, ${secs(Date.now() - t0)}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  /** The key ids the engine's index of issuances by request id still names. */
  async function indexedKeys(uuid: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const folder of await rawList(server, `logical/${uuid}/requests/`)) {
      for (const id of await rawList(server, `logical/${uuid}/requests/${folder}`)) {
        const value = await rawGet(server, `logical/${uuid}/requests/${folder}${id}`);
        const keyId = value === undefined ? undefined : (JSON.parse(value) as { key_id?: unknown }).key_id;
        if (typeof keyId === "string") ids.add(keyId);
      }
    }
    return ids;
  }

  test("after both crashes, the WAL rollback undoes every interrupted issuance; a key is left without a lease only for a request OpenBao answered with an error instead of sending it again, and each ends by itself", { timeout: soak ? 1_800_000 : 300_000 }, async () => {
    const problems: string[] = [];
    const named = new Map<string, Set<string>>();
    for (const m of mounts) named.set(m.uuid, new Set(await walNames(server, m.uuid)));
    const rollback = await awaitRollback(server, mounts.map((m) => m.uuid));
    // Retries whose first attempt had finished, its answer lost with the plugin: the engine logs each key it deleted for them.
    const undone = server.log.split("first attempt, whose answer was lost").length - 1;
    let keys = 0;
    let left = 0;
    const bounds: string[] = [];
    for (const m of mounts) {
      const state = await reconcile(server, m.fixture, `${m.mount}/creds`);
      keys += state.keys;
      if (state.unknown.length > 0) problems.push(`${m.mount}: ${state.unknown.length} lease(s) naming a key the provider does not have`);
      if (state.orphans.length === 0) continue;
      const indexed = await indexedKeys(m.uuid);
      for (const keyId of state.orphans) {
        const record = await issuedRecord(server, m.uuid, keyId);
        // A key the engine never recorded, or one its WAL named, was the rollback's to delete.
        if (!record) {
          problems.push(`${m.mount}: a key without a lease that the engine has no record of`);
          continue;
        }
        if (record.name && named.get(m.uuid)?.has(record.name)) {
          problems.push(`${m.mount}: the rollback left a key its WAL named (${record.name})`);
          continue;
        }
        // A retry of its request would have found the key through the index
        // and deleted it (or failed, which a client sees): one still indexed
        // belongs to a request OpenBao answered with an error instead of
        // sending it again, because the plugin's death was not yet noticed.
        if (!indexed.has(keyId)) {
          problems.push(`${m.mount}: a key without a lease that is not in the engine's index of requests (a retry missed it)`);
          continue;
        }
        left++;
        // Such a key must end by itself: at the provider (LiteLLM at the
        // lease's TTL, OpenRouter at its maximum life), or through the sweeper
        // once the record's lease_ends_at has passed (OpenAI).
        const expiry = m.fixture.keyExpiry(keyId);
        const endsAt = expiry ?? (record.lease_ends_at !== undefined ? record.lease_ends_at * 1000 : null);
        if (endsAt === null || endsAt > Date.now() + 25 * 3600_000) problems.push(`${m.mount}: a key whose answer was lost has no end (${endsAt})`);
        else bounds.push(`${PROVIDER_LABEL[m.provider]} ${expiry !== null ? "expires at the provider" : "swept after lease_ends_at"} in ${((endsAt - Date.now()) / 3600_000).toFixed(1)} h`);
      }
    }
    if (left > issueErrors) problems.push(`${left} key(s) of requests never sent again, but only ${issueErrors} issuance error(s) reached clients`);
    const summary = [...new Set(bounds)].join(", ");
    report({
      area: "crash",
      scenario: "WAL rollback after the crashes",
      tried: `the server's rollback tick over ${mounts.length} mounts ${soak ? "with the entries at their real age" : "with the entries aged through sys/raw"}`,
      found: `${rollback.entries} WAL entries of interrupted issuances undone within ${secs(rollback.waitedMs)}; ${undone} request(s) sent again by OpenBao after their first answer died with the plugin, each deleting the key of its first attempt; ${keys} key(s) left at the providers without a lease, ${left} of them of requests OpenBao answered with an error (${issueErrors} such errors) instead of sending them again, each recorded and still indexed by the engine${summary ? `: ${summary}` : ""}${problems.length ? `; ${problems.join("; ")}` : ""}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test("no secret appears in the server's log, in errors or in any answer but the issued key's", () => {
    const findings = watch.findings([{ label: "the server's log (debug, the plugin's lines included)", text: server.log }]);
    report({
      area: "security",
      scenario: "no secret in logs, errors or non-creds answers: plugin crashes",
      tried: `${watch.secretCount} secrets against ${watch.responses} answers and ${(server.log.length / 1e6).toFixed(1)} MB of server log`,
      found: findings.length === 0 ? "none found" : findings.join("; "),
      ok: findings.length === 0,
    });
    assert.deepEqual(findings, []);
  });
});
