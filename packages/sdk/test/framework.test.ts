// The framework's request handling, as the Go SDK's framework.Backend does it,
// exercised through the in-process test kit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineBackend, LogicalError, putWal, REPLICATION_PERFORMANCE_STANDBY, secretResponse, type Backend, type PathDefinition, type SecretType } from "../src/index.ts";
import { TestBackend } from "../src/testing/index.ts";

interface State {
  revoked: Array<Record<string, unknown>>;
  periodicRuns: number;
  rolledBack: string[];
  invalidated: string[];
}
type P = PathDefinition<Backend<State>>;

const token: SecretType<Backend<State>> = {
  type: "token",
  renew: async ({ request }) => ({
    secret: { internalData: {}, leaseOptions: { ttl: request.secret?.leaseOptions.increment || 60, renewable: true } },
  }),
  revoke: ({ internal, backend }) => {
    backend.state.revoked.push(internal);
  },
};

const roles: P = {
  pattern: "roles/<name>",
  fields: {
    name: { type: "name-string", description: "The role's name." },
    ttl: { type: "duration", default: "1h", description: "Lease TTL." },
    kind: { type: "string", allowedValues: ["a", "b"], default: "a" },
    owner: { type: "string", required: true, description: "Who owns the role." },
  },
  existenceCheck: async ({ request, fields }) => (await request.storage.get(`roles/${fields.string("name")}`)) !== undefined,
  operations: {
    create: async ({ request, fields }) => {
      await request.storage.put({ key: `roles/${fields.string("name")}`, value: Buffer.from(JSON.stringify({ ttl: fields.number("ttl"), owner: fields.string("owner") })) });
      return undefined;
    },
    update: async ({ request, fields }) => {
      const entry = await request.storage.get(`roles/${fields.string("name")}`);
      const role = JSON.parse(Buffer.from(entry!.value).toString()) as Record<string, unknown>;
      if (fields.has("ttl")) role["ttl"] = fields.number("ttl");
      await request.storage.put({ key: `roles/${fields.string("name")}`, value: Buffer.from(JSON.stringify(role)) });
      return undefined;
    },
    read: async ({ request, fields }) => {
      const entry = await request.storage.get(`roles/${fields.string("name")}`);
      return entry ? { data: JSON.parse(Buffer.from(entry.value).toString()) as Record<string, unknown> } : undefined;
    },
  },
  helpSynopsis: "Manage roles.",
  helpDescription: "Roles say what a credential may do.",
};

const creds: P = {
  pattern: "creds/<name>",
  fields: { name: { type: "string" } },
  operations: {
    read: ({ fields }) => secretResponse(token, { value: "s3cret" }, { id: `id-${fields.string("name")}` }, { ttl: 120, maxTtl: 600 }),
  },
};

const boom: P = {
  pattern: "boom",
  operations: {
    read: () => {
      throw new Error("kaboom");
    },
    update: () => {
      throw new LogicalError("coded", "teapot", { status: 418 });
    },
  },
};

const factory = defineBackend<State>(
  {
    help: "A test backend.\nSecond line.",
    version: "v1.2.3",
    paths: [roles, creds, boom],
    secrets: [token],
    specialPaths: { root: ["config"] },
    periodic: (b) => {
      b.state.periodicRuns++;
    },
    walRollback: (b, _req, entry) => {
      if (entry.kind === "fails") throw new Error("provider down");
      b.state.rolledBack.push(entry.kind);
    },
    walRollbackMinAge: 60,
    invalidate: (b, key) => {
      b.state.invalidated.push(key);
    },
  },
  () => ({ revoked: [], periodicRuns: 0, rolledBack: [], invalidated: [] }),
);

const setup = () => TestBackend.create(factory);
const state = (tb: TestBackend) => (tb.backend as Backend<State>).state;

async function rejects(p: Promise<unknown>, kind: string, message?: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof LogicalError, `a LogicalError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test("a write to a new item is a create, and to an existing one an update, decided by the existence check", async () => {
  const tb = await setup();
  const first = await tb.backend.handleExistenceCheck(tb.makeRequest({ operation: "update", path: "roles/r1", data: { owner: "x" } }));
  assert.deepEqual(first, { checkFound: true, exists: false });
  await tb.write("roles/r1", { owner: "x" });
  const second = await tb.backend.handleExistenceCheck(tb.makeRequest({ operation: "update", path: "roles/r1" }));
  assert.deepEqual(second, { checkFound: true, exists: true });
});

test("a path without an existence check reports none, so the server treats writes as updates", async () => {
  const tb = await setup();
  assert.deepEqual(await tb.backend.handleExistenceCheck(tb.makeRequest({ operation: "update", path: "boom" })), { checkFound: false, exists: false });
});

test("the existence check of an unknown path is 'unsupported path'", async () => {
  const tb = await setup();
  await rejects(tb.backend.handleExistenceCheck(tb.makeRequest({ operation: "update", path: "nope" })), "unsupported-path");
});

test("field defaults apply when a field is absent", async () => {
  const tb = await setup();
  await tb.write("roles/r1", { owner: "x" });
  assert.deepEqual((await tb.read("roles/r1"))?.data, { ttl: 3600, owner: "x" });
});

test("a required field missing on create is a 400 naming the field", async () => {
  const tb = await setup();
  await rejects(tb.write("roles/r1", { ttl: "5m" }), "invalid-request", /missing required field "owner"/);
});

test("a required field may be left out of an update of an existing item", async () => {
  const tb = await setup();
  await tb.write("roles/r1", { owner: "x" });
  await tb.write("roles/r1", { ttl: "5m" });
  assert.deepEqual((await tb.read("roles/r1"))?.data, { ttl: 300, owner: "x" });
});

test("a value outside a field's allowed values is a 400 naming the field and the choices", async () => {
  const tb = await setup();
  await rejects(tb.write("roles/r1", { owner: "x", kind: "c" }), "invalid-request", /field "kind" must be one of "a", "b"/);
});

test("a value that cannot be coerced is a 400 naming the field and the type, before the handler runs", async () => {
  const tb = await setup();
  await rejects(tb.write("roles/r1", { owner: "x", ttl: "soon" }), "invalid-request", /"ttl".*duration/);
  assert.equal(await tb.read("roles/r1"), undefined);
});

test("unknown fields are ignored with a warning, as Vault does", async () => {
  const tb = await setup();
  const res = await tb.write("roles/r1", { owner: "x", colour: "red", age: 3 });
  assert.deepEqual(res?.warnings, ["Endpoint ignored these unrecognized parameters: [age colour]"]);
});

test("keys named after Object.prototype members are unknown fields like any other", async () => {
  const tb = await setup();
  const data = JSON.parse('{"owner":"x","constructor":"c","toString":1,"__proto__":{"ttl":"soon"}}') as Record<string, unknown>;
  const res = await tb.write("roles/r1", data as never);
  assert.deepEqual(res?.warnings, ["Endpoint ignored these unrecognized parameters: [__proto__ constructor toString]"]);
});

test("a path segment that does not match the pattern is an unknown path", async () => {
  const tb = await setup();
  await rejects(tb.read("roles/bad name"), "unsupported-path");
  await rejects(tb.read("roles/a/b"), "unsupported-path");
});

test("an operation the path does not declare is 'unsupported operation' (405)", async () => {
  const tb = await setup();
  await rejects(tb.delete("roles/r1"), "unsupported-operation");
});

test("a read of a missing item returns no response, which the server turns into a 404", async () => {
  const tb = await setup();
  assert.equal(await tb.read("roles/ghost"), undefined);
});

test("a handler's coded error keeps its status", async () => {
  const tb = await setup();
  await assert.rejects(tb.write("boom", {}), (err: unknown) => err instanceof LogicalError && err.status === 418);
});

test("an unexpected exception in a handler propagates for the runtime to log and hide", async () => {
  const tb = await setup();
  await assert.rejects(tb.read("boom"), (err: unknown) => !(err instanceof LogicalError) && (err as Error).message === "kaboom");
});

test("an issued secret carries its type in the lease's internal data, and the options asked for", async () => {
  const tb = await setup();
  const res = await tb.read("creds/x");
  assert.deepEqual(res?.secret?.internalData, { id: "id-x", secret_type: "token" });
  assert.equal(res?.secret?.leaseOptions.ttl, 120);
  assert.equal(res?.secret?.leaseOptions.maxTtl, 600);
  assert.equal(res?.secret?.leaseOptions.renewable, true);
});

test("revoke is routed by secret type and receives the internal data stored at issue time", async () => {
  const tb = await setup();
  const issued = (await tb.read("creds/x"))!;
  await tb.revoke(issued);
  assert.deepEqual(state(tb).revoked, [{ id: "id-x" }]);
});

test("renew is routed by secret type and keeps the secret type in the renewed lease", async () => {
  const tb = await setup();
  const issued = (await tb.read("creds/x"))!;
  const renewed = await tb.renew(issued, 90);
  assert.equal(renewed?.secret?.leaseOptions.ttl, 90);
  assert.equal(renewed?.secret?.internalData["secret_type"], "token");
});

test("renew carries the internal data stored at issue time into the renewed lease", async () => {
  const tb = await setup();
  const issued = (await tb.read("creds/x"))!;
  const renewed = (await tb.renew(issued, 90))!;
  assert.equal(renewed.secret?.internalData["id"], "id-x");
  await tb.revoke(renewed);
  assert.deepEqual(state(tb).revoked, [{ id: "id-x" }]);
});

test("a lease of a secret type the backend does not know is refused", async () => {
  const tb = await setup();
  const req = tb.makeRequest({ operation: "revoke", path: "", secret: { leaseId: "", internalData: { secret_type: "other" }, leaseOptions: { ttl: 0, maxTtl: 0, renewable: false, increment: 0, issueTime: new Date() } } });
  await rejects(tb.backend.handleRequest(req), "invalid-request", /secret is unsupported/);
});

/** A backend with one operation that must run on the active node, counting its runs. */
function forwardingBackend(replicationState: number) {
  const runs = { count: 0 };
  const issue: PathDefinition<Backend<null>> = {
    pattern: "issue",
    operations: {
      read: {
        forwardPerformanceStandby: true,
        handler: () => {
          runs.count++;
          return { data: { issued: true } };
        },
      },
    },
  };
  const make = defineBackend<null>({ help: "forwarding", paths: [issue] }, () => null);
  return { runs, create: () => TestBackend.create(make, { system: { replicationState } }) };
}

// Go's consts: ReplicationPerformancePrimary 1<<5, ReplicationDRDisabled 1<<13.
test("an operation marked forwardPerformanceStandby is refused as read-only on a read-enabled standby, before its handler runs", async () => {
  const { runs, create } = forwardingBackend(REPLICATION_PERFORMANCE_STANDBY | (1 << 13));
  const tb = await create();
  await rejects(tb.read("issue"), "read-only", /^cannot write to readonly storage$/);
  assert.equal(runs.count, 0);
});

test("an operation marked forwardPerformanceStandby runs on the active node", async () => {
  const { runs, create } = forwardingBackend((1 << 5) | (1 << 13));
  const tb = await create();
  assert.deepEqual((await tb.read("issue"))?.data, { issued: true });
  assert.equal(runs.count, 1);
});

test("the rollback tick runs the periodic function", async () => {
  const tb = await setup();
  await tb.rollback();
  await tb.rollback();
  assert.equal(state(tb).periodicRuns, 2);
});

test("the rollback tick rolls back and deletes WAL entries older than the minimum age, and keeps younger ones", async () => {
  const tb = await setup();
  await putWal(tb.storage, "old", { n: 1 }, new Date(Date.now() - 120_000));
  const young = await putWal(tb.storage, "young", { n: 2 });
  await tb.rollback();
  assert.deepEqual(state(tb).rolledBack, ["old"]);
  assert.deepEqual(await tb.storage.list("wal/"), [young]);
});

test("a WAL entry whose rollback fails is kept for the next tick", async () => {
  const tb = await setup();
  const id = await putWal(tb.storage, "fails", {}, new Date(Date.now() - 120_000));
  await assert.rejects(tb.rollback());
  assert.deepEqual(await tb.storage.list("wal/"), [id]);
});

test("invalidation passes the changed key to the backend's hook", async () => {
  const tb = await setup();
  await tb.backend.invalidateKey("config");
  assert.deepEqual(state(tb).invalidated, ["config"]);
});

test("path help gives the synopsis, the fields with their types, and the description", async () => {
  const tb = await setup();
  const res = await tb.backend.handleRequest(tb.makeRequest({ operation: "help", path: "roles/r1" }));
  const help = String(res?.data?.["help"]);
  assert.match(help, /Manage roles\./);
  assert.match(help, /ttl \(duration\)\n\n\s+Lease TTL\./);
  assert.match(help, /## DESCRIPTION\n\nRoles say what a credential may do\./);
});

test("root help returns the backend's help and an OpenAPI document of every path, with request schemas inline", async () => {
  const tb = await setup();
  const res = await tb.backend.handleRequest(tb.makeRequest({ operation: "help", path: "", data: { requestResponsePrefix: "test" } }));
  assert.match(String(res?.data?.["help"]), /A test backend\./);
  const doc = res?.data?.["openapi"] as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, "3.0.2");
  assert.deepEqual(Object.keys(doc.paths).sort(), ["/boom", "/creds/{name}", "/roles/{name}"]);
  const rolesPost = doc.paths["/roles/{name}"]?.["post"] as { requestBody: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>>; required?: string[] } }> } };
  const schema = rolesPost.requestBody.content["application/json"]?.schema;
  assert.deepEqual(schema?.properties["ttl"], { type: "string", format: "duration", description: "Lease TTL.", default: "1h" });
  assert.deepEqual(schema?.properties["kind"]?.["enum"], ["a", "b"]);
  assert.deepEqual(schema?.required, ["owner"]);
});
