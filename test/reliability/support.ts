// Shared helpers of the reliability suite's fault, crash, restart and
// security scenarios (other scenario files may import them too): a provider
// emulator with what a scenario needs to know about it, the engine mounted on
// a real server, the server's own view of leases and write-ahead log entries
// (through sys/raw, which dev servers enable), and a watch that collects
// every secret and every non-creds answer so a scenario can prove that no
// secret leaked into logs, errors or responses.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { waitFor, type HttpResult } from "../../scripts/lib/dev-server.ts";
import { DEFAULT_TIMEOUT_MS } from "../../packages/engine/src/providers/http.ts";
import type { EmulatorControl, FaultRuleInput } from "../../tools/emulators/index.ts";
import { startOpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";
import { startLiteLLMEmulator } from "../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator } from "../../tools/emulators/openrouter/emulator.ts";
import { AI_PLUGIN, BAO } from "../support/paths.ts";
import { soak } from "./report.ts";

export { waitFor };

export const PLUGIN_NAME = "vault-plugin-secrets-ai";

/** Why the scenarios cannot run here, or undefined when they can. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(BAO)) return `${BAO} is missing: run scripts/setup.sh`;
  if (!existsSync(AI_PLUGIN)) return `${AI_PLUGIN} is missing: run npm run build`;
  return undefined;
}

/** What the scenarios need of a server: DevServer and BaoServer both have it. */
export interface Api {
  http(method: string, path: string, body?: unknown): Promise<HttpResult>;
  readonly log: string;
}

export type ProviderName = "openai" | "litellm" | "openrouter";
export const PROVIDER_NAMES: readonly ProviderName[] = ["openai", "litellm", "openrouter"];
/** How the engine names each provider in its messages. */
export const PROVIDER_LABEL: Record<ProviderName, string> = { openai: "OpenAI", litellm: "LiteLLM", openrouter: "OpenRouter" };

/** One provider call the engine makes, as a fault rule targets it. */
export interface Call {
  method: string;
  path: string;
}

/** A provider emulator and what a scenario needs to know about it. */
export interface ProviderFixture {
  provider: ProviderName;
  control: EmulatorControl;
  /** Fields for the mount's config. */
  config: Record<string, string>;
  /** The credential the config carries. */
  credential: string;
  /** Role fields every role on this provider needs (OpenAI's project). */
  roleBase: Record<string, string>;
  /** The calls behind issue, renew and revoke; renew is absent where renewal calls nothing. */
  calls: { issue: Call; renew?: Call; revoke: Call };
  /** Ids of the keys the engine can have made that exist at the provider now (service accounts, key tokens, key hashes). */
  keyIds(): string[];
  /** The provider's id of the key a lease's internal data names. */
  keyIdOf(internal: Record<string, unknown>): string | undefined;
  /** When the provider itself ends the key (epoch ms), or null when it never does (OpenAI service accounts). */
  keyExpiry(keyId: string): number | null;
  /** The issued secret in a creds response's data. */
  secretOf(data: Record<string, unknown>): string;
  close(): Promise<void>;
}

export interface OpenAIFixture extends ProviderFixture {
  provider: "openai";
  /** Ids of the admin keys at the provider. */
  adminKeyIds(): string[];
  rotationCalls: { create: Call; verify: Call; deleteOld: Call };
}

export async function startProvider(provider: "openai", options?: { latencyMs?: number }): Promise<OpenAIFixture>;
export async function startProvider(provider: ProviderName, options?: { latencyMs?: number }): Promise<ProviderFixture>;
export async function startProvider(provider: ProviderName, options: { latencyMs?: number } = {}): Promise<ProviderFixture> {
  const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
  switch (provider) {
    case "openai": {
      const em = await startOpenAIEmulator(latency);
      const project = em.projects[0]!.id;
      type State = { admin_api_keys: Array<{ id: string }>; projects: Array<{ id: string; service_accounts: Array<{ id: string }> }> };
      const state = () => em.control.state() as State;
      const fixture: OpenAIFixture = {
        provider,
        control: em.control,
        config: { admin_api_key: em.adminKey, admin_api_key_id: em.adminKeyId, organization_id: em.organizationId, api_endpoint: em.baseUrl },
        credential: em.adminKey,
        roleBase: { project_id: project },
        calls: {
          issue: { method: "POST", path: "/v1/organization/projects/*/service_accounts" },
          revoke: { method: "DELETE", path: "/v1/organization/projects/*/service_accounts/*" },
        },
        rotationCalls: {
          create: { method: "POST", path: "/v1/organization/admin_api_keys" },
          // The new key proves itself by listing admin keys.
          verify: { method: "GET", path: "/v1/organization/admin_api_keys" },
          deleteOld: { method: "DELETE", path: "/v1/organization/admin_api_keys/*" },
        },
        keyIds: () => (state().projects.find((p) => p.id === project)?.service_accounts ?? []).map((a) => a.id),
        keyIdOf: (internal) => (typeof internal["service_account_id"] === "string" ? internal["service_account_id"] : undefined),
        keyExpiry: () => null,
        secretOf: (data) => String(data["api_key"] ?? ""),
        adminKeyIds: () => state().admin_api_keys.map((k) => k.id),
        close: () => em.close(),
      };
      return fixture;
    }
    case "litellm": {
      const em = await startLiteLLMEmulator(latency);
      return {
        provider,
        control: em.control,
        config: { base_url: em.baseUrl, master_key: em.masterKey },
        credential: em.masterKey,
        roleBase: {},
        calls: {
          issue: { method: "POST", path: "/key/generate" },
          renew: { method: "POST", path: "/key/update" },
          revoke: { method: "POST", path: "/key/delete" },
        },
        keyIds: () => (em.control.state() as { keys: Array<{ token: string }> }).keys.map((k) => k.token),
        keyIdOf: (internal) => (typeof internal["token"] === "string" ? internal["token"] : undefined),
        keyExpiry: (id) => {
          const expires = (em.control.state() as { keys: Array<{ token: string; expires: string | null }> }).keys.find((k) => k.token === id)?.expires;
          return expires ? Date.parse(expires.endsWith("Z") ? expires : `${expires}Z`) : null;
        },
        secretOf: (data) => String(data["key"] ?? ""),
        close: () => em.close(),
      };
    }
    case "openrouter": {
      const em = await startOpenRouterEmulator(latency);
      return {
        provider,
        control: em.control,
        config: { provider: "openrouter", base_url: em.baseUrl, provisioning_key: em.managementKey },
        credential: em.managementKey,
        roleBase: {},
        calls: {
          issue: { method: "POST", path: "/api/v1/keys" },
          revoke: { method: "DELETE", path: "/api/v1/keys/*" },
        },
        keyIds: () => (em.control.state() as { keys: Array<{ hash: string; management: boolean }> }).keys.filter((k) => !k.management).map((k) => k.hash),
        keyIdOf: (internal) => (typeof internal["hash"] === "string" ? internal["hash"] : undefined),
        keyExpiry: (id) => {
          const expires = (em.control.state() as { keys: Array<{ hash: string; expires_at: string | null }> }).keys.find((k) => k.hash === id)?.expires_at;
          return expires ? Date.parse(expires) : null;
        },
        secretOf: (data) => String(data["key"] ?? ""),
        close: () => em.close(),
      };
    }
  }
}

/** Role fields that fit the provider (OpenAI's role names the emulator's project). */
export function roleFields(fixture: ProviderFixture, ttl: string, maxTtl = "24h"): Record<string, string> {
  return { ...fixture.roleBase, ttl, max_ttl: maxTtl };
}

export type FaultKind = "500" | "429" | "timeout" | "drop";
export const FAULT_KINDS: readonly FaultKind[] = ["500", "429", "timeout", "drop"];

/** The engine's per-attempt client timeout, and a stall safely past it. */
export const CLIENT_TIMEOUT_MS = DEFAULT_TIMEOUT_MS;

/**
 * A fault rule for one call. The 500, the stall and the drop let the
 * provider act first, so a creation really happens and only its answer is
 * lost: the harder case. A 429 is refused before anything happens, with
 * Retry-After: 1.
 */
export function faultRule(call: Call, kind: FaultKind, times: number | "always" = 1): FaultRuleInput {
  const base = { method: call.method, path: call.path, times };
  switch (kind) {
    case "500":
      return { ...base, action: { type: "status", status: 500, afterHandler: true } };
    case "429":
      return { ...base, action: { type: "status", status: 429, retryAfter: 1 } };
    case "timeout":
      return { ...base, action: { type: "stall", ms: CLIENT_TIMEOUT_MS + 5_000 } };
    case "drop":
      return { ...base, action: { type: "drop", afterHandler: true } };
  }
}

/** How many requests the emulator saw for a call. */
export function callCount(control: EmulatorControl, call: Call, since = 0): number {
  const re = new RegExp(`^${call.path.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
  return control.requests({ since }).filter((r) => r.method === call.method && re.test(r.path)).length;
}

/** Mounts the engine at `path` and configures its default connection. */
export async function mountEngine(api: Api, path: string, fixture: ProviderFixture): Promise<void> {
  await ok(api, "POST", `sys/mounts/${path}`, { type: PLUGIN_NAME });
  await ok(api, "POST", `${path}/config`, fixture.config);
}

/** A request that must succeed; the error names the request, never its body. */
export async function ok(api: Api, method: string, path: string, body?: unknown): Promise<HttpResult> {
  const res = await api.http(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body.errors)}`);
  return res;
}

export interface Issued {
  leaseId: string;
  secret: string;
  keyId: string;
}

/** Issues a key; the response must be a lease. */
export async function issue(api: Api, fixture: ProviderFixture, path: string): Promise<Issued> {
  const res = await ok(api, "GET", path);
  return leaseOf(fixture, res);
}

export function leaseOf(fixture: ProviderFixture, res: HttpResult): Issued {
  const data = (res.body.data ?? {}) as Record<string, unknown>;
  const keyId = String(data["service_account_id"] ?? data["token_id"] ?? data["key_hash"] ?? "");
  return { leaseId: String(res.body["lease_id"] ?? ""), secret: fixture.secretOf(data), keyId };
}

export async function mountUuid(api: Api, mount: string): Promise<string> {
  const res = await ok(api, "GET", `sys/mounts/${mount}`);
  const uuid = (res.body.data as { uuid?: string } | undefined)?.uuid ?? (res.body as { uuid?: string }).uuid;
  if (!uuid) throw new Error(`no uuid for mount ${mount}`);
  return uuid;
}

/** Keys under a prefix of the server's barrier storage (sys/raw; "" when there are none). */
export async function rawList(api: Api, prefix: string): Promise<string[]> {
  const res = await api.http("LIST", `sys/raw/${prefix}`);
  if (res.status === 404) return [];
  if (res.status !== 200) throw new Error(`LIST sys/raw/${prefix} answered ${res.status}: ${JSON.stringify(res.body.errors)}`);
  return ((res.body.data as { keys?: string[] } | undefined)?.keys ?? []).map(String);
}

export async function rawGet(api: Api, key: string): Promise<string | undefined> {
  const res = await api.http("GET", `sys/raw/${key}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET sys/raw/${key} answered ${res.status}: ${JSON.stringify(res.body.errors)}`);
  return String((res.body.data as { value?: unknown } | undefined)?.value ?? "");
}

/** Every key of a mount's storage, recursively, with its value. */
export async function mountStorage(api: Api, uuid: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (prefix: string): Promise<void> => {
    for (const k of await rawList(api, `logical/${uuid}/${prefix}`)) {
      if (k.endsWith("/")) await walk(prefix + k);
      else out.set(prefix + k, (await rawGet(api, `logical/${uuid}/${prefix}${k}`)) ?? "");
    }
  };
  await walk("");
  return out;
}

/** Ids of the mount's write-ahead log entries still waiting for the rollback. */
export async function walIds(api: Api, uuid: string): Promise<string[]> {
  return rawList(api, `logical/${uuid}/wal/`);
}

/** What each WAL entry of the mount names: the service account, key alias or key name its issuance made. */
export async function walNames(api: Api, uuid: string): Promise<string[]> {
  const names: string[] = [];
  for (const id of await walIds(api, uuid)) {
    const value = await rawGet(api, `logical/${uuid}/wal/${id}`);
    const data = value === undefined ? undefined : (JSON.parse(value) as { data?: { name?: unknown; key_alias?: unknown } }).data;
    const name = data?.name ?? data?.key_alias;
    if (typeof name === "string") names.push(name);
  }
  return names;
}

/** The engine's record of a key it handed out (issued/<id>), or undefined. */
export async function issuedRecord(api: Api, uuid: string, keyId: string): Promise<{ name?: string; lease_ends_at?: number } | undefined> {
  const value = await rawGet(api, `logical/${uuid}/issued/${keyId}`);
  return value === undefined ? undefined : (JSON.parse(value) as { name?: string; lease_ends_at?: number });
}

/**
 * Makes every WAL entry of the mount look older than the engine's minimum
 * rollback age (ten minutes, as the Go SDK's), so the next rollback tick
 * undoes them. The bounded form does this rather than wait ten minutes; the
 * long form waits for real.
 */
export async function ageWal(api: Api, uuid: string, seconds = 3600): Promise<number> {
  let aged = 0;
  for (const id of await walIds(api, uuid)) {
    const value = await rawGet(api, `logical/${uuid}/wal/${id}`);
    if (value === undefined) continue;
    const entry = JSON.parse(value) as { created_at: number };
    entry.created_at -= seconds;
    // The rollback may have removed it meanwhile; writing it back would resurrect it.
    if ((await rawGet(api, `logical/${uuid}/wal/${id}`)) === undefined) continue;
    await ok(api, "PUT", `sys/raw/logical/${uuid}/wal/${id}`, { value: JSON.stringify(entry) });
    aged++;
  }
  return aged;
}

/** The WAL rollback's minimum age plus one rollback tick, and some slack: how long the long form waits. */
export const REAL_ROLLBACK_WAIT_MS = (600 + 60 + 60) * 1000;

/**
 * Waits until the server's rollback has undone every WAL entry of these
 * mounts: the bounded form ages the entries first and waits for the next
 * tick (once a minute), the long form waits for them to come of age.
 */
export async function awaitRollback(api: Api, uuids: string[]): Promise<{ entries: number; waitedMs: number }> {
  const started = Date.now();
  let entries = 0;
  for (const uuid of uuids) entries += (await walIds(api, uuid)).length;
  if (!soak) for (const uuid of uuids) await ageWal(api, uuid);
  await waitFor(
    "the rollback to undo every WAL entry",
    async () => {
      for (const uuid of uuids) if ((await walIds(api, uuid)).length > 0) return undefined;
      return true;
    },
    soak ? REAL_ROLLBACK_WAIT_MS : 150_000,
  );
  return { entries, waitedMs: Date.now() - started };
}

/** Lease ids under a prefix, recursively (sys/leases/lookup). */
export async function leaseIds(api: Api, prefix: string): Promise<string[]> {
  const base = prefix.endsWith("/") ? prefix : `${prefix}/`;
  const res = await api.http("LIST", `sys/leases/lookup/${base}`);
  if (res.status === 404) return [];
  if (res.status !== 200) throw new Error(`LIST sys/leases/lookup/${base} answered ${res.status}: ${JSON.stringify(res.body.errors)}`);
  const out: string[] = [];
  for (const k of (res.body.data as { keys?: string[] } | undefined)?.keys ?? []) {
    if (k.endsWith("/")) out.push(...(await leaseIds(api, base + k)));
    else out.push(base + k);
  }
  return out;
}

/** Whether the server still holds the lease. */
export async function leaseExists(api: Api, leaseId: string): Promise<boolean> {
  const res = await api.http("PUT", "sys/leases/lookup", { lease_id: leaseId });
  return res.status === 200;
}

/** The internal data the engine stored in a lease (from the server's lease entry, through sys/raw). */
export async function leaseInternal(api: Api, leaseId: string): Promise<Record<string, unknown> | undefined> {
  const value = await rawGet(api, `sys/expire/id/${leaseId}`);
  if (value === undefined) return undefined;
  const entry = JSON.parse(value) as { secret?: { internal_data?: Record<string, unknown> } };
  return entry.secret?.internal_data;
}

/**
 * Compares the provider with the server's leases under a prefix: every key
 * at the provider must be held by a live lease (no orphan), and every live
 * lease must name a key that exists (no lease whose key is unknown).
 */
export async function reconcile(api: Api, fixture: ProviderFixture, prefix: string): Promise<{ leases: number; keys: number; orphans: string[]; unknown: string[] }> {
  const leased = new Map<string, string>();
  for (const id of await leaseIds(api, prefix)) {
    const internal = await leaseInternal(api, id);
    const key = internal ? fixture.keyIdOf(internal) : undefined;
    leased.set(id, key ?? "");
  }
  const atProvider = new Set(fixture.keyIds());
  const held = new Set(leased.values());
  return {
    leases: leased.size,
    keys: atProvider.size,
    orphans: [...atProvider].filter((k) => !held.has(k)),
    unknown: [...leased].filter(([, k]) => !atProvider.has(k)).map(([id]) => id),
  };
}

/**
 * Why an error the client saw is not clear, or undefined when it is: it
 * must name the provider and the problem, and carry no stack trace.
 */
export function unclearError(provider: ProviderName, message: string): string | undefined {
  if (!message.trim()) return "empty error";
  if (/\n\s+at\s|\.(ts|js|cjs|mjs):\d+/.test(message)) return "carries a stack trace";
  if (!message.includes(PROVIDER_LABEL[provider])) return `does not name ${PROVIDER_LABEL[provider]}`;
  if (!/HTTP \d{3}|did not answer|cannot reach|broke off|timed out|malformed|not JSON/.test(message)) return "does not say what went wrong";
  return undefined;
}

export function errorText(res: HttpResult): string {
  return (res.body.errors ?? []).join("; ");
}

/**
 * Collects every secret a scenario configured or was issued, every answer
 * other than an issued key (creds), and every error, so the scenario can
 * check that no secret appears in any of them or in the server's log.
 */
export class LeakWatch {
  private readonly secrets = new Map<string, string>();
  private readonly texts: Array<{ label: string; text: string }> = [];
  /** Responses and errors recorded. */
  responses = 0;

  /** A secret to look for; `kind` names it in findings (the value never appears in them). */
  secret(kind: string, value: string | undefined): void {
    // Short strings would match by accident; no real credential is this short.
    if (value && value.length >= 12) this.secrets.set(value, kind);
  }

  record(label: string, value: unknown): void {
    this.texts.push({ label, text: typeof value === "string" ? value : JSON.stringify(value) });
    this.responses++;
  }

  /** A server whose every answer is recorded; the key value of a creds answer is taken as a secret instead. */
  wrap<T extends Api>(api: T): Api {
    return {
      get log() {
        return api.log;
      },
      http: async (method, path, body) => {
        const res = await api.http(method, path, body);
        const data = res.body.data as Record<string, unknown> | undefined;
        if (res.status === 200 && /\/creds\/[^/]+$/.test(path.split("?")[0] ?? "") && data) {
          for (const field of ["api_key", "key"]) this.secret("issued key", typeof data[field] === "string" ? data[field] : undefined);
          this.record(`${method} ${path} (creds, key fields removed)`, { ...res.body, data: Object.fromEntries(Object.entries(data).filter(([k]) => k !== "api_key" && k !== "key")) });
        } else {
          this.record(`${method} ${path} (${res.status})`, res.body);
        }
        return res;
      },
    };
  }

  get secretCount(): number {
    return this.secrets.size;
  }

  /** Where a secret appears: "<kind of secret> in <place>", never the secret itself. */
  findings(logs: Array<{ label: string; text: string }> = []): string[] {
    const out = new Set<string>();
    for (const { label, text } of [...this.texts, ...logs]) {
      for (const [value, kind] of this.secrets) if (text.includes(value)) out.add(`${kind} in ${label}`);
    }
    return [...out];
  }
}

/** The running plugin's listening unix socket (go-plugin's), found through /proc. */
export function pluginSocket(pid: number): string | undefined {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  for (const line of readFileSync("/proc/net/unix", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    // Flags 00010000 is a listening socket.
    if (cols.length >= 8 && inodes.has(cols[6]!) && cols[3] === "00010000") return cols[7];
  }
  return undefined;
}

/** Milliseconds as seconds with one decimal, for report lines. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A fixed-size pool: runs fn over items with at most `width` in flight. */
export async function pool<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
