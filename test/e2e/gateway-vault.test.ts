import { existsSync } from "node:fs";
import { gatewayScenario } from "./gateway-scenario.ts";

const binary = process.env["VAULT_BINARY"];
gatewayScenario("vault", binary && existsSync(binary) ? binary : undefined, "VAULT_BINARY is not set: scripts/get-vault.sh builds it and the test script sets it");
