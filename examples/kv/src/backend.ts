// A tiny key/value secrets engine: arbitrary JSON under data/<key>.
import { defineBackend, getJson, putJson, putWal, secretResponse, type PathDefinition, type Backend, type SecretType } from "@vault-plugin-ai/sdk";

export const VERSION = "v0.1.0";

type KvState = Record<string, never>;
type KvPath = PathDefinition<Backend<KvState>>;

const dataPath: KvPath = {
  pattern: "data/<key*>",
  fields: { key: { type: "string", description: "Name of the entry; may contain slashes." } },
  takesArbitraryInput: true,
  existenceCheck: async ({ request, fields }) => (await request.storage.get(`data/${fields.string("key")}`)) !== undefined,
  operations: {
    read: async ({ request, fields }) => {
      const value = await getJson<Record<string, unknown>>(request.storage, `data/${fields.string("key")}`);
      return value === undefined ? undefined : { data: value };
    },
    create: async ({ request, fields }) => {
      await putJson(request.storage, `data/${fields.string("key")}`, request.data);
      return undefined;
    },
    update: async ({ request, fields }) => {
      await putJson(request.storage, `data/${fields.string("key")}`, request.data);
      return undefined;
    },
    delete: async ({ request, fields }) => {
      await request.storage.delete(`data/${fields.string("key")}`);
      return undefined;
    },
  },
  helpSynopsis: "Read, write and delete an entry of arbitrary JSON fields.",
};

const listPath: KvPath = {
  pattern: "data/?",
  operations: {
    list: async ({ request }) => ({ data: { keys: await request.storage.list("data/") } }),
  },
  helpSynopsis: "List the stored entries.",
};

const configPath: KvPath = {
  pattern: "config",
  fields: { greeting: { type: "string", description: "A greeting returned by reads of config.", default: "hello" } },
  operations: {
    read: async ({ request }) => ({ data: { greeting: (await getJson<{ greeting: string }>(request.storage, "config"))?.greeting ?? "hello" } }),
    update: async ({ request, fields }) => {
      await putJson(request.storage, "config", { greeting: fields.string("greeting") }, true);
      return undefined;
    },
  },
  helpSynopsis: "The engine's configuration (needs sudo).",
};

const infoPath: KvPath = {
  pattern: "info",
  operations: { read: () => ({ data: { plugin: "example-kv", version: VERSION } }) },
  helpSynopsis: "Name and version of this plugin (no token needed).",
};

// A demonstration lease: reading leases/<name> issues one; the server renews
// and revokes it through the secret type, and revocations are recorded so a
// test can see the handler ran with the data stored at issue time.
const demoLease: SecretType<Backend<KvState>> = {
  type: "demo_lease",
  renew: ({ request }) => ({
    secret: { internalData: {}, leaseOptions: { ttl: request.secret?.leaseOptions.increment || 300, maxTtl: 3600, renewable: true } },
  }),
  revoke: async ({ request, internal }) => {
    await putJson(request.storage, `revocations/${String(internal["lease_name"])}`, { lease_name: internal["lease_name"], revoked_at: new Date().toISOString() });
  },
};

const leasesPath: KvPath = {
  pattern: "leases/<name>",
  fields: {
    name: { type: "name-string", description: "Name recorded in the lease." },
    ttl: { type: "duration", default: 300, description: "Lease TTL." },
  },
  operations: {
    read: ({ fields }) =>
      secretResponse(demoLease, { name: fields.string("name") }, { lease_name: fields.string("name") }, { ttl: fields.number("ttl"), maxTtl: 3600 }),
  },
  helpSynopsis: "Issue a renewable demonstration lease.",
};

const revocationsPath: KvPath = {
  pattern: "revocations/?",
  operations: { list: async ({ request }) => ({ data: { keys: await request.storage.list("revocations/") } }) },
  helpSynopsis: "Leases whose revocation handler has run.",
};

// A write here records a write-ahead log entry and nothing else, as if the
// step after it had crashed; the server's rollback tick must then undo it.
const walDemoPath: KvPath = {
  pattern: "wal-demo/<name>",
  fields: { name: { type: "name-string" } },
  operations: {
    update: async ({ request, fields }) => {
      const id = await putWal(request.storage, "demo", { name: fields.string("name") });
      return { data: { wal_id: id } };
    },
  },
  helpSynopsis: "Leave a write-ahead log entry for the rollback tick to undo.",
};

const rolledBackPath: KvPath = {
  pattern: "rolled-back/?",
  operations: { list: async ({ request }) => ({ data: { keys: await request.storage.list("rolled-back/") } }) },
  helpSynopsis: "WAL entries the rollback tick has undone.",
};

export const kvBackend = defineBackend<KvState>(
  {
    help: "An example key/value secrets engine written in TypeScript.",
    version: VERSION,
    paths: [listPath, dataPath, configPath, infoPath, leasesPath, revocationsPath, walDemoPath, rolledBackPath],
    secrets: [demoLease],
    walRollback: async (_backend, request, entry) => {
      const name = (entry.data as { name?: string } | null)?.name ?? entry.id;
      await putJson(request.storage, `rolled-back/${name}`, { wal_id: entry.id, kind: entry.kind });
    },
    // The demonstration wants the very next tick to act; a real engine keeps
    // the default so a step in progress is not undone under its feet.
    walRollbackMinAge: 0,
    specialPaths: { root: ["config"], unauthenticated: ["info"], localStorage: ["local/"], sealWrapStorage: ["config"] },
  },
  () => ({}),
);
