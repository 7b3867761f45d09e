import { serve } from "@vault-plugin-ai/sdk";
import { engineBackend, VERSION } from "./backend.ts";

void serve({ name: "vault-plugin-secrets-ai", version: VERSION, commit: process.env["PLUGIN_BUILD_COMMIT"], factory: engineBackend }).then((code) => {
  process.exitCode = code;
});
