// Environment the host hands to the plugin process. OpenBao sets every SDK
// variable twice (BAO_* and VAULT_*) and reads BAO_* first; so do we.
import { readFileSync } from "node:fs";

export const BACKEND_COOKIE_KEY = "VAULT_BACKEND_PLUGIN";
export const BACKEND_COOKIE_VALUE = "6669da05-b1c8-4f49-97d9-c8e5bed98e20";
export const SUPPORTED_PROTOCOL_VERSIONS = [5, 4] as const;

export type Env = Readonly<Record<string, string | undefined>>;

export function readHostVariable(env: Env, suffix: string): string | undefined {
  return env[`BAO_${suffix}`] ?? env[`VAULT_${suffix}`];
}

/**
 * Picks the highest version both sides speak. Version 4 shares version 5's
 * wire protocol for everything this SDK serves; the host only offers it after
 * version 5 failed, together with legacy metadata mode, which we do not serve.
 */
export function negotiateProtocolVersion(offered: string | undefined): number | undefined {
  const versions = (offered ?? "")
    .split(",")
    .map((v) => Number.parseInt(v.trim(), 10))
    .filter((v) => Number.isInteger(v));
  for (const v of SUPPORTED_PROTOCOL_VERSIONS) {
    if (versions.includes(v)) return v;
  }
  return undefined;
}

// go-plugin's variables for where and how the plugin's unix sockets are made.
// The host sets the directory and the group for containerized plugins: the
// directory is a bind mount shared with the host, and the group is one the
// host's process belongs to, so it can connect to a socket the container's
// user created.
export const UNIX_SOCKET_DIR_ENV = "PLUGIN_UNIX_SOCKET_DIR";
export const UNIX_SOCKET_GROUP_ENV = "PLUGIN_UNIX_SOCKET_GROUP";
export const MULTIPLEX_GRPC_ENV = "PLUGIN_MULTIPLEX_GRPC";

/** Go's strconv.ParseBool: undefined for anything it would reject. */
export function parseGoBool(value: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

export interface BrokerMultiplexing {
  /** Whether the handshake line carries the seventh field at all. */
  answer: boolean;
  /** Whether the broker runs over the main connection. */
  enabled: boolean;
}

/**
 * As go-plugin's server: any non-empty value means the host can read a
 * seventh handshake field (older hosts split the line into six and would
 * misread it), and only a value ParseBool takes as true turns multiplexing on.
 */
export function brokerMultiplexing(env: Env): BrokerMultiplexing {
  const value = env[MULTIPLEX_GRPC_ENV] ?? "";
  return { answer: value !== "", enabled: parseGoBool(value) === true };
}

export class SocketGroupError extends Error {}

/**
 * Resolves PLUGIN_UNIX_SOCKET_GROUP as go-plugin does: a decimal gid as it
 * is (Vault passes its own numeric gid), otherwise a group name looked up in
 * the group database. Node has no getgrnam, so the name is looked up in
 * /etc/group, which is where Go's os/user looks without cgo.
 */
export function resolveSocketGroup(group: string, groupFile = "/etc/group", readGroupFile: (path: string) => string = defaultReadFile): number {
  if (/^[+-]?\d+$/.test(group)) {
    const gid = Number.parseInt(group, 10);
    if (!Number.isSafeInteger(gid) || gid < 0) throw new SocketGroupError(`${UNIX_SOCKET_GROUP_ENV}: ${group} is not a valid gid`);
    return gid;
  }
  let content: string;
  try {
    content = readGroupFile(groupFile);
  } catch (err) {
    throw new SocketGroupError(`${UNIX_SOCKET_GROUP_ENV}: cannot look up group ${JSON.stringify(group)}: ${(err as Error).message}`);
  }
  for (const line of content.split("\n")) {
    if (line.startsWith("#")) continue;
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined && /^\d+$/.test(gid.trim())) return Number.parseInt(gid.trim(), 10);
  }
  throw new SocketGroupError(`${UNIX_SOCKET_GROUP_ENV}: unknown group ${JSON.stringify(group)} (not a gid, and not in ${groupFile})`);
}

function defaultReadFile(path: string): string {
  return readFileSync(path, "utf8");
}
