// Lease TTL arithmetic, as the Go SDK's framework.CalculateTTL: the requested
// increment (or the backend's TTL, or the mount's default) is capped by the
// tightest maximum and by what is left of the lease's maximum life.
import type { SystemView } from "../logical/types.ts";
import { formatDuration } from "./duration.ts";

export interface TtlInput {
  system: SystemView;
  /** Seconds asked for (a renew's increment, or a request's ttl); 0 for the default. */
  increment: number;
  /** The backend's own TTL for this kind of secret, in seconds (0: none). */
  backendTtl: number;
  /** The backend's own maximum, in seconds (0: none). */
  backendMaxTtl: number;
  /** When the lease was first issued; the maximum life counts from here. */
  startTime?: Date;
  now?: Date;
}

export interface TtlResult {
  ttl: number;
  maxTtl: number;
  warnings: string[];
}

export async function calculateTtl(input: TtlInput): Promise<TtlResult> {
  const warnings: string[] = [];
  const now = input.now ?? new Date();
  const start = input.startTime ?? now;
  let maxTtl = await input.system.maxLeaseTTL();
  if (input.backendMaxTtl > 0 && (maxTtl === 0 || input.backendMaxTtl < maxTtl)) maxTtl = input.backendMaxTtl;

  let ttl = input.increment;
  if (ttl <= 0) ttl = input.backendTtl > 0 ? input.backendTtl : await input.system.defaultLeaseTTL();

  if (maxTtl > 0) {
    const remaining = Math.floor((start.getTime() + maxTtl * 1000 - now.getTime()) / 1000);
    if (ttl > remaining) {
      warnings.push(
        `TTL of "${formatDuration(ttl)}" exceeded the effective max_ttl of "${formatDuration(Math.max(remaining, 0))}"; TTL value is capped accordingly`,
      );
      ttl = Math.max(remaining, 0);
    }
  }
  return { ttl, maxTtl, warnings };
}
