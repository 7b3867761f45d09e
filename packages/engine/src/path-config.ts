// config: the mount's default provider connection, at the seed plugins' path.
import type { PathDefinition } from "@vault-plugin-ai/sdk";
import { connectionFields, connectionResponse, writeConnectionHandler } from "./connection-config.ts";
import { deleteConnection } from "./rotation.ts";
import type { EngineBackend } from "./state.ts";
import { CONFIG_KEY, DEFAULT_CONNECTION, readConnection } from "./storage.ts";

export { describeProviderFailure, validateEndpoint, DEFAULT_MAX_CONCURRENCY } from "./connection-config.ts";

export const pathConfig: PathDefinition<EngineBackend> = {
  pattern: "config",
  fields: connectionFields,
  existenceCheck: async ({ request }) => (await request.storage.get(CONFIG_KEY)) !== undefined,
  operations: {
    read: {
      summary: "Read the default provider connection (without its credential).",
      handler: async ({ request }) => {
        const config = await readConnection(request.storage, DEFAULT_CONNECTION);
        return config ? connectionResponse(config) : undefined;
      },
    },
    // Writes go to the active node before they read anything: a standby's
    // copy of storage may lag, and would answer from it.
    create: { summary: "Configure the default provider connection.", handler: (ctx) => writeConnectionHandler(DEFAULT_CONNECTION, ctx), forwardPerformanceStandby: true },
    update: { summary: "Configure the default provider connection.", handler: (ctx) => writeConnectionHandler(DEFAULT_CONNECTION, ctx), forwardPerformanceStandby: true },
    delete: {
      summary: "Remove the default provider connection.",
      forwardPerformanceStandby: true,
      handler: async ({ request, backend }) => {
        await deleteConnection(backend, request.storage, DEFAULT_CONNECTION);
        return undefined;
      },
    },
  },
  helpSynopsis: "Configure the mount's default connection to an AI provider.",
  helpDescription:
    "The credential this mount uses to create and delete keys: an OpenAI admin key, a LiteLLM master key, or an OpenRouter provisioning key. The provider is named by \"provider\" or inferred from the fields given. Writing it checks the credential with one cheap call to the provider; nothing is stored if that fails. A read never returns the credential.",
};
