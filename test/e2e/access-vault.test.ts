import { existsSync } from "node:fs";
import { accessScenario } from "./access-scenario.ts";

const binary = process.env["VAULT_BINARY"];
accessScenario("vault", binary && existsSync(binary) ? binary : undefined, "VAULT_BINARY is not set: scripts/get-vault.sh builds it and the test script sets it");
