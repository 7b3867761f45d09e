// The reliability suite's shared reporting. Every scenario says what it tried
// and what it found, on the test output as it runs and as one JSON line in the
// report file, from which `summary.ts` prints the suite's closing table.
// The suite runs in a bounded form in CI and in its long form under
// `npm run soak` (SOAK=1); `scale` picks a figure for each.
import { appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const soak = process.env["SOAK"] === "1";

/** The CI-sized figure, or the long one under `npm run soak`. */
export function scale<T>(ci: T, long: T): T {
  return soak ? long : ci;
}

export const reportFile = process.env["RELIABILITY_REPORT"] ?? join(tmpdir(), "reliability-report.jsonl");

export interface ScenarioResult {
  /** The area: faults, crash, restart, ha, load, fuzz, hostile, security. */
  area: string;
  /** One line naming the scenario. */
  scenario: string;
  /** What it did, with its sizes. */
  tried: string;
  /** What it observed, with its figures. */
  found: string;
  ok: boolean;
}

/** Prints the scenario's result and records it for the summary table. */
export function report(result: ScenarioResult): void {
  const mark = result.ok ? "ok" : "FAILED";
  process.stdout.write(`[${result.area}] ${result.scenario}: ${mark}\n  tried: ${result.tried}\n  found: ${result.found}\n`);
  appendFileSync(reportFile, JSON.stringify({ ...result, soak, at: new Date().toISOString() }) + "\n");
}
