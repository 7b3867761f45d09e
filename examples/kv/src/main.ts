import { serve } from "@vault-plugin-ai/sdk";
import { kvBackend, VERSION } from "./backend.ts";

void serve({ name: "vault-plugin-example-kv", version: VERSION, commit: process.env["PLUGIN_BUILD_COMMIT"], factory: kvBackend }).then((code) => {
  process.exitCode = code;
});
