// The sweeper: a second line of defence behind the WAL. It lists the service
// accounts in every role's project whose names carry that role's prefix, and
// reports (and, when the config allows, deletes) those no live lease holds.
// Accounts younger than a grace period are left alone, since an issuance may
// be in flight; accounts older than the first sweep are only reported, since
// leases from before the sweeper existed have no record. A record whose lease
// must have ended (a forced revoke never reaches the plugin) holds nothing.
import type { Storage } from "@vault-plugin-ai/sdk";
import { compileUsernameTemplate } from "./template/username-template.ts";
import { openAIConnection, type EngineBackend } from "./state.ts";
import { DEFAULT_CONNECTION, forgetIssuedAccount, ISSUED_PREFIX, readConfig, readIssuedAccount, readRole, readSweepReport, ROLE_PREFIX, writeSweepReport, type SweepReport } from "./storage.ts";

export const SWEEP_INTERVAL_SECONDS = 600;
export const SWEEP_GRACE_SECONDS = 900;

/** The fixed text a role's template puts before anything random, or undefined when it has none worth trusting. */
export function namePrefix(template: string, roleName: string, projectName: string): string | undefined {
  const marker = "\u0001";
  let rendered: string;
  try {
    rendered = compileUsernameTemplate(template).render({ RoleName: roleName, ProjectName: projectName, DisplayName: marker, RandomSuffix: marker }, { random: () => marker, uuid: () => marker, now: new Date(0) });
  } catch {
    return undefined;
  }
  const cut = rendered.indexOf(marker);
  const prefix = cut < 0 ? undefined : rendered.slice(0, cut);
  // A prefix this short would match accounts people made by hand.
  return prefix !== undefined && prefix.length >= 6 ? prefix : undefined;
}

export async function sweepOrphans(backend: EngineBackend, storage: Storage, now = new Date()): Promise<SweepReport> {
  const previous = await readSweepReport(storage);
  const trackingSince = previous?.tracking_since ?? now.toISOString();
  const config = await readConfig(storage);
  const report: SweepReport = { swept_at: now.toISOString(), tracking_since: trackingSince, orphans: [], errors: [] };
  if (config?.provider !== "openai") {
    await writeSweepReport(storage, report);
    return report;
  }
  const { client } = await openAIConnection(backend, storage);
  const issued = new Set((await storage.list(ISSUED_PREFIX)).filter((k) => !k.endsWith("/")));
  const prefixesByProject = new Map<string, string[]>();
  for (const roleName of (await storage.list(ROLE_PREFIX)).filter((k) => !k.endsWith("/"))) {
    const role = await readRole(storage, roleName);
    if (role?.provider !== "openai" || role.connection !== DEFAULT_CONNECTION) continue;
    const prefix = namePrefix(role.service_account_name_template, roleName, role.project_name);
    if (!prefix) continue;
    prefixesByProject.set(role.project_id, [...(prefixesByProject.get(role.project_id) ?? []), prefix]);
  }
  const cutoff = now.getTime() / 1000 - SWEEP_GRACE_SECONDS;
  const trackingStart = Date.parse(trackingSince) / 1000;
  for (const [projectId, prefixes] of prefixesByProject) {
    let accounts;
    try {
      accounts = await client.listServiceAccounts(projectId);
    } catch (err) {
      report.errors.push(`project ${projectId}: ${(err as Error).message}`);
      continue;
    }
    for (const account of accounts) {
      if (account.createdAt > cutoff || !prefixes.some((p) => account.name.startsWith(p))) continue;
      if (issued.has(account.id) && !(await leaseEnded(storage, account.id, cutoff))) continue;
      let deleted = false;
      if (config.delete_orphaned_accounts && account.createdAt >= trackingStart) {
        try {
          await client.deleteServiceAccount(projectId, account.id);
          await forgetIssuedAccount(storage, account.id);
          deleted = true;
        } catch (err) {
          report.errors.push(`delete ${account.id}: ${(err as Error).message}`);
        }
      }
      report.orphans.push({ project_id: projectId, service_account_id: account.id, name: account.name, created_at: account.createdAt, deleted });
      backend.state.metrics.inc("ai_secrets_orphans_found_total", "Service accounts found by the sweeper that no lease holds.", { provider: "openai", deleted: String(deleted) });
      backend.logger.warn("service account without a lease", { project_id: projectId, service_account_id: account.id, deleted });
    }
  }
  await writeSweepReport(storage, report);
  return report;
}

/** Whether the lease that held this account must have ended by `before` (unix seconds). */
async function leaseEnded(storage: Storage, id: string, before: number): Promise<boolean> {
  const endsAt = (await readIssuedAccount(storage, id))?.lease_ends_at;
  return typeof endsAt === "number" && endsAt < before;
}

/** Whether the last sweep is old enough for another. */
export async function sweepDue(storage: Storage, now = new Date()): Promise<boolean> {
  const last = await readSweepReport(storage);
  return !last || now.getTime() - Date.parse(last.swept_at) >= SWEEP_INTERVAL_SECONDS * 1000;
}
