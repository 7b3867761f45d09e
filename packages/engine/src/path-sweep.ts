// sweep: the sweeper's last report, or a sweep now (update).
import type { PathDefinition } from "@vault-plugin-ai/sdk";
import type { EngineBackend } from "./state.ts";
import { readSweepReport } from "./storage.ts";
import { sweepOrphans } from "./sweeper.ts";

export const pathSweep: PathDefinition<EngineBackend> = {
  pattern: "sweep",
  operations: {
    read: {
      summary: "Read the last report of service accounts that no lease holds.",
      handler: async ({ request }) => {
        const report = await readSweepReport(request.storage);
        return report ? { data: { ...report } } : undefined;
      },
    },
    update: {
      summary: "Sweep now.",
      // It may delete accounts before it writes its report: only on the active node.
      forwardPerformanceStandby: true,
      handler: async ({ request, backend }) => ({ data: { ...(await sweepOrphans(backend, request.storage)) } }),
    },
  },
  helpSynopsis: "Find service accounts with this mount's name prefix that no lease holds.",
  helpDescription:
    "Every ten minutes the engine lists the service accounts in its roles' projects whose names carry a role's prefix, and reports those no live lease holds (older than 15 minutes). With delete_orphaned_accounts=true in config it also deletes them, except accounts older than the first sweep.",
};
