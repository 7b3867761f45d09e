import { existsSync } from "node:fs";
import { BAO } from "../support/paths.ts";
import { openAIScenario } from "./openai-scenario.ts";

openAIScenario("openbao", existsSync(BAO) ? BAO : undefined, `${BAO} is missing: run scripts/setup.sh`);
