// The AI secrets engine. This first cut mounts and answers help; providers
// arrive path by path (one file per path, as in HashiCorp's own plugins).
import { defineBackend } from "@vault-plugin-ai/sdk";

export const VERSION = "v0.1.0";

export type EngineState = Record<string, never>;

export const engineBackend = defineBackend<EngineState>(
  {
    help:
      "Mints dynamic, scoped, budgeted, lease-bound API keys for AI providers (OpenAI, LiteLLM, OpenRouter).\n" +
      "Each key lives exactly as long as its lease: revoking or expiring the lease deletes the key at the provider.",
    version: VERSION,
    paths: [],
  },
  () => ({}),
);
