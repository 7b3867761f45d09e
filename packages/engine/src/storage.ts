// What the engine keeps in the mount's storage, and how. Issued key values
// are never stored: leases carry only ids.
import { getJson, putJson, type Storage } from "@vault-plugin-ai/sdk";

export const CONFIG_KEY = "config";
export const ROLE_PREFIX = "roles/";
/** One entry per service account a live lease holds, keyed by its id; what the sweeper checks against. */
export const ISSUED_PREFIX = "issued/";
export const SWEEP_KEY = "sweep/last";

export interface OpenAIConfigEntry {
  provider: "openai";
  admin_api_key: string;
  admin_api_key_id: string;
  organization_id: string;
  api_endpoint: string;
  /** Seconds; 0 when no period is set. */
  rotation_period: number;
  rotation_schedule: string;
  /** Seconds. */
  rotation_window: number;
  disable_automated_rotation: boolean;
  /** RFC 3339; empty until the first rotation. */
  last_rotated_time: string;
  /**
   * Ids of replaced admin keys whose deletion has not succeeded yet. Kept
   * until it does, so no admin key is ever left alive and untracked.
   */
  pending_admin_key_deletions: string[];
  /** Provider requests in flight at once for this connection. */
  max_concurrency: number;
  /** Let the sweeper delete the orphaned service accounts it finds (it always reports them). */
  delete_orphaned_accounts?: boolean;
}

export type ConfigEntry = OpenAIConfigEntry;

export interface OpenAIRoleEntry {
  project_id: string;
  /** Cached at role write so issuing a key takes one provider call, not two. */
  project_name: string;
  service_account_name_template: string;
  service_account_description: string;
  /** Seconds. */
  ttl: number;
  /** Seconds. */
  max_ttl: number;
}

export type RoleEntry = OpenAIRoleEntry;

export const readConfig = (storage: Storage) => getJson<ConfigEntry>(storage, CONFIG_KEY);
export const writeConfig = (storage: Storage, config: ConfigEntry) => putJson(storage, CONFIG_KEY, config, true);
export const readRole = (storage: Storage, name: string) => getJson<RoleEntry>(storage, ROLE_PREFIX + name);
export const writeRole = (storage: Storage, name: string, role: RoleEntry) => putJson(storage, ROLE_PREFIX + name, role);

export interface IssuedAccount {
  project_id: string;
  role: string;
  name: string;
}

export const recordIssuedAccount = (storage: Storage, id: string, account: IssuedAccount) => putJson(storage, ISSUED_PREFIX + id, account);
export const forgetIssuedAccount = (storage: Storage, id: string) => storage.delete(ISSUED_PREFIX + id);

export interface SweepReport {
  /** RFC 3339. */
  swept_at: string;
  /** When issued accounts were first recorded: older accounts are reported, never deleted. */
  tracking_since: string;
  orphans: Array<{ project_id: string; service_account_id: string; name: string; created_at: number; deleted: boolean }>;
  errors: string[];
}

export const readSweepReport = (storage: Storage) => getJson<SweepReport>(storage, SWEEP_KEY);
export const writeSweepReport = (storage: Storage, report: SweepReport) => putJson(storage, SWEEP_KEY, report);
