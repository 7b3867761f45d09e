import { existsSync } from "node:fs";
import { openAIScenario } from "./openai-scenario.ts";

const binary = process.env["VAULT_BINARY"];
openAIScenario("vault", binary && existsSync(binary) ? binary : undefined, "VAULT_BINARY is not set: scripts/get-vault.sh builds it and the test script sets it");
