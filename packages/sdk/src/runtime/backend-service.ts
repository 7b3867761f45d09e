// pb.Backend served for every mount of this plugin in one process. Vault and
// OpenBao tag each call with gRPC metadata "multiplex_id", one id per mount;
// each id gets its own backend instance, broker channel and storage, so one
// mount's Cleanup leaves the others serving.
import * as grpc from "@grpc/grpc-js";
import type * as pb from "../proto/pb/backend.ts";
import type { BackendServer } from "../proto/pb/backend.ts";
import type { BackendFactory, LogicalBackend, Storage } from "../logical/types.ts";
import { LogicalError } from "../logical/errors.ts";
import type { Broker } from "./broker.ts";
import { HostCallError, HostStorage, HostSystemView } from "./host-clients.ts";
import type { Logger } from "./logger.ts";
import { ErrType, errorToWire, requestFromWire, responseToWire, specialPathsToWire, WireFormatError } from "./translate.ts";

const SINGLE_INSTANCE = "single";

interface Instance {
  backend: LogicalBackend;
  storage: Storage;
  channel: grpc.Channel;
}

export interface BackendServiceOptions {
  factory: BackendFactory;
  broker: Broker;
  logger: Logger;
  /** Called after the last instance is cleaned up. */
  onIdle?: () => void;
}

function multiplexId(call: grpc.ServerUnaryCall<unknown, unknown>): string {
  const values = call.metadata.get("multiplex_id");
  const id = values.length === 1 ? String(values[0]) : "";
  return id || SINGLE_INSTANCE;
}

function internalFailure(logger: Logger, err: unknown, context: Record<string, unknown>): pb.ProtoError {
  // The stack goes to the log for the operator, never to the client.
  logger.error("request handler failed", { ...context, error: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack });
  return { errType: ErrType.internal, errMsg: "internal error in plugin; see the plugin's log for details", errCode: 0n };
}

/**
 * A failure of the server's own storage passes through with its message, as
 * a Go plugin's would: the server reads it ("cannot write to readonly
 * storage" on a standby) to decide whether to forward the request.
 */
function hostFailure(err: HostCallError): pb.ProtoError {
  return { errType: ErrType.unknown, errMsg: err.message, errCode: 0n };
}

export class BackendService {
  private readonly instances = new Map<string, Instance>();
  private readonly options: BackendServiceOptions;
  constructor(options: BackendServiceOptions) {
    this.options = options;
  }

  get instanceCount(): number {
    return this.instances.size;
  }

  private instanceFor(call: grpc.ServerUnaryCall<unknown, unknown>): Instance {
    const id = multiplexId(call);
    const instance = this.instances.get(id);
    if (!instance) throw new LogicalError("internal", `no backend is set up for multiplex id ${JSON.stringify(id)}`);
    return instance;
  }

  async cleanupAll(): Promise<void> {
    const ids = [...this.instances.keys()];
    await Promise.allSettled(ids.map((id) => this.cleanupInstance(id)));
  }

  private async cleanupInstance(id: string): Promise<void> {
    const instance = this.instances.get(id);
    if (!instance) return;
    this.instances.delete(id);
    try {
      await instance.backend.cleanup();
    } finally {
      instance.channel.close();
    }
  }

  readonly implementation: BackendServer = {
    setup: (call, callback) => {
      const id = multiplexId(call);
      const log = this.options.logger.with({ multiplex_id: id });
      void (async () => {
        try {
          const channel = await this.options.broker.dial(call.request.brokerId);
          const storage = new HostStorage(channel);
          const backend = await this.options.factory({
            storage,
            system: new HostSystemView(channel),
            config: { ...call.request.Config },
            backendUuid: call.request.backendUUID,
            logger: log,
          });
          const previous = this.instances.get(id);
          this.instances.set(id, { backend, storage, channel });
          if (previous) {
            previous.channel.close();
            void previous.backend.cleanup().catch(() => undefined);
          }
          log.debug("backend set up", { backend_uuid: call.request.backendUUID });
          callback(null, { err: "" });
        } catch (err) {
          log.error("backend setup failed", { error: (err as Error).message });
          callback(null, { err: (err as Error).message || "setup failed" });
        }
      })();
    },

    initialize: (call, callback) => {
      void (async () => {
        try {
          const instance = this.instanceFor(call);
          await instance.backend.initialize(instance.storage);
          callback(null, { err: undefined });
        } catch (err) {
          const wire = err instanceof LogicalError ? errorToWire(err).err : internalFailure(this.options.logger, err, { op: "initialize" });
          callback(null, { err: wire });
        }
      })();
    },

    handleRequest: (call, callback) => {
      const wireReq = call.request.request;
      void (async () => {
        try {
          const instance = this.instanceFor(call);
          if (!wireReq) throw new WireFormatError("request is missing");
          const request = requestFromWire(wireReq, instance.storage);
          const response = await instance.backend.handleRequest(request);
          callback(null, { response: response ? responseToWire(response) : undefined, err: undefined });
        } catch (err) {
          if (err instanceof LogicalError) {
            callback(null, errorToWire(err));
          } else if (err instanceof HostCallError) {
            callback(null, { response: undefined, err: hostFailure(err) });
          } else if (err instanceof WireFormatError) {
            callback(null, { response: undefined, err: { errType: ErrType.statusBadRequest, errMsg: err.message, errCode: 0n } });
          } else {
            callback(null, {
              response: undefined,
              err: internalFailure(this.options.logger, err, { path: wireReq?.path, operation: wireReq?.operation }),
            });
          }
        }
      })();
    },

    handleExistenceCheck: (call, callback) => {
      const wireReq = call.request.request;
      void (async () => {
        try {
          const instance = this.instanceFor(call);
          if (!wireReq) throw new WireFormatError("request is missing");
          const result = await instance.backend.handleExistenceCheck(requestFromWire(wireReq, instance.storage));
          callback(null, { checkFound: result.checkFound, exists: result.exists, err: undefined });
        } catch (err) {
          // The server turns any existence-check error into a 500 unless it is
          // a user error (400) or "unsupported path" (404, deferred to the
          // request), as the Go SDK's errutil.UserError is; field errors must
          // therefore travel as user errors carrying their message.
          let wire: pb.ProtoError;
          if (err instanceof LogicalError && (err.kind === "invalid-request" || err.kind === "bad-request")) {
            wire = { errType: ErrType.user, errMsg: err.message, errCode: 0n };
          } else if (err instanceof LogicalError) {
            wire = errorToWire(err).err;
          } else if (err instanceof HostCallError) {
            wire = hostFailure(err);
          } else {
            wire = internalFailure(this.options.logger, err, { path: wireReq?.path, operation: "existence-check" });
          }
          callback(null, { checkFound: false, exists: false, err: wire });
        }
      })();
    },

    specialPaths: (call, callback) => {
      try {
        callback(null, { paths: specialPathsToWire(this.instanceFor(call).backend.specialPaths()) });
      } catch {
        callback(null, { paths: specialPathsToWire({}) });
      }
    },

    type: (call, callback) => {
      try {
        const type = this.instanceFor(call).backend.type;
        callback(null, { type: type === "credential" ? 2 : 1 });
      } catch (err) {
        callback({ code: grpc.status.FAILED_PRECONDITION, details: (err as Error).message }, null);
      }
    },

    invalidateKey: (call, callback) => {
      void (async () => {
        try {
          await this.instanceFor(call).backend.invalidateKey(call.request.key);
        } catch (err) {
          this.options.logger.warn("invalidate failed", { key: call.request.key, error: (err as Error).message });
        }
        callback(null, {});
      })();
    },

    cleanup: (call, callback) => {
      const id = multiplexId(call);
      void (async () => {
        try {
          await this.cleanupInstance(id);
        } catch (err) {
          this.options.logger.warn("backend cleanup failed", { multiplex_id: id, error: (err as Error).message });
        }
        callback(null, {});
        if (this.instances.size === 0) this.options.onIdle?.();
      })();
    },
  };
}
