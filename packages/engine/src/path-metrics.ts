// metrics: the engine's counters in the Prometheus text format. The path is
// privileged (root/sudo), like the server's own sys/metrics.
import type { PathDefinition } from "@vault-plugin-ai/sdk";
import type { EngineBackend } from "./state.ts";

export const pathMetrics: PathDefinition<EngineBackend> = {
  pattern: "metrics",
  operations: {
    read: {
      summary: "Read the engine's metrics in the Prometheus text format.",
      handler: ({ backend }) => ({
        data: { http_content_type: "text/plain; version=0.0.4; charset=utf-8", http_raw_body: Buffer.from(backend.state.metrics.render()).toString("base64"), http_status_code: 200 },
      }),
    },
  },
  helpSynopsis: "Engine metrics (Prometheus text format; needs sudo).",
};
