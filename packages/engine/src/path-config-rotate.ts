// config/rotate: rotate the admin credential now.
import type { PathDefinition } from "@vault-plugin-ai/sdk";
import { describeProviderFailure } from "./path-config.ts";
import { rotateAdminKey } from "./rotation.ts";
import type { EngineBackend } from "./state.ts";

export const pathConfigRotate: PathDefinition<EngineBackend> = {
  pattern: "config/rotate",
  operations: {
    update: {
      summary: "Rotate the admin API key.",
      forwardPerformanceStandby: true,
      handler: async ({ request, backend }) => {
        let result;
        try {
          result = await rotateAdminKey(backend, request.storage);
        } catch (err) {
          throw describeProviderFailure(err, "rotation failed; the previous admin key is still in use");
        }
        const warnings = result.oldKeyDeleted ? [] : ["the previous admin key could not be deleted yet; it stays listed in pending_admin_key_deletions and is retried every minute"];
        return { data: { admin_api_key_id: result.adminApiKeyId, rotated_time: result.rotatedTime }, warnings };
      },
    },
  },
  helpSynopsis: "Rotate the admin API key.",
  helpDescription:
    "Creates a new admin key, proves it works, stores it, then deletes the old one. If that deletion fails, the old key's id is kept and its deletion retried by the periodic function until it succeeds.",
};
