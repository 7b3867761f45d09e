// Secret types: what a lease holds, and how it is renewed and revoked. The
// type's name goes into the lease's internal data as "secret_type", as the Go
// SDK does, so renew and revoke find their handler (and leases issued by a Go
// build of the same plugin stay revocable).
import type { JsonObject, Request, Response } from "../logical/types.ts";

export const SECRET_TYPE_KEY = "secret_type";

export interface SecretContext<B = unknown> {
  request: Request;
  /** What the issuing handler stored in the lease, without secret_type. */
  internal: JsonObject;
  backend: B;
}

export interface SecretType<B = unknown> {
  type: string;
  /** Default TTL in seconds when the issuer sets none (0: the mount's default). */
  defaultTtl?: number;
  renew?: (ctx: SecretContext<B>) => Promise<Response | undefined> | Response | undefined;
  revoke: (ctx: SecretContext<B>) => Promise<Response | undefined | void> | Response | undefined | void;
}

export interface IssueOptions {
  /** Seconds; 0 or absent for the type's or the mount's default. */
  ttl?: number;
  /** Seconds; 0 or absent for the mount's maximum. */
  maxTtl?: number;
  renewable?: boolean;
  warnings?: string[];
}

/** Builds the response that creates a lease of this secret type. */
export function secretResponse(
  type: SecretType<never> | SecretType<unknown>,
  data: JsonObject,
  internal: JsonObject,
  options: IssueOptions = {},
): Response {
  return {
    data,
    warnings: options.warnings ?? [],
    secret: {
      internalData: { ...internal, [SECRET_TYPE_KEY]: type.type },
      leaseOptions: {
        ttl: options.ttl ?? type.defaultTtl ?? 0,
        maxTtl: options.maxTtl ?? 0,
        renewable: options.renewable ?? type.renew !== undefined,
        issueTime: new Date(),
      },
    },
  };
}
