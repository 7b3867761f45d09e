// An in-process harness for backends, like the Go SDK's logical.TestBackend:
// in-memory storage, a configurable system view, and requests without a server.
import { randomUUID } from "node:crypto";
import type { IdentityEntity, IdentityGroup, JsonObject, LogicalBackend, Operation, PluginEnvironment, Request, Response, Secret, Storage, StorageEntry, SystemView, BackendFactory } from "../logical/types.ts";
import { createLogger, type Logger } from "../runtime/logger.ts";

export class InMemoryStorage implements Storage {
  readonly entries = new Map<string, StorageEntry>();
  async list(prefix: string): Promise<string[]> {
    const out = new Set<string>();
    for (const key of this.entries.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf("/");
      out.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return [...out].sort();
  }
  async get(key: string): Promise<StorageEntry | undefined> {
    const e = this.entries.get(key);
    return e ? { ...e, value: Uint8Array.from(e.value) } : undefined;
  }
  async put(entry: StorageEntry): Promise<void> {
    if (entry.key.includes("..")) throw new Error("relative paths not supported");
    this.entries.set(entry.key, { ...entry, value: Uint8Array.from(entry.value) });
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

export interface StaticSystemViewOptions {
  defaultLeaseTtl?: number;
  maxLeaseTtl?: number;
  tainted?: boolean;
  cachingDisabled?: boolean;
  replicationState?: number;
  localMount?: boolean;
  pluginEnv?: Partial<PluginEnvironment>;
  /** The identity store: entities by id, and each entity's groups by its id. */
  entities?: Record<string, IdentityEntity>;
  groups?: Record<string, IdentityGroup[]>;
}

export class StaticSystemView implements SystemView {
  options: StaticSystemViewOptions;
  constructor(options: StaticSystemViewOptions = {}) {
    this.options = options;
  }
  async defaultLeaseTTL() {
    return this.options.defaultLeaseTtl ?? 2764800;
  }
  async maxLeaseTTL() {
    return this.options.maxLeaseTtl ?? 2764800;
  }
  async tainted() {
    return this.options.tainted ?? false;
  }
  async cachingDisabled() {
    return this.options.cachingDisabled ?? false;
  }
  async replicationState() {
    return this.options.replicationState ?? 0;
  }
  async localMount() {
    return this.options.localMount ?? false;
  }
  async pluginEnv(): Promise<PluginEnvironment> {
    return { vaultVersion: "2.7.2", vaultVersionPrerelease: "", vaultVersionMetadata: "", ...this.options.pluginEnv };
  }
  async entityInfo(entityId: string): Promise<IdentityEntity | undefined> {
    return this.options.entities?.[entityId];
  }
  async groupsForEntity(entityId: string): Promise<IdentityGroup[]> {
    return this.options.groups?.[entityId] ?? [];
  }
}

export interface TestRequest {
  operation: Operation;
  path: string;
  data?: JsonObject;
  secret?: Secret;
  displayName?: string;
}

export class TestBackend {
  readonly backend: LogicalBackend;
  readonly storage: InMemoryStorage;
  readonly system: StaticSystemView;
  readonly logLines: string[];
  readonly mountPoint: string;

  private constructor(backend: LogicalBackend, storage: InMemoryStorage, system: StaticSystemView, logLines: string[], mountPoint: string) {
    this.backend = backend;
    this.storage = storage;
    this.system = system;
    this.logLines = logLines;
    this.mountPoint = mountPoint;
  }

  static async create(factory: BackendFactory, options: { system?: StaticSystemViewOptions; config?: Record<string, string>; mountPoint?: string; logger?: Logger } = {}): Promise<TestBackend> {
    const storage = new InMemoryStorage();
    const system = new StaticSystemView(options.system);
    const logLines: string[] = [];
    const logger = options.logger ?? createLogger({ level: "trace", write: (l) => logLines.push(l) });
    const backend = await factory({ storage, system, config: options.config ?? {}, backendUuid: randomUUID(), logger });
    await backend.initialize(storage);
    return new TestBackend(backend, storage, system, logLines, options.mountPoint ?? "test/");
  }

  makeRequest(req: TestRequest): Request {
    const request: Request = {
      id: randomUUID(),
      operation: req.operation,
      path: req.path,
      data: req.data ?? {},
      storage: this.storage,
      mountPoint: this.mountPoint,
      mountType: "plugin",
      mountAccessor: "test_accessor",
      displayName: req.displayName ?? "token",
      entityId: "",
      clientTokenAccessor: "",
      clientToken: "",
      unauthenticated: false,
      headers: {},
      wrapTtl: 0,
    };
    if (req.secret) request.secret = req.secret;
    return request;
  }

  /** Sends a request the way the server would, existence check included. */
  async request(req: TestRequest): Promise<Response | undefined> {
    let operation = req.operation;
    if (operation === "create" || operation === "update") {
      const check = await this.backend.handleExistenceCheck(this.makeRequest(req));
      operation = check.checkFound && !check.exists ? "create" : "update";
    }
    return this.backend.handleRequest(this.makeRequest({ ...req, operation }));
  }

  read(path: string, data?: JsonObject) {
    return this.request({ operation: "read", path, ...(data ? { data } : {}) });
  }
  write(path: string, data: JsonObject = {}) {
    return this.request({ operation: "update", path, data });
  }
  delete(path: string) {
    return this.request({ operation: "delete", path });
  }
  list(path: string) {
    return this.request({ operation: "list", path: path.endsWith("/") ? path : path + "/" });
  }

  /** Renews a lease issued by an earlier response, as the server would. */
  renew(issued: Response, increment = 0, issueTime = new Date()) {
    return this.backend.handleRequest(this.makeRequest({ operation: "renew", path: "", secret: leaseOf(issued, increment, issueTime) }));
  }
  revoke(issued: Response) {
    return this.backend.handleRequest(this.makeRequest({ operation: "revoke", path: "", data: issued.data ?? {}, secret: leaseOf(issued, 0, new Date()) }));
  }
  rollback() {
    return this.backend.handleRequest(this.makeRequest({ operation: "rollback", path: "" }));
  }
}

function leaseOf(issued: Response, increment: number, issueTime: Date): Secret {
  if (!issued.secret) throw new Error("the response holds no secret");
  const lo = issued.secret.leaseOptions;
  // Internal data goes through the server's lease storage as JSON.
  return {
    leaseId: "",
    internalData: JSON.parse(JSON.stringify(issued.secret.internalData)) as JsonObject,
    leaseOptions: { ttl: lo.ttl ?? 0, maxTtl: lo.maxTtl ?? 0, renewable: lo.renewable ?? false, increment, issueTime },
  };
}
