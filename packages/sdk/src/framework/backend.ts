// The framework backend: routes each request to its path and operation,
// validates fields, answers help with text and OpenAPI, dispatches renew and
// revoke by secret type, and runs WAL rollback and periodic work on the
// server's rollback tick. It is the Go SDK's framework.Backend in TypeScript.
import type {
  BackendConfig,
  BackendType,
  ExistenceResult,
  JsonObject,
  LogicalBackend,
  Request,
  Response,
  SpecialPaths,
  Storage,
  SystemView,
} from "../logical/types.ts";
import { LogicalError, readOnly, unsupportedOperation, unsupportedPath } from "../logical/errors.ts";
import { isPerformanceStandby } from "../logical/replication.ts";
import type { Logger } from "../runtime/logger.ts";
import { declaredField, FieldData } from "./field-data.ts";
import { buildOpenApi, type OpenApiDocument } from "./openapi.ts";
import { compilePattern, type CompiledPath, type HandlerContext, operationHandler, type PathDefinition, type PathOperation } from "./path.ts";
import { SECRET_TYPE_KEY, type SecretType } from "./secret.ts";
import { deleteWal, getWal, listWal, type WalEntry } from "./wal.ts";

export interface BackendDefinition<S> {
  /** Shown by path-help at the mount's root. */
  help: string;
  paths: PathDefinition<Backend<S>>[];
  secrets?: SecretType<Backend<S>>[];
  specialPaths?: SpecialPaths;
  type?: BackendType;
  /** The plugin's version, shown in the OpenAPI document. */
  version?: string;
  /** Runs once the mount's storage is writable. */
  initialize?: (backend: Backend<S>, storage: Storage) => Promise<void> | void;
  /** Runs on every rollback tick (about once a minute per mount). */
  periodic?: (backend: Backend<S>, request: Request) => Promise<void> | void;
  /** Undoes what a WAL entry records; the entry is deleted when this resolves. */
  walRollback?: (backend: Backend<S>, request: Request, entry: WalEntry) => Promise<void> | void;
  /** Only entries at least this old (seconds) are rolled back. Default 600, as in the Go SDK. */
  walRollbackMinAge?: number;
  /** Drop cached state derived from this storage key (called on standbys). */
  invalidate?: (backend: Backend<S>, key: string) => Promise<void> | void;
  cleanup?: (backend: Backend<S>) => Promise<void> | void;
}

const NO_SYSTEM_VIEW: SystemView = new Proxy({} as SystemView, {
  get: () => () => Promise.reject(new Error("missing system view implementation")),
});

export class Backend<S> implements LogicalBackend {
  readonly type: BackendType;
  readonly state: S;
  readonly logger: Logger;
  readonly system: SystemView;
  readonly config: Readonly<Record<string, string>>;
  private readonly definition: BackendDefinition<S>;
  private readonly compiled: CompiledPath<Backend<S>>[];
  private readonly secretTypes: Map<string, SecretType<Backend<S>>>;

  constructor(definition: BackendDefinition<S>, config: BackendConfig, state: S) {
    this.definition = definition;
    this.type = definition.type ?? "logical";
    this.state = state;
    this.logger = config.logger;
    this.system = config.system ?? NO_SYSTEM_VIEW;
    this.config = config.config;
    this.compiled = definition.paths.map((p) => ({ definition: p, ...compilePattern(p.pattern) }));
    this.secretTypes = new Map((definition.secrets ?? []).map((s) => [s.type, s]));
  }

  specialPaths(): SpecialPaths {
    return this.definition.specialPaths ?? {};
  }

  async initialize(storage: Storage): Promise<void> {
    await this.definition.initialize?.(this, storage);
  }

  async invalidateKey(key: string): Promise<void> {
    await this.definition.invalidate?.(this, key);
  }

  async cleanup(): Promise<void> {
    await this.definition.cleanup?.(this);
  }

  private route(path: string): { compiled: CompiledPath<Backend<S>>; captures: JsonObject } | undefined {
    for (const compiled of this.compiled) {
      const m = compiled.regex.exec(path);
      if (m) return { compiled, captures: { ...(m.groups ?? {}) } };
    }
    return undefined;
  }

  private fieldsFor(request: Request, compiled: CompiledPath<Backend<S>>, captures: JsonObject): FieldData {
    const schema = compiled.definition.fields ?? {};
    // Path segments win over body fields of the same name, as in Go.
    const fields = new FieldData({ ...request.data, ...captures }, schema);
    fields.validate();
    return fields;
  }

  async handleExistenceCheck(request: Request): Promise<ExistenceResult> {
    const routed = this.route(request.path);
    if (!routed) throw unsupportedPath();
    const check = routed.compiled.definition.existenceCheck;
    if (!check) return { checkFound: false, exists: false };
    const fields = this.fieldsFor(request, routed.compiled, routed.captures);
    return { checkFound: true, exists: await check({ request, fields, backend: this }) };
  }

  async handleRequest(request: Request): Promise<Response | undefined> {
    switch (request.operation) {
      case "help":
        return this.help(request);
      case "renew":
      case "revoke":
        return this.handleSecret(request);
      case "rollback":
        return this.handleRollback(request);
      default:
        return this.handlePath(request);
    }
  }

  private async handlePath(request: Request): Promise<Response | undefined> {
    const routed = this.route(request.path);
    if (!routed) throw unsupportedPath();
    const def = routed.compiled.definition;
    const op = request.operation as PathOperation;
    let operation = operationHandler(def.operations[op]);
    // The server sends "create" only after an existence check said the item
    // is new; a path that treats both alike declares just "update".
    if (!operation && op === "create") operation = operationHandler(def.operations.update);
    if (!operation) throw unsupportedOperation();
    if (operation.forwardPerformanceStandby && (await isPerformanceStandby(this.system))) throw readOnly();

    const fields = this.fieldsFor(request, routed.compiled, routed.captures);
    if (op === "create" || (op === "update" && !def.existenceCheck)) {
      fields.requireFields(Object.entries(def.fields ?? {}).filter(([, f]) => f.required).map(([n]) => n));
    }
    const ctx: HandlerContext<Backend<S>> = { request, fields, backend: this };
    let response = await operation.handler(ctx);
    const ignored = def.takesArbitraryInput ? [] : Object.keys(request.data).filter((k) => !declaredField(def.fields ?? {}, k)).sort();
    if (ignored.length > 0 && (response !== undefined || (op !== "read" && op !== "list"))) {
      response ??= {};
      response.warnings = [...(response.warnings ?? []), `Endpoint ignored these unrecognized parameters: [${ignored.join(" ")}]`];
    }
    return response;
  }

  private async handleSecret(request: Request): Promise<Response | undefined> {
    const internal = { ...(request.secret?.internalData ?? {}) };
    const typeName = internal[SECRET_TYPE_KEY];
    const secretType = typeof typeName === "string" ? this.secretTypes.get(typeName) : undefined;
    if (!secretType) throw new LogicalError("invalid-request", `secret is unsupported by this backend (secret_type ${JSON.stringify(typeName ?? null)})`);
    delete internal[SECRET_TYPE_KEY];
    const ctx = { request, internal, backend: this };
    if (request.operation === "revoke") {
      const res = await secretType.revoke(ctx);
      return res ?? undefined;
    }
    if (!secretType.renew) throw unsupportedOperation();
    const res = await secretType.renew(ctx);
    if (res?.secret) {
      // The server replaces the lease's stored secret with the renewed one,
      // so what was stored at issue time must be carried over, or the next
      // renew and the revoke would lose it.
      res.secret.internalData = { ...request.secret?.internalData, ...res.secret.internalData, [SECRET_TYPE_KEY]: secretType.type };
      res.secret.leaseOptions.issueTime ??= request.secret?.leaseOptions.issueTime;
    }
    return res;
  }

  private async handleRollback(request: Request): Promise<Response | undefined> {
    const { periodic, walRollback } = this.definition;
    if (!periodic && !walRollback) throw unsupportedOperation();
    const errors: string[] = [];
    if (periodic) {
      try {
        await periodic(this, request);
      } catch (err) {
        this.logger.error("periodic function failed", { error: (err as Error).message });
        errors.push(`periodic: ${(err as Error).message}`);
      }
    }
    if (walRollback) {
      const minAge = this.definition.walRollbackMinAge ?? 600;
      const now = Date.now() / 1000;
      for (const id of await listWal(request.storage)) {
        const entry = await getWal(request.storage, id);
        if (!entry || now - entry.createdAt < minAge) continue;
        try {
          await walRollback(this, request, entry);
          await deleteWal(request.storage, id);
          this.logger.info("rolled back write-ahead log entry", { kind: entry.kind, wal_id: id });
        } catch (err) {
          // Kept for the next tick: the undo must eventually happen.
          this.logger.warn("rollback of write-ahead log entry failed; will retry", { kind: entry.kind, wal_id: id, error: (err as Error).message });
          errors.push(`wal ${id}: ${(err as Error).message}`);
        }
      }
    }
    if (errors.length > 0) throw new LogicalError("internal", `rollback: ${errors.length} step(s) failed`);
    return undefined;
  }

  openApi(prefix: string): OpenApiDocument {
    const special = this.specialPaths();
    return buildOpenApi({
      paths: this.compiled as CompiledPath<unknown>[],
      prefix,
      description: this.definition.help.trim().split("\n")[0] ?? "",
      version: this.definition.version ?? "",
      sudoPaths: special.root ?? [],
      unauthenticatedPaths: special.unauthenticated ?? [],
    });
  }

  private help(request: Request): Response {
    const prefix = typeof request.data["requestResponsePrefix"] === "string" ? request.data["requestResponsePrefix"] : request.mountType || "plugin";
    if (request.path === "") {
      const paths = this.compiled.map((c) => `    ^${c.definition.pattern.replace(/\/\?$/, "/?")}$\n        ${c.definition.helpSynopsis?.trim() ?? ""}`).join("\n\n");
      return {
        data: {
          help: `## DESCRIPTION\n\n${this.definition.help.trim()}\n\n## PATHS\n\nThe following paths are supported by this backend. To view help for\nany of the paths below, use the help command with any route matching\nthe path pattern. Note that depending on the policy of your auth token,\nyou may or may not be able to access certain paths.\n\n${paths}\n`,
          see_also: [],
          openapi: this.openApi(prefix),
        },
      };
    }
    const routed = this.route(request.path);
    if (!routed) throw unsupportedPath();
    const def = routed.compiled.definition;
    const fields = Object.entries(def.fields ?? {})
      .filter(([, f]) => !f.deprecated)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, f]) => `    ${name} (${f.type})\n${f.description ? `\n        ${f.description.trim().replace(/\n/g, "\n        ")}\n` : ""}`)
      .join("\n");
    const text =
      `Request:        ${request.path}\nMatching Route: ${routed.compiled.regex.source}\n\n${def.helpSynopsis?.trim() ?? ""}\n` +
      (fields ? `\n## PARAMETERS\n\n${fields}\n` : "") +
      `\n## DESCRIPTION\n\n${(def.helpDescription ?? def.helpSynopsis ?? "").trim()}\n`;
    const doc = this.openApi(prefix);
    const only = Object.fromEntries(Object.entries(doc.paths).filter(([p]) => p === "/" + def.pattern.replace(/\/\?$/, "/").replace(/<(\w+)\*?>/g, "{$1}")));
    return { data: { help: text, see_also: [], openapi: { ...doc, paths: only } } };
  }
}

/**
 * A backend factory for serve(): builds the per-mount state, then the backend.
 * Each mount (multiplex id) gets its own state.
 */
export function defineBackend<S>(
  definition: BackendDefinition<S>,
  createState: (config: BackendConfig) => S | Promise<S>,
): (config: BackendConfig) => Promise<Backend<S>> {
  return async (config) => new Backend(definition, config, await createState(config));
}
