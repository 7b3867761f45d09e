// What an emulated provider hands the shared server: its routes, the error
// bodies it documents, and its resettable state and settings.
import type { Clock } from "./clock.ts";
import type { EmulatorRequest, EmulatorResponse, Handler } from "./http.ts";
import type { Router } from "./router.ts";

export interface ErrorContext {
  method: string;
  path: string;
  /** Set when the server computed a retry delay (rate limits, injected 429s). */
  retryAfterSeconds?: number;
}

export interface ProviderSpec {
  readonly name: string;
  readonly routes: Router<Handler>;
  /** Routes under /__emulator/<name>/ for seeding provider state. */
  readonly controlRoutes?: Router<Handler>;
  /** Treat "/keys/" like "/keys" (OpenRouter's own examples POST to "/keys/"). */
  readonly ignoreTrailingSlash?: boolean;
  /** The body and headers this provider documents for an error status. */
  errorResponse(status: number, ctx: ErrorContext): EmulatorResponse;
  /** The provider's answer to a path it does not serve (or a method it does not allow there). */
  unknownRoute(req: EmulatorRequest, methodNotAllowed: boolean): EmulatorResponse;
  /** The provider's answer to a body that is not JSON, or too large to read. */
  invalidBody(req: EmulatorRequest, reason: "invalid-json" | "too-large"): EmulatorResponse;
  /** Headers every real response carries, such as a request id. */
  decorate?(res: EmulatorResponse, req: EmulatorRequest): EmulatorResponse;
  /** A JSON-safe view of the provider's state; key values appear redacted only. */
  state(): unknown;
  /** Back to the seeded state and the initial settings. */
  reset(): void;
  settings(): object;
  /** Throws SettingsError for unknown keys or bad values. */
  updateSettings(patch: Record<string, unknown>): void;
}

export type ProviderFactory = (clock: Clock) => ProviderSpec;

export class SettingsError extends Error {
  override name = "SettingsError";
}

/** Validates a settings patch key by key against per-key parsers. */
export function applySettings<T extends object>(
  target: T,
  patch: Record<string, unknown>,
  parsers: { [K in keyof T]?: (value: unknown) => T[K] },
): void {
  const updates: Partial<T> = {};
  for (const [key, value] of Object.entries(patch)) {
    const parse = (parsers as Record<string, ((v: unknown) => unknown) | undefined>)[key];
    if (parse === undefined) throw new SettingsError(`unknown setting "${key}"`);
    (updates as Record<string, unknown>)[key] = parse(value);
  }
  Object.assign(target, updates);
}

export function numberSetting(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: unknown) => number {
  return (v) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new SettingsError(`${name} must be a number between ${min} and ${max}`);
    return v;
  };
}

export function enumSetting<const V extends string>(name: string, values: readonly V[]): (v: unknown) => V {
  return (v) => {
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) throw new SettingsError(`${name} must be one of ${values.join(", ")}`);
    return v as V;
  };
}

export function choiceSetting<const V extends number | string>(name: string, values: readonly V[]): (v: unknown) => V {
  return (v) => {
    if (!(values as readonly unknown[]).includes(v)) throw new SettingsError(`${name} must be one of ${values.join(", ")}`);
    return v as V;
  };
}

export function booleanSetting(name: string): (v: unknown) => boolean {
  return (v) => {
    if (typeof v !== "boolean") throw new SettingsError(`${name} must be a boolean`);
    return v;
  };
}

export function stringListSetting(name: string): (v: unknown) => string[] {
  return (v) => {
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string" && s !== "")) throw new SettingsError(`${name} must be a list of non-empty strings`);
    return [...v] as string[];
  };
}
