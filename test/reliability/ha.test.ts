// High availability on a real three-node OpenBao cluster (integrated storage)
// against the OpenAI and LiteLLM emulators: the engine on every node, creds
// asked of a standby, the leader killed with SIGKILL while it holds leases,
// those leases revoked and expired through the new leader, and a connection
// change on the leader reaching the standbys' cached clients (invalidation)
// and surviving a failover.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFileSync, copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RaftCluster, type RaftNode } from "../../scripts/lib/raft-cluster.ts";
import { AI_PLUGIN, BAO } from "../support/paths.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../tools/emulators/litellm/emulator.ts";
import { report, scale } from "./report.ts";

const PLUGIN = "vault-plugin-secrets-ai";
/** The file name of the upgrade's new executable in every plugin directory. */
const NEXT = "vault-plugin-secrets-ai-next";
const missing = !existsSync(BAO) ? `${BAO} is missing: run scripts/setup.sh` : !existsSync(AI_PLUGIN) ? `${AI_PLUGIN} is missing: run npm run build` : undefined;

interface Issued {
  lease_id: string;
  data: Record<string, string>;
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("HA: a three-node OpenBao raft cluster", { skip: missing ?? false }, () => {
  let cluster: RaftCluster;
  let emA: OpenAIEmulator;
  let emB: OpenAIEmulator;
  let gw1: LiteLLMEmulator;
  let gw2: LiteLLMEmulator;
  let project: string;

  const accountIds = (em: OpenAIEmulator) =>
    ((em.control.state() as { projects: Array<{ id: string; service_accounts: Array<{ id: string }> }> }).projects.find((p) => p.id === project)?.service_accounts ?? []).map((a) => a.id);
  const keyWorks = async (em: OpenAIEmulator, key: string) => {
    const res = await fetch(`${em.baseUrl}/models`, { headers: { Authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    return res.status === 200;
  };
  async function issue(node: RaftNode, role: string): Promise<Issued> {
    const res = await cluster.http(node, "GET", `openai/creds/${role}`);
    assert.equal(res.status, 200, `creds/${role} on ${node.name}: ${JSON.stringify(res.body.errors)}`);
    return { lease_id: String(res.body["lease_id"]), data: res.body.data as Record<string, string> };
  }
  const keyInfoCalls = (gw: LiteLLMEmulator) => gw.control.requests().filter((r) => r.route === "/key/info").length;

  before(async () => {
    emA = await startOpenAIEmulator();
    project = emA.projects[0]!.id;
    // The second account holds the same project id, so roles stay valid when
    // the connection moves to it; its admin key and organization differ.
    emB = await startOpenAIEmulator({ projects: [{ id: project, name: "Default Project" }] });
    gw1 = await startLiteLLMEmulator();
    gw2 = await startLiteLLMEmulator();
    cluster = await RaftCluster.start("openbao", BAO, [AI_PLUGIN]);
    const leader = await cluster.leader();
    await cluster.registerPlugin(leader, "secret", PLUGIN, sha256(AI_PLUGIN));
    await cluster.cliOk(leader, ["secrets", "enable", "-path=openai", PLUGIN]);
    await cluster.cliOk(leader, ["write", "openai/config", `admin_api_key=${emA.adminKey}`, `admin_api_key_id=${emA.adminKeyId}`, `organization_id=${emA.organizationId}`, `api_endpoint=${emA.baseUrl}`]);
    await cluster.cliOk(leader, ["write", "openai/roles/long", `project_id=${project}`, "ttl=1h"]);
    await cluster.cliOk(leader, ["write", "openai/roles/short", `project_id=${project}`, `ttl=${scale(20, 30)}s`, "max_ttl=1h"]);
  });

  after(async () => {
    await cluster?.stop();
    await Promise.all([emA?.close(), emB?.close(), gw1?.close(), gw2?.close()]);
  });

  test("every node runs the engine from its own plugin directory, with the same sha256 the catalog holds", async () => {
    const leader = await cluster.leader();
    // Registered without -version, the server asks the executable for its own.
    const catalog = (await cluster.http(leader, "GET", "sys/plugins/catalog")).body.data as { detailed: Array<{ name: string; type: string; sha256: string; version: string }> };
    const registered = catalog.detailed.find((p) => p.name === PLUGIN && p.type === "secret");
    assert.ok(registered, "the plugin is in the catalog");
    const sums = cluster.nodes.map((n) => sha256(join(n.pluginDir, PLUGIN)));
    // A standby starts its plugin when it first serves the mount.
    for (const n of cluster.nodes) await cluster.http(n, "GET", "openai/config");
    const pids = cluster.nodes.map((n) => cluster.pluginPids(n, PLUGIN).length);
    const ok = sums.every((s) => s === registered.sha256) && pids.every((p) => p === 1);
    report({
      area: "ha",
      scenario: "the engine runs on every node of a 3-node raft cluster",
      tried: "plugin registered once on the leader (the catalog is replicated), the executable copied into each node's plugin_directory; the mount read on each node",
      found: `catalog: ${registered.version}, sha256 ${registered.sha256.slice(0, 12)}…, identical on ${sums.filter((s) => s === registered.sha256).length}/3 nodes; plugin processes per node: ${pids.join(", ")} (standbys serve reads with their own plugin process)`,
      ok,
    });
    assert.ok(ok);
  });

  test("writes and creds sent to a standby right after a write on the leader are done by the leader", async () => {
    const leader = await cluster.leader();
    const standbys = await cluster.standbys();
    const rounds = scale(5, 20);
    let done = 0;
    const failures: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const standby = standbys[i % standbys.length]!;
      // Each step at once after the one before: the standby's copy of storage may not hold it yet.
      await cluster.cliOk(leader, ["write", `openai/connections/c${i}`, `admin_api_key=${emA.adminKey}`, `admin_api_key_id=${emA.adminKeyId}`, `organization_id=${emA.organizationId}`, `api_endpoint=${emA.baseUrl}`]);
      const role = await cluster.http(standby, "POST", `openai/roles/fresh-${i}`, { connection: `c${i}`, project_id: project, ttl: "1h" });
      if (role.status !== 204) {
        failures.push(`role write: ${role.status} ${JSON.stringify(role.body.errors)}`);
        continue;
      }
      const creds = await cluster.http(standby, "GET", `openai/creds/fresh-${i}`);
      if (creds.status !== 200) {
        failures.push(`creds: ${creds.status} ${JSON.stringify(creds.body.errors)}`);
        continue;
      }
      done++;
      await cluster.http(leader, "PUT", "sys/leases/revoke", { lease_id: creds.body["lease_id"] });
    }
    report({
      area: "ha",
      scenario: "writes and creds asked of a standby are forwarded to the active node",
      tried: `${rounds} times: write a new connection on the leader, then at once write a role on it through a standby, then at once read creds for that role from the standby`,
      found:
        `${done}/${rounds} rounds done${failures.length ? `; failures: ${failures.slice(0, 3).join("; ")}` : ""} ` +
        `(before the engine forwarded writes and creds from standbys, the standby answered 400 "connection does not exist" / "role does not exist" from its lagging storage)`,
      ok: done === rounds,
    });
    assert.deepEqual(failures, []);
  });

  test("after kill -9 of the leader a standby takes over, and leases issued before are revoked and expire through it", { timeout: 240_000 }, async () => {
    const oldLeader = await cluster.leader();
    const n = scale(5, 50);
    const long: Issued[] = [];
    const short: Issued[] = [];
    for (let i = 0; i < n; i++) long.push(await issue(oldLeader, "long"));
    for (let i = 0; i < n; i++) short.push(await issue(oldLeader, "short"));
    for (const k of [...long, ...short]) assert.ok(await keyWorks(emA, k.data["api_key"]!));

    const killedAt = Date.now();
    await cluster.kill(oldLeader);
    const survivors = cluster.nodes.filter((x) => x !== oldLeader);
    const newLeader = await cluster.leader(120_000);
    const electedMs = Date.now() - killedAt;
    // What clients see: the survivors agree on the new leader's address.
    await cluster.waitUntil("the survivors to name the new leader", async () => {
      const seen = await Promise.all(survivors.map((s) => cluster.leaderSeenBy(s)));
      return seen.every((l) => l?.leader_address === newLeader.addr) ? true : undefined;
    }, 60_000);
    const agreedMs = Date.now() - killedAt;
    const first = await cluster.waitUntil("the first key issued by the new leader", async () => {
      const res = await cluster.http(newLeader, "GET", "openai/creds/long");
      return res.status === 200 ? { lease_id: String(res.body["lease_id"]), data: res.body.data as Record<string, string> } : undefined;
    }, 60_000, 200);
    const issuingMs = Date.now() - killedAt;
    long.push(first);

    const revokeStarted = Date.now();
    for (const k of long) {
      const res = await cluster.http(newLeader, "PUT", "sys/leases/revoke", { lease_id: k.lease_id });
      assert.equal(res.status, 204, `revoke ${k.lease_id}: ${JSON.stringify(res.body.errors)}`);
    }
    const revokeMs = Date.now() - revokeStarted;
    let longDead = 0;
    for (const k of long) if (!(await keyWorks(emA, k.data["api_key"]!))) longDead++;

    const shortIds = new Set(short.map((k) => k.data["service_account_id"]!));
    await cluster.waitUntil("the short leases to expire and their accounts to be deleted", async () => (accountIds(emA).some((id) => shortIds.has(id)) ? undefined : true), 150_000, 500);
    const expiredAfterMs = Date.now() - killedAt;
    let shortDead = 0;
    for (const k of short) if (!(await keyWorks(emA, k.data["api_key"]!))) shortDead++;
    const leftAtProvider = accountIds(emA).length;

    await cluster.restart(oldLeader);
    const ok = longDead === long.length && shortDead === short.length && leftAtProvider === 0;
    report({
      area: "ha",
      scenario: "kill -9 of the leader holding leases",
      tried: `${n} keys with a 1 h lease and ${n} with a ${scale(20, 30)} s lease issued through ${oldLeader.name}, then SIGKILL; raft performance_multiplier=1`,
      found:
        `${newLeader.name} active after ${seconds(electedMs)}, survivors agreed on it after ${seconds(agreedMs)}, first key issued through it after ${seconds(issuingMs)}; ` +
        `${long.length} leases revoked through it in ${revokeMs} ms, ${longDead}/${long.length} keys dead at the provider; ` +
        `${shortDead}/${short.length} short leases expired through it (all accounts gone ${seconds(expiredAfterMs)} after the kill); ${leftAtProvider} accounts left; ${oldLeader.name} restarted and rejoined as a standby`,
      ok,
    });
    assert.equal(longDead, long.length);
    assert.equal(shortDead, short.length);
    assert.equal(leftAtProvider, 0);
  });

  test("a connection change on the leader reaches the cached client of a standby that serves reads (invalidation)", { timeout: 120_000 }, async () => {
    const leader = await cluster.leader();
    const [standby] = await cluster.standbys();
    assert.ok(standby, "a standby");
    await cluster.cliOk(leader, ["write", "openai/connections/gw", "provider=litellm", `base_url=${gw1.baseUrl}`, `master_key=${gw1.masterKey}`]);
    await cluster.cliOk(leader, ["write", "openai/roles/via-gw", "connection=gw", "ttl=1h"]);
    const key = await issue(leader, "via-gw");
    // spend is a read that calls the provider: a standby serves it with its own cached client.
    const spendOn = async (node: RaftNode) => {
      const res = await cluster.http(node, "GET", "openai/spend");
      assert.equal(res.status, 200, JSON.stringify(res.body.errors));
    };
    await cluster.waitUntil("the standby to see the issued key and ask the first gateway", async () => {
      await spendOn(standby);
      return keyInfoCalls(gw1) > 0 ? true : undefined;
    }, 30_000, 200);
    const gw1Before = keyInfoCalls(gw1);

    const changedAt = Date.now();
    await cluster.cliOk(leader, ["write", "openai/connections/gw", `base_url=${gw2.baseUrl}`, `master_key=${gw2.masterKey}`]);
    let staleCalls = 0;
    await cluster.waitUntil("the standby to use the new connection", async () => {
      await spendOn(standby);
      staleCalls = keyInfoCalls(gw1) - gw1Before;
      return keyInfoCalls(gw2) > 0 ? true : undefined;
    }, 30_000, 50);
    const switchedMs = Date.now() - changedAt;
    // And it stays switched: nothing more reaches the old gateway.
    await spendOn(standby);
    const afterSwitch = keyInfoCalls(gw1) - gw1Before - staleCalls;

    await cluster.http(leader, "PUT", "sys/leases/revoke", { lease_id: key.lease_id });
    report({
      area: "ha",
      scenario: "a connection change on the leader invalidates a standby's cached client",
      tried: `connection "gw" (LiteLLM) moved from gateway 1 to gateway 2 on the leader while ${standby.name} served spend reads (which call the provider) with its cached client`,
      found: `${standby.name} asked gateway 2 ${switchedMs} ms after the write; ${staleCalls} read(s) still went to gateway 1 in that window (replication lag), ${afterSwitch} after`,
      ok: afterSwitch === 0,
    });
    assert.equal(afterSwitch, 0);
  });

  test("a new executable rolled out: a reload restarts the plugin on the node that handles it, scope=global on every node, and leases issued before revoke through it", { timeout: 180_000 }, async () => {
    const leader = await cluster.leader();
    const before = await issue(leader, "long");
    // A stand-in for a new build: the same program with bytes appended, so
    // its sha256 differs (the server checks it before every start).
    const next = join(cluster.workDir, "next-build");
    copyFileSync(AI_PLUGIN, next);
    appendFileSync(next, "next build");
    const nextSum = sha256(next);
    const exeOn = (n: RaftNode) => cluster.pluginPids(n, NEXT).length > 0 ? "new" : cluster.pluginPids(n, PLUGIN).length > 0 ? "old" : "none";
    const touchAll = async () => {
      for (const n of cluster.nodes) await cluster.http(n, "GET", "openai/config");
    };
    // 1. The new file beside the old one on every node, under its own name.
    for (const n of cluster.nodes) copyFileSync(next, join(n.pluginDir, NEXT));
    // 2. The catalog entry (replicated) points at it.
    await cluster.cliOk(leader, ["plugin", "register", `-sha256=${nextSum}`, `-command=${NEXT}`, "-version=v0.1.0", "secret", PLUGIN]);
    await touchAll();
    const afterRegister = cluster.nodes.map(exeOn);
    // 3. A reload on the active node restarts its plugin only.
    const reload = await cluster.http(leader, "PUT", "sys/plugins/reload/backend", { plugin: PLUGIN });
    assert.equal(reload.status, 200, JSON.stringify(reload.body.errors));
    await touchAll();
    const afterLeaderReload = cluster.nodes.map(exeOn);
    // 4. With scope=global every node reloads; the standbys do it on their own time.
    const global = await cluster.http(leader, "PUT", "sys/plugins/reload/backend", { plugin: PLUGIN, scope: "global" });
    assert.equal(global.status, 200, JSON.stringify(global.body.errors));
    const globalAt = Date.now();
    const afterAll = await cluster
      .waitUntil("every node to run the new executable", async () => {
        await touchAll();
        const now = cluster.nodes.map(exeOn);
        return now.every((e) => e === "new") ? now : undefined;
      }, 30_000, 200)
      .catch(() => cluster.nodes.map(exeOn));
    const globalMs = Date.now() - globalAt;
    const revoked = await cluster.http(leader, "PUT", "sys/leases/revoke", { lease_id: before.lease_id });
    const dead = !(await keyWorks(emA, before.data["api_key"]!));
    const fresh = await issue(leader, "long");
    await cluster.http(leader, "PUT", "sys/leases/revoke", { lease_id: fresh.lease_id });
    const leaderIndex = cluster.nodes.indexOf(leader);
    const ok = afterRegister.every((e) => e === "old") && afterLeaderReload[leaderIndex] === "new" && afterAll.every((e) => e === "new") && revoked.status === 204 && dead;
    report({
      area: "ha",
      scenario: "a new executable rolled out node by node",
      tried: "new executable (different sha256) copied beside the old one on every node, registered once on the leader, then sys/plugins/reload/backend on the leader, first without a scope, then with scope=global",
      found:
        `running executable per node (${cluster.nodes.map((n) => n.name).join(", ")}): after register ${afterRegister.join("/")}, after the leader's reload ${afterLeaderReload.join("/")}, after scope=global ${afterAll.join("/")} (within ${globalMs} ms); ` +
        `a lease issued before the upgrade revoked through the new executable (${revoked.status}, key dead: ${dead}), a new key issued`,
      ok,
    });
    assert.deepEqual(afterRegister, ["old", "old", "old"], "registering alone restarts nothing");
    assert.equal(afterLeaderReload[leaderIndex], "new");
    assert.deepEqual(afterAll, ["new", "new", "new"]);
    assert.equal(revoked.status, 204);
    assert.ok(dead);
  });

  test("a connection change on the leader, then a failover: the new leader issues with the new connection", { timeout: 180_000 }, async () => {
    const leader = await cluster.leader();
    await cluster.cliOk(leader, ["write", "openai/config", `admin_api_key=${emB.adminKey}`, `admin_api_key_id=${emB.adminKeyId}`, `organization_id=${emB.organizationId}`, `api_endpoint=${emB.baseUrl}`]);
    const beforeA = accountIds(emA).length;
    const killedAt = Date.now();
    await cluster.kill(leader);
    const newLeader = await cluster.leader(120_000);
    const key = await cluster.waitUntil("a key from the new leader", async () => {
      const res = await cluster.http(newLeader, "GET", "openai/creds/long");
      return res.status === 200 ? { lease_id: String(res.body["lease_id"]), data: res.body.data as Record<string, string> } : undefined;
    }, 60_000, 200);
    const issuedMs = Date.now() - killedAt;
    const atB = accountIds(emB).includes(key.data["service_account_id"]!);
    const worksAtB = await keyWorks(emB, key.data["api_key"]!);
    const revoke = await cluster.http(newLeader, "PUT", "sys/leases/revoke", { lease_id: key.lease_id });
    const goneAtB = !accountIds(emB).includes(key.data["service_account_id"]!);
    await cluster.restart(leader);
    const ok = atB && worksAtB && accountIds(emA).length === beforeA && revoke.status === 204 && goneAtB;
    report({
      area: "ha",
      scenario: "a connection change survives a failover",
      tried: `the default connection moved from OpenAI account A to account B on ${leader.name}, which was then killed with SIGKILL`,
      found: `${newLeader.name} issued ${seconds(issuedMs)} after the kill, at account ${atB ? "B" : "A"} (key works there: ${worksAtB}), nothing new at A; revoked through it (${revoke.status}), gone at B: ${goneAtB}`,
      ok,
    });
    assert.ok(atB && worksAtB);
    assert.equal(accountIds(emA).length, beforeA);
    assert.equal(revoke.status, 204);
    assert.ok(goneAtB);
  });
});
