// The AI secrets engine: one backend per mount, its paths one file each.
import { defineBackend, isPerformanceStandby, type BackendDefinition } from "@vault-plugin-ai/sdk";
import { pathConfig } from "./path-config.ts";
import { pathConfigRotate } from "./path-config-rotate.ts";
import { pathCreds } from "./path-creds.ts";
import { pathMetrics } from "./path-metrics.ts";
import { pathRoles, pathRolesList } from "./path-roles.ts";
import { pathSweep } from "./path-sweep.ts";
import { sweepDue, sweepOrphans } from "./sweeper.ts";
import { deletePendingAdminKeys, rotateAdminKey, rotationDue } from "./rotation.ts";
import { walRollback } from "./rollback.ts";
import { dropStaleIssuances } from "./request-index.ts";
import { openAIKeySecret } from "./secret-openai-key.ts";
import { litellmKeySecret } from "./secret-litellm-key.ts";
import { openrouterKeySecret } from "./secret-openrouter-key.ts";
import { pathConnectionRotate, pathConnections, pathConnectionsList } from "./path-connections.ts";
import { pathSpend } from "./path-spend.ts";
import { type EngineState, forgetConnections, forgetRole, newEngineState } from "./state.ts";
import { CONFIG_KEY, CONNECTION_PREFIX, DEFAULT_CONNECTION, readConfig, readConnection, ROLE_PREFIX } from "./storage.ts";
import enginePackage from "../package.json" with { type: "json" };

// The package version is the one source: the version service reports it, --version
// prints it, and the release names its artifacts after it.
export const VERSION = `v${enginePackage.version}`;

export const engineDefinition: BackendDefinition<EngineState> = {
  help:
    "Mints dynamic, scoped, budgeted, lease-bound API keys for AI providers (OpenAI, LiteLLM, OpenRouter).\n" +
    "Each key lives exactly as long as its lease: revoking or expiring the lease deletes the key at the provider.",
  version: VERSION,
  paths: [pathConfigRotate, pathConfig, pathConnectionRotate, pathConnectionsList, pathConnections, pathRolesList, pathRoles, pathCreds, pathMetrics, pathSweep, pathSpend],
  secrets: [openAIKeySecret, litellmKeySecret, openrouterKeySecret],
  // Every entry holding a credential is seal-wrapped: the default connection
  // and the named ones ("*" makes it a prefix, as in the Go SDK).
  specialPaths: { root: ["metrics", "sweep", "spend"], sealWrapStorage: ["config", "connections/*"], localStorage: [] },
  walRollback,
  periodic: async (backend, request) => {
    // OpenBao runs the rollback tick on read-enabled standbys too, whose
    // storage is read-only: rotation and sweeps belong to the active node.
    if (await isPerformanceStandby(backend.system)) return;
    // Index entries of issuances by request id matter for seconds (a retry);
    // old ones are dropped so those of requests never revoked do not pile up.
    await dropStaleIssuances(request.storage);
    // Every OpenAI connection: retry deletions of replaced admin keys, and
    // rotate on schedule. Then the sweeper, for the default connection's roles.
    const config = await readConfig(request.storage);
    const names = [DEFAULT_CONNECTION, ...(await request.storage.list(CONNECTION_PREFIX)).filter((k) => !k.endsWith("/"))];
    for (const name of names) {
      const c = name === DEFAULT_CONNECTION ? config : await readConnection(request.storage, name);
      if (c?.provider !== "openai") continue;
      await deletePendingAdminKeys(backend, request.storage, name);
      if (rotationDue(c, new Date())) {
        backend.logger.info("scheduled admin API key rotation starting", { connection: name });
        await rotateAdminKey(backend, request.storage, name);
      }
    }
    if (config?.provider === "openai" && (await sweepDue(request.storage))) await sweepOrphans(backend, request.storage);
  },
  invalidate: (backend, key) => {
    if (key === CONFIG_KEY) forgetConnections(backend.state, DEFAULT_CONNECTION);
    else if (key.startsWith(CONNECTION_PREFIX)) forgetConnections(backend.state, key.slice(CONNECTION_PREFIX.length));
    else if (key.startsWith(ROLE_PREFIX)) forgetRole(backend.state, key.slice(ROLE_PREFIX.length));
  },
};

export const engineBackend = defineBackend<EngineState>(engineDefinition, () => newEngineState());
