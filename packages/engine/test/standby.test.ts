// The engine on a read-enabled standby (OpenBao's standbys on integrated
// storage, Vault Enterprise's performance standbys): what must happen only on
// the active node is sent there, and the rollback tick, which OpenBao runs on
// standbys too, does no provider work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LogicalError, REPLICATION_PERFORMANCE_STANDBY } from "@vault-plugin-ai/sdk";
import { emulatorState, openAIHarness, serviceAccounts, type Harness } from "./support.ts";

// Go's consts: ReplicationPerformancePrimary 1<<5, ReplicationDRDisabled 1<<13.
const ACTIVE = (1 << 5) | (1 << 13);
const STANDBY = REPLICATION_PERFORMANCE_STANDBY | (1 << 13);

function onStandby(h: Harness): void {
  h.tb.system.options.replicationState = STANDBY;
}

async function rejectsReadOnly(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof LogicalError && err.kind === "read-only");
}

test("issuing a key on a standby is sent to the active node before the provider is called", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    onStandby(h);
    const before = h.em.control.stats().total;
    await rejectsReadOnly(h.tb.read("creds/r"));
    await rejectsReadOnly(h.tb.write("creds/r"));
    assert.equal(h.em.control.stats().total, before);
    assert.equal(serviceAccounts(h.em).length, 0);
  } finally {
    await h.close();
  }
});

test("every write asked of a standby is sent to the active node before it reads its lagging storage or calls the provider", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    onStandby(h);
    const before = h.em.control.stats().total;
    const writes: Array<[string, () => Promise<unknown>]> = [
      ["write config", () => h.tb.write("config", { max_concurrency: 4 })],
      ["delete config", () => h.tb.delete("config")],
      ["write connections/x", () => h.tb.write("connections/x", { provider: "litellm", base_url: "http://127.0.0.1:9", master_key: "sk-x" })],
      ["delete connections/x", () => h.tb.delete("connections/x")],
      ["write roles/r", () => h.tb.write("roles/r", { ttl: "2h" })],
      ["write roles/new", () => h.tb.write("roles/new", { project_id: h.em.projects[0]!.id })],
      ["delete roles/r", () => h.tb.delete("roles/r")],
      ["write config/rotate", () => h.tb.write("config/rotate")],
      ["write connections/x/rotate", () => h.tb.write("connections/x/rotate")],
      ["write sweep", () => h.tb.write("sweep")],
    ];
    for (const [what, write] of writes) {
      await assert.rejects(write(), (err: unknown) => err instanceof LogicalError && err.kind === "read-only", what);
    }
    assert.equal(h.em.control.stats().total, before, "no provider request from a standby");
    h.tb.system.options.replicationState = ACTIVE;
    assert.equal((await h.tb.read("roles/r"))?.data?.["ttl"], 3600, "nothing was written");
  } finally {
    await h.close();
  }
});

test("the rollback tick on a standby leaves replaced admin keys and due rotations to the active node", async () => {
  const h = await openAIHarness({ config: { rotation_period: "1s" } });
  try {
    h.em.control.addFault({ method: "DELETE", path: "/v1/organization/admin_api_keys/*", times: 4, action: { type: "status", status: 503 } }); // every retry of the one deletion
    const rotated = (await h.tb.write("config/rotate"))?.data?.["admin_api_key_id"];
    assert.equal(emulatorState(h.em).admin_api_keys.length, 2, "the replaced key is pending deletion");
    await new Promise((r) => setTimeout(r, 1100));
    onStandby(h);
    const before = h.em.control.stats().total;
    await h.tb.rollback();
    assert.equal(h.em.control.stats().total, before, "no provider request from a standby's tick");
    h.tb.system.options.replicationState = ACTIVE;
    await h.tb.rollback();
    const keys = emulatorState(h.em).admin_api_keys.map((k) => k.id);
    const current = (await h.tb.read("config"))?.data?.["admin_api_key_id"];
    assert.notEqual(current, rotated, "the active node's tick rotated the due key");
    assert.deepEqual(keys, [current], "and deleted every replaced key");
  } finally {
    await h.close();
  }
});
