// Provider failures on a real OpenBao with the engine mounted, against the
// emulators' fault injection:
//  - every provider call behind issue, renew, revoke and admin-key rotation
//    answers once with a 500, a 429 with Retry-After, a stall past the
//    client timeout, or a dropped connection (the 500, the stall and the drop
//    after the provider acted). Afterwards, once the WAL rollback has run, no
//    key is left at the provider without a lease, no lease names a key the
//    provider does not have, the stored admin credential still works, and
//    every error the client saw names the provider and the problem;
//  - the provider refuses every revocation for a while (CI: 25 s, soak:
//    200 s); the server keeps the leases and retries, and the keys are
//    deleted once the provider is back.
// Each failure case has its own emulator and mount, so they run at once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DevServer, type HttpResult } from "../../scripts/lib/dev-server.ts";
import { AI_PLUGIN, BAO } from "../support/paths.ts";
import { report, scale, soak } from "./report.ts";
import {
  type Api,
  awaitRollback,
  callCount,
  type Call,
  CLIENT_TIMEOUT_MS,
  errorText,
  FAULT_KINDS,
  type FaultKind,
  faultRule,
  issue,
  LeakWatch,
  leaseExists,
  leaseIds,
  missingPrerequisite,
  mountEngine,
  mountUuid,
  ok,
  type OpenAIFixture,
  PROVIDER_LABEL,
  PROVIDER_NAMES,
  type ProviderFixture,
  type ProviderName,
  rawGet,
  reconcile,
  roleFields,
  secs,
  startProvider,
  unclearError,
  waitFor,
} from "./support.ts";

type Op = "issue" | "renew" | "revoke" | "rotate: create" | "rotate: verify" | "rotate: delete old";

interface Case {
  provider: ProviderName;
  op: Op;
  fault: FaultKind;
}

interface CaseResult extends Case {
  mount: string;
  uuid: string;
  fixture: ProviderFixture;
  /** What the client saw, e.g. "400 after 30.0 s" or "200". */
  seen: string;
  problems: string[];
}

const OPS: Record<ProviderName, Op[]> = {
  // OpenAI and OpenRouter renewals call nothing: the lease alone moves.
  openai: ["issue", "revoke", "rotate: create", "rotate: verify", "rotate: delete old"],
  litellm: ["issue", "renew", "revoke"],
  openrouter: ["issue", "revoke"],
};

const OUTAGE_MS = scale(25_000, 200_000);

function callOf(fixture: ProviderFixture, op: Op): Call {
  switch (op) {
    case "issue":
      return fixture.calls.issue;
    case "revoke":
      return fixture.calls.revoke;
    case "renew":
      return fixture.calls.renew!;
    case "rotate: create":
      return (fixture as OpenAIFixture).rotationCalls.create;
    case "rotate: verify":
      return (fixture as OpenAIFixture).rotationCalls.verify;
    case "rotate: delete old":
      return (fixture as OpenAIFixture).rotationCalls.deleteOld;
  }
}

const skip = missingPrerequisite();

describe("provider failures on OpenBao", { skip: skip ?? false }, () => {
  let server: DevServer;
  let client: Api;
  const watch = new LeakWatch();
  const fixtures: ProviderFixture[] = [];

  before(async () => {
    server = await DevServer.start("openbao", BAO, [AI_PLUGIN], { logLevel: "debug" });
    client = watch.wrap(server);
  });

  after(async () => {
    await server?.stop();
    await Promise.all(fixtures.map((f) => f.close()));
  });

  async function setUp(provider: ProviderName, mount: string, ttl = "1h"): Promise<{ fixture: ProviderFixture; uuid: string }> {
    const fixture = await startProvider(provider);
    fixtures.push(fixture);
    watch.secret(`${PROVIDER_LABEL[provider]} credential`, fixture.credential);
    await mountEngine(client, mount, fixture);
    await ok(client, "POST", `${mount}/roles/r`, roleFields(fixture, ttl));
    return { fixture, uuid: await mountUuid(server, mount) };
  }

  /** Records what the client saw and whether an error was clear. */
  function seenOf(c: Case, res: HttpResult, started: number, problems: string[]): string {
    const took = Date.now() - started;
    if (res.status < 400) return `${res.status}${took > 2_000 ? ` after ${secs(took)}` : ""}`;
    const message = errorText(res);
    const why = unclearError(c.provider, message);
    if (why) problems.push(`the client's error ${why}: ${message.slice(0, 300)}`);
    return `${res.status} after ${secs(took)}`;
  }

  async function runCase(c: Case): Promise<CaseResult> {
    const mount = `faults-${c.provider}-${c.op.replace(/[: ]+/g, "-")}-${c.fault}`;
    const { fixture, uuid } = await setUp(c.provider, mount);
    const problems: string[] = [];
    const creds = `${mount}/creds/r`;
    const call = callOf(fixture, c.op);
    let seen = "";
    switch (c.op) {
      case "issue": {
        fixture.control.addFault(faultRule(call, c.fault));
        const t0 = Date.now();
        seen = seenOf(c, await client.http("GET", creds), t0, problems);
        fixture.control.clearFaults();
        break;
      }
      case "renew": {
        const lease = await issue(client, fixture, creds);
        fixture.control.addFault(faultRule(call, c.fault));
        const t0 = Date.now();
        seen = seenOf(c, await client.http("PUT", "sys/leases/renew", { lease_id: lease.leaseId, increment: 7200 }), t0, problems);
        fixture.control.clearFaults();
        const again = await client.http("PUT", "sys/leases/renew", { lease_id: lease.leaseId, increment: 7200 });
        if (again.status !== 200) problems.push(`renewing after the fault failed: ${again.status} ${errorText(again)}`);
        break;
      }
      case "revoke": {
        const lease = await issue(client, fixture, creds);
        fixture.control.addFault(faultRule(call, c.fault));
        const t0 = Date.now();
        const res = await client.http("PUT", "sys/leases/revoke", { lease_id: lease.leaseId, sync: true });
        seen = seenOf(c, res, t0, problems);
        fixture.control.clearFaults();
        // A failed revocation leaves the lease; the operator's revoke queues
        // it again and the server retries until the provider answers.
        if (res.status >= 300) await ok(client, "PUT", "sys/leases/revoke", { lease_id: lease.leaseId, sync: false });
        try {
          await waitFor("the lease to be revoked", async () => ((await leaseExists(server, lease.leaseId)) ? undefined : true), 120_000);
        } catch {
          problems.push("the lease was never revoked");
        }
        if (fixture.keyIds().includes(lease.keyId)) problems.push("the revoked lease's key still exists at the provider");
        break;
      }
      default: {
        fixture.control.addFault(faultRule(call, c.fault));
        const t0 = Date.now();
        const res = await client.http("PUT", `${mount}/config/rotate`, {});
        seen = seenOf(c, res, t0, problems);
        // A rotation whose old key could not be deleted yet says so.
        if (res.status === 200 && (res.body.warnings ?? []).some((w) => /could not be deleted yet/.test(w))) seen += " with a pending deletion";
        fixture.control.clearFaults();
      }
    }
    // The admin credential in storage still works: issuing goes through.
    const again = await client.http("GET", creds);
    if (again.status !== 200) problems.push(`issuing after the fault failed: ${again.status} ${errorText(again)}`);
    return { ...c, mount, uuid, fixture, seen, problems };
  }

  describe("at once", { concurrency: true }, () => {
    test("a failure at every provider call of issue, renew, revoke and rotation leaves no orphan, no unknown key and a working credential, and errors say what failed", { timeout: soak ? 3_600_000 : 600_000 }, async () => {
      const cases: Case[] = PROVIDER_NAMES.flatMap((provider) => OPS[provider].flatMap((op) => FAULT_KINDS.map((fault) => ({ provider, op, fault }))));
      const started = Date.now();
      const results = await Promise.all(cases.map(runCase));

      // The WAL rollback undoes creations whose answer was lost; the periodic
      // function retries deletions of replaced admin keys.
      const rollback = await awaitRollback(server, results.map((r) => r.uuid));
      const rotations = results.filter((r) => r.op.startsWith("rotate"));
      await waitFor(
        "replaced admin keys to be deleted",
        async () => {
          for (const r of rotations) {
            const config = JSON.parse((await rawGet(server, `logical/${r.uuid}/config`)) ?? "{}") as { pending_admin_key_deletions?: string[] };
            if ((config.pending_admin_key_deletions ?? []).length > 0) return undefined;
          }
          return true;
        },
        soak ? 900_000 : 150_000,
      ).catch(() => undefined);

      for (const r of results) {
        const state = await reconcile(server, r.fixture, `${r.mount}/creds`);
        if (state.orphans.length > 0) r.problems.push(`${state.orphans.length} key(s) at the provider without a lease`);
        if (state.unknown.length > 0) r.problems.push(`${state.unknown.length} lease(s) naming a key the provider does not have`);
        if (r.provider === "openai") {
          const stored = JSON.parse((await rawGet(server, `logical/${r.uuid}/config`)) ?? "{}") as { admin_api_key_id?: string; admin_api_key?: string };
          watch.secret("OpenAI admin key (rotated)", stored.admin_api_key);
          const atProvider = (r.fixture as OpenAIFixture).adminKeyIds();
          if (atProvider.length !== 1 || atProvider[0] !== stored.admin_api_key_id) r.problems.push(`admin keys at the provider ${JSON.stringify(atProvider)}, stored ${stored.admin_api_key_id}`);
        }
        // Everything still revokes, and then nothing is left at the provider.
        const revoked = await client.http("PUT", `sys/leases/revoke-prefix/${r.mount}/creds`, { sync: true });
        if (revoked.status >= 300) r.problems.push(`revoking every lease failed: ${revoked.status} ${errorText(revoked)}`);
        if (r.fixture.keyIds().length > 0) r.problems.push(`${r.fixture.keyIds().length} key(s) left at the provider after revoking every lease`);
      }

      const byOp = new Map<string, CaseResult[]>();
      for (const r of results) byOp.set(`${PROVIDER_LABEL[r.provider]} ${r.op}`, [...(byOp.get(`${PROVIDER_LABEL[r.provider]} ${r.op}`) ?? []), r]);
      for (const [name, rows] of byOp) {
        const problems = rows.flatMap((r) => r.problems.map((p) => `${r.fault}: ${p}`));
        report({
          area: "faults",
          scenario: `${name}: one 500, 429, timeout or dropped connection`,
          tried: `each fault once on ${callOf(rows[0]!.fixture, rows[0]!.op).method} ${callOf(rows[0]!.fixture, rows[0]!.op).path}, then the WAL rollback, reconcile, reissue, revoke all`,
          found: `${rows.map((r) => `${r.fault} → ${r.seen}`).join("; ")}; ${problems.length === 0 ? "no orphan, no unknown lease, credential works, errors clear" : problems.join("; ")}`,
          ok: problems.length === 0,
        });
      }
      report({
        area: "faults",
        scenario: "provider failure matrix, every call of issue, renew, revoke and rotation",
        tried: `${cases.length} cases at once (client timeout ${secs(CLIENT_TIMEOUT_MS)}, stalls ${secs(CLIENT_TIMEOUT_MS + 5_000)})`,
        found: `${results.filter((r) => r.problems.length === 0).length}/${cases.length} clean; ${rollback.entries} WAL entries undone by the rollback ${soak ? "at their real age" : "(aged through sys/raw)"} within ${secs(rollback.waitedMs)}; total ${secs(Date.now() - started)}`,
        ok: results.every((r) => r.problems.length === 0),
      });
      assert.deepEqual(results.flatMap((r) => r.problems.map((p) => `${r.mount}: ${p}`)), []);
    });

    test(`revocations refused by the provider for ${secs(OUTAGE_MS)} are retried by the server until the keys are deleted`, { timeout: soak ? 3_600_000 : 600_000 }, async () => {
      const perProvider = scale(3, 10);
      const outcomes = await Promise.all(
        PROVIDER_NAMES.map(async (provider) => {
          const mount = `outage-${provider}`;
          const { fixture } = await setUp(provider, mount);
          const problems: string[] = [];
          const creds = `${mount}/creds/r`;
          const leases = [];
          for (let i = 0; i < perProvider + 1; i++) leases.push(await issue(client, fixture, creds));
          const revokeCall = fixture.calls.revoke;
          const rule = fixture.control.addFault({ ...faultRule(revokeCall, "500", "always"), action: { type: "status", status: 503 } });
          const since = fixture.control.requests().at(-1)?.seq ?? 0;
          const t0 = Date.now();
          // A synchronous revocation reports the failure to its client...
          const sync = await client.http("PUT", "sys/leases/revoke", { lease_id: leases[0]!.leaseId, sync: true });
          if (sync.status < 400) problems.push(`a synchronous revocation during the outage answered ${sync.status}`);
          const why = unclearError(provider, errorText(sync));
          if (sync.status >= 400 && why) problems.push(`the synchronous revocation's error ${why}: ${errorText(sync).slice(0, 300)}`);
          // ...and the operator's revocation of them all is queued, as
          // `bao lease revoke -prefix` does.
          await ok(client, "PUT", `sys/leases/revoke-prefix/${creds}`, { sync: false });
          await new Promise((r) => setTimeout(r, Math.min(10_000, OUTAGE_MS / 2)));
          const pending = (await leaseIds(server, creds)).length;
          if (pending !== leases.length) problems.push(`${pending} of ${leases.length} leases still held during the outage`);
          await new Promise((r) => setTimeout(r, Math.max(0, t0 + OUTAGE_MS - Date.now())));
          fixture.control.removeFault(rule.id);
          const back = Date.now();
          let done = 0;
          try {
            await waitFor(
              "every lease to be revoked and its key deleted",
              async () => ((await leaseIds(server, creds)).length === 0 && fixture.keyIds().length === 0 ? true : undefined),
              soak ? 1_200_000 : 240_000,
            );
            done = Date.now();
          } catch {
            problems.push(`after ${secs(Date.now() - back)} with the provider back, ${(await leaseIds(server, creds)).length} lease(s) and ${fixture.keyIds().length} key(s) remain`);
          }
          return { provider, problems, t0, back, done, attempts: callCount(fixture.control, revokeCall, since), leases: leases.length, syncSeen: `${sync.status}` };
        }),
      );
      // No lease ran out of the server's retries on the way.
      const irrevocable = await ok(server, "GET", "sys/leases/count?type=irrevocable");
      const given = Number((irrevocable.body.data as { lease_count?: number } | undefined)?.lease_count ?? NaN);
      if (given !== 0) for (const o of outcomes) o.problems.push(`the server counts ${given} irrevocable lease(s)`);
      for (const o of outcomes) {
        report({
          area: "faults",
          scenario: `${PROVIDER_LABEL[o.provider]} revocation while the provider is down`,
          tried: `${o.leases} leases revoked (1 with -sync, the rest by prefix) while every ${PROVIDER_LABEL[o.provider]} delete answered 503 for ${secs(OUTAGE_MS)}`,
          found: o.done
            ? `sync revoke answered ${o.syncSeen} with a clear error; leases held throughout, none irrevocable; every key deleted ${secs(o.done - o.t0)} after the revocation (${secs(o.done - o.back)} after the provider came back); ${o.attempts} delete calls${o.problems.length ? `; ${o.problems.join("; ")}` : ""}`
            : o.problems.join("; "),
          ok: o.problems.length === 0,
        });
      }
      assert.deepEqual(outcomes.flatMap((o) => o.problems.map((p) => `${o.provider}: ${p}`)), []);
    });
  });

  test("no secret appears in the server's log, in errors or in any answer but the issued key's", async () => {
    const findings = watch.findings([{ label: "the server's log (debug, the plugin's lines included)", text: server.log }]);
    report({
      area: "security",
      scenario: "no secret in logs, errors or non-creds answers: provider failures",
      tried: `${watch.secretCount} secrets (credentials, rotated admin keys, issued keys) against ${watch.responses} answers and ${(server.log.length / 1e6).toFixed(1)} MB of server log`,
      found: findings.length === 0 ? "none found" : findings.join("; "),
      ok: findings.length === 0,
    });
    assert.deepEqual(findings, []);
  });
});
