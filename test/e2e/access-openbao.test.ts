import { existsSync } from "node:fs";
import { BAO } from "../support/paths.ts";
import { accessScenario } from "./access-scenario.ts";

accessScenario("openbao", existsSync(BAO) ? BAO : undefined, `${BAO} is missing: run scripts/setup.sh`);
