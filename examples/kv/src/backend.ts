// A tiny key/value secrets engine: arbitrary JSON under data/<key>.
import { defineBackend, getJson, putJson, type PathDefinition, type Backend } from "@vault-plugin-ai/sdk";

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

export const kvBackend = defineBackend<KvState>(
  {
    help: "An example key/value secrets engine written in TypeScript.",
    version: VERSION,
    paths: [listPath, dataPath, configPath, infoPath],
    specialPaths: { root: ["config"], unauthenticated: ["info"], localStorage: ["local/"], sealWrapStorage: ["config"] },
  },
  () => ({}),
);
