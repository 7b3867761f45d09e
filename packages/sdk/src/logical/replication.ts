// The server's replication state, as the Go SDK's consts.ReplicationState
// bit flags. Only the flag plugins act on is named here.
import type { SystemView } from "./types.ts";

/**
 * Set on a standby that serves reads: OpenBao's standbys on integrated
 * storage (unless disable_standby_reads), Vault Enterprise's performance
 * standbys. Its storage is read-only and may lag the active node's.
 */
export const REPLICATION_PERFORMANCE_STANDBY = 1 << 14;

export async function isPerformanceStandby(system: SystemView): Promise<boolean> {
  return ((await system.replicationState()) & REPLICATION_PERFORMANCE_STANDBY) !== 0;
}
