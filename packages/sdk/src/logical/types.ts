// The logical layer: what a backend sees of a request, independent of the wire.
// It mirrors the Go SDK's sdk/logical package. Durations here are whole
// seconds (the Go SDK's time.Duration becomes nanoseconds only on the wire).

export type Operation =
  | "create"
  | "read"
  | "update"
  | "patch"
  | "delete"
  | "list"
  | "help"
  | "revoke"
  | "renew"
  | "rollback"
  | "alias-lookahead"
  | "resolve-role"
  | "header";

export type JsonObject = { [key: string]: unknown };

export interface StorageEntry {
  key: string;
  value: Uint8Array;
  sealWrap?: boolean;
}

export interface Storage {
  /** Direct children of the prefix; sub-folders end in "/". */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<StorageEntry | undefined>;
  put(entry: StorageEntry): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface PluginEnvironment {
  vaultVersion: string;
  vaultVersionPrerelease: string;
  vaultVersionMetadata: string;
}

/** An identity alias: the entity's account on one auth mount. */
export interface IdentityAlias {
  id: string;
  name: string;
  mountAccessor: string;
  mountType: string;
  metadata: Record<string, string>;
  customMetadata: Record<string, string>;
  namespaceId: string;
  /** A local alias is not replicated to other clusters (Enterprise). */
  local: boolean;
}

/** An identity entity, as the server's identity store knows it. */
export interface IdentityEntity {
  id: string;
  name: string;
  metadata: Record<string, string>;
  aliases: IdentityAlias[];
  disabled: boolean;
  namespaceId: string;
}

export interface IdentityGroup {
  id: string;
  name: string;
  metadata: Record<string, string>;
  namespaceId: string;
}

/** The host's view of the mount and the system, read over the broker. */
export interface SystemView {
  /** The mount's default lease TTL (falling back to the system's), in seconds. */
  defaultLeaseTTL(): Promise<number>;
  /** The mount's max lease TTL (falling back to the system's), in seconds. */
  maxLeaseTTL(): Promise<number>;
  tainted(): Promise<boolean>;
  cachingDisabled(): Promise<boolean>;
  /** Replication bit flags (Enterprise); 0 on OpenBao and Vault Community. */
  replicationState(): Promise<number>;
  localMount(): Promise<boolean>;
  pluginEnv(): Promise<PluginEnvironment>;
  /** The entity with this id (a request's entityId), or undefined when there is none. */
  entityInfo(entityId: string): Promise<IdentityEntity | undefined>;
  /** The groups the entity belongs to, directly or through other groups. */
  groupsForEntity(entityId: string): Promise<IdentityGroup[]>;
}

export interface LeaseOptions {
  /** Seconds; 0 lets the server apply the mount's default. */
  ttl: number;
  /** Seconds; 0 means the mount's and system's maximum. */
  maxTtl: number;
  renewable: boolean;
  /** Seconds requested on renew. */
  increment: number;
  issueTime: Date;
}

export interface Secret {
  leaseOptions: LeaseOptions;
  /** Stored by the server with the lease and handed back on renew and revoke. */
  internalData: JsonObject;
  leaseId: string;
}

export interface Request {
  id: string;
  operation: Operation;
  /** Relative to the mount; list paths end in "/". */
  path: string;
  data: JsonObject;
  secret?: Secret;
  storage: Storage;
  mountPoint: string;
  mountType: string;
  mountAccessor: string;
  displayName: string;
  entityId: string;
  clientTokenAccessor: string;
  /** Salted by the server, not the caller's real token. */
  clientToken: string;
  unauthenticated: boolean;
  headers: Record<string, string[]>;
  /** Response wrapping requested by the caller, in seconds (0: none). */
  wrapTtl: number;
}

export interface Response {
  data?: JsonObject;
  secret?: Omit<Secret, "leaseId" | "leaseOptions"> & { leaseOptions: Partial<LeaseOptions> };
  warnings?: string[];
  headers?: Record<string, string[]>;
}

export interface SpecialPaths {
  root?: string[];
  unauthenticated?: string[];
  localStorage?: string[];
  sealWrapStorage?: string[];
  writeForwardedStorage?: string[];
  binary?: string[];
  limited?: string[];
  allowSnapshotRead?: string[];
}

export interface ExistenceResult {
  /** Whether the path has a notion of existence at all. */
  checkFound: boolean;
  exists: boolean;
}

export type BackendType = "logical" | "credential";

export interface BackendConfig {
  /** Absent when the server sets the plugin up only to learn its type. */
  storage?: Storage;
  system?: SystemView;
  config: Record<string, string>;
  backendUuid: string;
  logger: import("../runtime/logger.ts").Logger;
}

/** What the runtime serves. The framework's Backend implements it. */
export interface LogicalBackend {
  readonly type: BackendType;
  specialPaths(): SpecialPaths;
  initialize(storage: Storage): Promise<void>;
  handleRequest(request: Request): Promise<Response | undefined>;
  handleExistenceCheck(request: Request): Promise<ExistenceResult>;
  invalidateKey(key: string): Promise<void>;
  cleanup(): Promise<void>;
}

export type BackendFactory = (config: BackendConfig) => Promise<LogicalBackend> | LogicalBackend;
