// The AI secrets engine: one backend per mount, its paths one file each.
import { defineBackend, type BackendDefinition } from "@vault-plugin-ai/sdk";
import { pathConfig } from "./path-config.ts";
import { pathConfigRotate } from "./path-config-rotate.ts";
import { pathCreds } from "./path-creds.ts";
import { pathMetrics } from "./path-metrics.ts";
import { pathRoles, pathRolesList } from "./path-roles.ts";
import { pathSweep } from "./path-sweep.ts";
import { sweepDue, sweepOrphans } from "./sweeper.ts";
import { deletePendingAdminKeys, rotateAdminKey, rotationDue } from "./rotation.ts";
import { walRollback } from "./rollback.ts";
import { openAIKeySecret } from "./secret-openai-key.ts";
import { type EngineState, forgetConnections, newEngineState } from "./state.ts";
import { CONFIG_KEY, readConfig } from "./storage.ts";

export const VERSION = "v0.1.0";

export const engineDefinition: BackendDefinition<EngineState> = {
  help:
    "Mints dynamic, scoped, budgeted, lease-bound API keys for AI providers (OpenAI, LiteLLM, OpenRouter).\n" +
    "Each key lives exactly as long as its lease: revoking or expiring the lease deletes the key at the provider.",
  version: VERSION,
  paths: [pathConfigRotate, pathConfig, pathRolesList, pathRoles, pathCreds, pathMetrics, pathSweep],
  secrets: [openAIKeySecret],
  specialPaths: { root: ["metrics", "sweep"], sealWrapStorage: ["config"], localStorage: [] },
  walRollback,
  periodic: async (backend, request) => {
    const config = await readConfig(request.storage);
    if (!config) return;
    await deletePendingAdminKeys(backend, request.storage);
    if (rotationDue(config, new Date())) {
      backend.logger.info("scheduled admin API key rotation starting");
      await rotateAdminKey(backend, request.storage);
    }
    if (await sweepDue(request.storage)) await sweepOrphans(backend, request.storage);
  },
  invalidate: (backend, key) => {
    if (key === CONFIG_KEY) forgetConnections(backend.state);
  },
};

export const engineBackend = defineBackend<EngineState>(engineDefinition, () => newEngineState());
