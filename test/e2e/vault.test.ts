import { existsSync } from "node:fs";
import { kvScenario, orphanScenario } from "./kv-scenario.ts";

const binary = process.env["VAULT_BINARY"];
kvScenario(
  "vault",
  binary && existsSync(binary) ? binary : undefined,
  "VAULT_BINARY is not set: scripts/get-vault.sh builds HashiCorp Vault from the Go module proxy and the test script sets it",
);
orphanScenario("vault", binary && existsSync(binary) ? binary : undefined, "VAULT_BINARY is not set");
