// What the engine keeps in the mount's storage, and how. Issued key values
// are never stored: leases carry only ids.
import { getJson, putJson, type Storage } from "@vault-plugin-ai/sdk";

export const CONFIG_KEY = "config";
export const ROLE_PREFIX = "roles/";
/** One entry per service account a live lease holds, keyed by its id; what the sweeper checks against. */
export const ISSUED_PREFIX = "issued/";
export const SWEEP_KEY = "sweep/last";

export type Provider = "openai" | "litellm" | "openrouter";
export const PROVIDERS: readonly Provider[] = ["openai", "litellm", "openrouter"];
export const DEFAULT_CONNECTION = "default";
export const CONNECTION_PREFIX = "connections/";

/** Where a named connection lives: the default one is the seed plugins' "config". */
export function connectionKey(name: string): string {
  return name === DEFAULT_CONNECTION ? CONFIG_KEY : CONNECTION_PREFIX + name;
}

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
  /** Unix seconds at which the stored admin key expires at OpenAI (0: never). Rotation comes well before. */
  admin_api_key_expires_at?: number;
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

export interface LiteLLMConfigEntry {
  provider: "litellm";
  base_url: string;
  master_key: string;
  max_concurrency: number;
  /** PEM CAs trusted instead of the system's for an https base_url; absent or "" for the system's. */
  ca_cert?: string;
  insecure_tls?: boolean;
}

export interface OpenRouterConfigEntry {
  provider: "openrouter";
  base_url: string;
  provisioning_key: string;
  max_concurrency: number;
}

export type ConfigEntry = OpenAIConfigEntry | LiteLLMConfigEntry | OpenRouterConfigEntry;

interface RoleCommon {
  /** The connection keys are issued through. */
  connection: string;
  /** Seconds. */
  ttl: number;
  /** Seconds. */
  max_ttl: number;
}

export interface OpenAIRoleEntry extends RoleCommon {
  provider: "openai";
  project_id: string;
  /** Cached at role write so issuing a key takes one provider call, not two. */
  project_name: string;
  service_account_name_template: string;
  service_account_description: string;
}

export interface LiteLLMRoleEntry extends RoleCommon {
  provider: "litellm";
  /** Empty: every model. */
  models: string[];
  /** 0: unlimited. */
  max_budget: number;
  key_alias_prefix: string;
  metadata: Record<string, string>;
  budget_duration: string;
  tpm_limit: number;
  rpm_limit: number;
  max_parallel_requests: number;
  team_id: string;
  user_id: string;
  tags: string[];
  /** Identity templates filled in per caller when team_id / user_id are empty; absent in older roles. */
  user_id_template?: string;
  team_id_template?: string;
}

export interface OpenRouterRoleEntry extends RoleCommon {
  provider: "openrouter";
  /** Credit limit per key in USD; 0: none. */
  limit: number;
  key_name_prefix: string;
}

export type RoleEntry = OpenAIRoleEntry | LiteLLMRoleEntry | OpenRouterRoleEntry;

/**
 * The most a role or connection may take in storage, as JSON. Far above any
 * real one, and far below what storage refuses (Raft's 1 MiB entries), where
 * a write would fail with a 500 instead of a 400 that names the field.
 */
export const MAX_ENTRY_BYTES = 64 * 1024;

/** The entry's size and its largest field, when it exceeds MAX_ENTRY_BYTES. */
export function oversized(entry: object): { bytes: number; field: string } | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(entry));
  if (bytes <= MAX_ENTRY_BYTES) return undefined;
  const sizes = Object.entries(entry).map(([k, v]) => [k, Buffer.byteLength(JSON.stringify(v) ?? "")] as const);
  const field = sizes.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  return { bytes, field };
}

/** Entries written before several providers existed hold no provider: they are OpenAI's. */
function withDefaults<T extends { provider?: Provider }>(entry: T | undefined): T | undefined {
  return entry && !entry.provider ? { ...entry, provider: "openai" } : entry;
}

export const readConnection = async (storage: Storage, name: string) => withDefaults(await getJson<ConfigEntry>(storage, connectionKey(name)));
export const writeConnection = (storage: Storage, name: string, config: ConfigEntry) => putJson(storage, connectionKey(name), config, true);
export const readConfig = (storage: Storage) => readConnection(storage, DEFAULT_CONNECTION);
export const writeConfig = (storage: Storage, config: ConfigEntry) => writeConnection(storage, DEFAULT_CONNECTION, config);
export const readRole = async (storage: Storage, name: string): Promise<RoleEntry | undefined> => {
  const role = withDefaults(await getJson<RoleEntry>(storage, ROLE_PREFIX + name));
  return role && !role.connection ? { ...role, connection: DEFAULT_CONNECTION } : role;
};
export const writeRole = (storage: Storage, name: string, role: RoleEntry) => putJson(storage, ROLE_PREFIX + name, role);

/** A key a live lease holds, recorded from issue to revoke (ids and names only, never the key). */
export interface IssuedAccount {
  /** Absent in records written before several providers existed: OpenAI. */
  provider?: Provider;
  connection?: string;
  /** OpenAI only. */
  project_id?: string;
  role: string;
  /** Service account name, LiteLLM key alias, or OpenRouter key name. */
  name: string;
  /**
   * Unix seconds after which no lease can hold the key any more (issue time
   * plus the lease's maximum life). A record outlives its lease only when the
   * server dropped the lease without a revocation reaching us (a forced
   * revoke); past this time the sweeper treats the key as unheld.
   */
  lease_ends_at?: number;
  /**
   * The WAL entry of the issuance that made the key (OpenAI). That entry is
   * deleted before the key is handed out, so while it exists no lease can
   * hold the key, and the rollback of that entry deletes it.
   */
  wal_id?: string;
}

export const recordIssuedAccount = (storage: Storage, id: string, account: IssuedAccount) => putJson(storage, ISSUED_PREFIX + id, account);
export const forgetIssuedAccount = (storage: Storage, id: string) => storage.delete(ISSUED_PREFIX + id);
export const readIssuedAccount = (storage: Storage, id: string) => getJson<IssuedAccount>(storage, ISSUED_PREFIX + id);

/**
 * Index of issuances by the server's request id, so a request the server
 * sends again (OpenBao retries a request once on a restarted plugin when the
 * plugin died under it) finds the key its first attempt made, whose answer
 * never reached the server. Entries sit in ten-minute buckets by creation
 * time: the periodic cleanup drops whole old buckets without reading every
 * entry, and a retry, which comes within seconds, looks in the current and
 * the previous bucket.
 */
export const REQUEST_PREFIX = "requests/";
export const REQUEST_BUCKET_SECONDS = 600;
/** A retry comes within seconds; entries older than this are dropped by the periodic function. */
export const REQUEST_ENTRY_MAX_AGE_SECONDS = 3600;

/** What deleting the key a request was issued needs (ids only, never the key). */
export interface IssuedRequest {
  provider: Provider;
  connection: string;
  /** OpenAI service account id, LiteLLM token id, or OpenRouter key hash. */
  key_id: string;
  /** OpenAI only. */
  project_id?: string;
  role: string;
  /** Unix seconds. */
  created_at: number;
}

export const requestBucket = (unixSeconds: number) => Math.floor(unixSeconds / REQUEST_BUCKET_SECONDS);
export const requestKey = (bucket: number, requestId: string) => `${REQUEST_PREFIX}${bucket}/${requestId}`;
export const readIssuedRequest = (storage: Storage, key: string) => getJson<IssuedRequest>(storage, key);
export const writeIssuedRequest = (storage: Storage, key: string, entry: IssuedRequest) => putJson(storage, key, entry);

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
