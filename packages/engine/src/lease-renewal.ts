// The TTL of a renewed lease, the same for every provider: the increment
// asked for, within the role's max_ttl as it was when the key was issued
// (kept in the lease) and what is left of the lease's maximum life.
import { calculateTtl, type JsonObject, type Request } from "@vault-plugin-ai/sdk";
import type { EngineBackend } from "./state.ts";
import { readRole } from "./storage.ts";

export interface Renewal {
  roleName: string;
  ttl: number;
  maxTtl: number;
  warnings: string[];
}

export async function renewalTtl(backend: EngineBackend, request: Request, internal: JsonObject): Promise<Renewal> {
  const roleName = typeof internal["role"] === "string" ? internal["role"] : "";
  const role = roleName ? await readRole(request.storage, roleName) : undefined;
  const lease = request.secret!.leaseOptions;
  // The lease's own record wins, but only as whole seconds: anything else did not come from us.
  const recorded = internal["max_ttl"];
  const maxTtl = typeof recorded === "number" && Number.isSafeInteger(recorded) && recorded >= 0 ? recorded : (role?.max_ttl ?? 0);
  const { ttl, warnings } = await calculateTtl({ system: backend.system, increment: lease.increment, backendTtl: role?.ttl ?? lease.ttl, backendMaxTtl: maxTtl, startTime: lease.issueTime });
  return { roleName, ttl, maxTtl, warnings };
}
