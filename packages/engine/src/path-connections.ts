// connections/<name>: further provider connections on the same mount (two
// OpenAI organizations, or OpenAI and LiteLLM side by side). A role names the
// connection it uses; "config" is the connection called "default".
import { invalidRequest, type PathDefinition } from "@vault-plugin-ai/sdk";
import { connectionFields, connectionResponse, describeProviderFailure, writeConnectionHandler } from "./connection-config.ts";
import { deleteConnection, rotateAdminKey } from "./rotation.ts";
import type { EngineBackend } from "./state.ts";
import { CONNECTION_PREFIX, DEFAULT_CONNECTION, readConnection } from "./storage.ts";

const name = { type: "name-string" as const, description: "Name of the connection." };

function checkName(n: string): string {
  if (n === DEFAULT_CONNECTION) throw invalidRequest('"default" is the connection at "config"; use that path');
  return n;
}

export const pathConnections: PathDefinition<EngineBackend> = {
  pattern: "connections/<name>",
  fields: { name, ...connectionFields },
  existenceCheck: async ({ request, fields }) => (await request.storage.get(CONNECTION_PREFIX + fields.string("name"))) !== undefined,
  operations: {
    read: {
      summary: "Read a named provider connection (without its credential).",
      handler: async ({ request, fields }) => {
        const config = await readConnection(request.storage, checkName(fields.string("name")));
        return config ? connectionResponse(config) : undefined;
      },
    },
    create: { summary: "Configure a named provider connection.", handler: (ctx) => writeConnectionHandler(checkName(ctx.fields.string("name")), ctx), forwardPerformanceStandby: true },
    update: { summary: "Configure a named provider connection.", handler: (ctx) => writeConnectionHandler(checkName(ctx.fields.string("name")), ctx), forwardPerformanceStandby: true },
    delete: {
      summary: "Remove a named provider connection.",
      forwardPerformanceStandby: true,
      handler: async ({ request, fields, backend }) => {
        await deleteConnection(backend, request.storage, checkName(fields.string("name")));
        return undefined;
      },
    },
  },
  helpSynopsis: "Configure a named connection to an AI provider.",
  helpDescription: 'The same fields as "config". Roles choose a connection with their "connection" field; without it they use "config".',
};

export const pathConnectionsList: PathDefinition<EngineBackend> = {
  pattern: "connections/?",
  operations: { list: { summary: "List named connections.", handler: async ({ request }) => ({ data: { keys: await request.storage.list(CONNECTION_PREFIX) } }) } },
  helpSynopsis: "List the named provider connections.",
};

export const pathConnectionRotate: PathDefinition<EngineBackend> = {
  pattern: "connections/<name>/rotate",
  fields: { name },
  operations: {
    update: {
      summary: "Rotate a named OpenAI connection's admin key.",
      forwardPerformanceStandby: true,
      handler: async ({ request, fields, backend }) => {
        let result;
        try {
          result = await rotateAdminKey(backend, request.storage, checkName(fields.string("name")));
        } catch (err) {
          throw describeProviderFailure(err, "rotation failed; the previous admin key is still in use");
        }
        return { data: { admin_api_key_id: result.adminApiKeyId, rotated_time: result.rotatedTime }, warnings: result.oldKeyDeleted ? [] : ["the previous admin key could not be deleted yet; it is retried every minute"] };
      },
    },
  },
  helpSynopsis: "Rotate the admin key of a named OpenAI connection.",
};
