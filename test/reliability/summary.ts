// Prints the reliability suite's summary table from the report file that the
// scenarios appended to (see report.ts). Exits 1 if any scenario failed or
// none reported.
import { existsSync, readFileSync } from "node:fs";
import { reportFile, type ScenarioResult } from "./report.ts";

const file = process.argv[2] ?? reportFile;
const rows: ScenarioResult[] = existsSync(file)
  ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as ScenarioResult)
  : [];
const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
const out = ["| area | scenario | tried | found | result |", "|---|---|---|---|---|"];
for (const r of rows) out.push(`| ${cell(r.area)} | ${cell(r.scenario)} | ${cell(r.tried)} | ${cell(r.found)} | ${r.ok ? "ok" : "**FAILED**"} |`);
process.stdout.write(`\nReliability suite: ${rows.length} scenarios, ${rows.filter((r) => !r.ok).length} failed\n\n${out.join("\n")}\n`);
process.exit(rows.length === 0 || rows.some((r) => !r.ok) ? 1 : 0);
