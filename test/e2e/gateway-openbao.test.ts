import { existsSync } from "node:fs";
import { BAO } from "../support/paths.ts";
import { gatewayScenario } from "./gateway-scenario.ts";

gatewayScenario("openbao", existsSync(BAO) ? BAO : undefined, `${BAO} is missing: run scripts/setup.sh`);
