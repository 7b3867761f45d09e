// Storage and SystemView implemented as clients of the host's brokered
// servers. The host reports logical failures in the reply's err string and
// transport failures as gRPC status errors; both become StorageError.
import type * as grpc from "@grpc/grpc-js";
import { StorageClient, SystemViewClient } from "../proto/pb/backend.ts";
import type * as pb from "../proto/pb/backend.ts";
import type { IdentityEntity, IdentityGroup, PluginEnvironment, Storage, StorageEntry, SystemView } from "../logical/types.ts";
import { nanosToSeconds } from "./translate.ts";

export class HostCallError extends Error {}

type Unary<Req, Res> = (req: Req, callback: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(service: string, method: Unary<Req, Res>, self: unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(self, req, (err, res) => {
      if (err) reject(new HostCallError(`${service}: ${err.details || err.message}`));
      else resolve(res);
    });
  });
}

function check(service: string, err: string): void {
  if (err) throw new HostCallError(`${service}: ${err}`);
}

export class HostStorage implements Storage {
  private readonly client: StorageClient;
  constructor(channel: grpc.Channel) {
    this.client = new StorageClient("unused", undefined as unknown as grpc.ChannelCredentials, { channelOverride: channel });
  }
  async list(prefix: string): Promise<string[]> {
    const res = await call<pb.StorageListArgs, pb.StorageListReply>("storage list", this.client.list, this.client, { prefix });
    check("storage list", res.err);
    return res.keys;
  }
  async get(key: string): Promise<StorageEntry | undefined> {
    const res = await call<pb.StorageGetArgs, pb.StorageGetReply>("storage get", this.client.get, this.client, { key });
    check("storage get", res.err);
    if (!res.entry) return undefined;
    return { key: res.entry.key, value: res.entry.value, sealWrap: res.entry.sealWrap };
  }
  async put(entry: StorageEntry): Promise<void> {
    const res = await call<pb.StoragePutArgs, pb.StoragePutReply>("storage put", this.client.put, this.client, {
      entry: { key: entry.key, value: Buffer.from(entry.value), sealWrap: entry.sealWrap ?? false },
    });
    check("storage put", res.err);
  }
  async delete(key: string): Promise<void> {
    const res = await call<pb.StorageDeleteArgs, pb.StorageDeleteReply>("storage delete", this.client.delete, this.client, { key });
    check("storage delete", res.err);
  }
}

export class HostSystemView implements SystemView {
  private readonly client: SystemViewClient;
  constructor(channel: grpc.Channel) {
    this.client = new SystemViewClient("unused", undefined as unknown as grpc.ChannelCredentials, { channelOverride: channel });
  }
  async defaultLeaseTTL(): Promise<number> {
    const res = await call<pb.Empty, pb.TTLReply>("system view", this.client.defaultLeaseTtl, this.client, {});
    return nanosToSeconds(res.TTL);
  }
  async maxLeaseTTL(): Promise<number> {
    const res = await call<pb.Empty, pb.TTLReply>("system view", this.client.maxLeaseTtl, this.client, {});
    return nanosToSeconds(res.TTL);
  }
  async tainted(): Promise<boolean> {
    return (await call<pb.Empty, pb.TaintedReply>("system view", this.client.tainted, this.client, {})).tainted;
  }
  async cachingDisabled(): Promise<boolean> {
    return (await call<pb.Empty, pb.CachingDisabledReply>("system view", this.client.cachingDisabled, this.client, {})).disabled;
  }
  async replicationState(): Promise<number> {
    return (await call<pb.Empty, pb.ReplicationStateReply>("system view", this.client.replicationState, this.client, {})).state;
  }
  async localMount(): Promise<boolean> {
    return (await call<pb.Empty, pb.LocalMountReply>("system view", this.client.localMount, this.client, {})).local;
  }
  async pluginEnv(): Promise<PluginEnvironment> {
    const res = await call<pb.Empty, pb.PluginEnvReply>("system view", this.client.pluginEnv, this.client, {});
    check("system view", res.err);
    const env = res.pluginEnvironment;
    return {
      vaultVersion: env?.vaultVersion ?? "",
      vaultVersionPrerelease: env?.vaultVersionPrerelease ?? "",
      vaultVersionMetadata: env?.vaultVersionMetadata ?? "",
    };
  }
  async entityInfo(entityId: string): Promise<IdentityEntity | undefined> {
    const res = await call<pb.EntityInfoArgs, pb.EntityInfoReply>("system view", this.client.entityInfo, this.client, { entityId });
    check("system view", res.err);
    const e = res.entity;
    if (!e) return undefined;
    return {
      id: e.ID,
      name: e.name,
      metadata: { ...e.metadata },
      disabled: e.disabled,
      namespaceId: e.namespaceId,
      aliases: e.aliases.map((a) => ({ id: a.ID, name: a.name, mountAccessor: a.mountAccessor, mountType: a.mountType, metadata: { ...a.metadata }, customMetadata: { ...a.customMetadata }, namespaceId: a.namespaceId, local: a.local })),
    };
  }
  async groupsForEntity(entityId: string): Promise<IdentityGroup[]> {
    const res = await call<pb.EntityInfoArgs, pb.GroupsForEntityReply>("system view", this.client.groupsForEntity, this.client, { entityId });
    check("system view", res.err);
    return res.groups.map((g) => ({ id: g.ID, name: g.name, metadata: { ...g.metadata }, namespaceId: g.namespaceId }));
  }
}
