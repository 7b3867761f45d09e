// A request's fields, validated up front and coerced on access, as the Go
// SDK's framework.FieldData.
import type { JsonObject } from "../logical/types.ts";
import { LogicalError } from "../logical/errors.ts";
import { coerceField, type FieldSchema, type FieldValue, zeroValue } from "./fields.ts";

export type FieldSchemas = Record<string, FieldSchema>;

/**
 * The schema declared for a name. Own keys only: request data is JSON, so
 * "constructor" or "__proto__" is a key like any other, never a field.
 */
export function declaredField(schema: FieldSchemas, name: string): FieldSchema | undefined {
  return Object.hasOwn(schema, name) ? schema[name] : undefined;
}

export class FieldData {
  readonly raw: JsonObject;
  readonly schema: FieldSchemas;

  constructor(raw: JsonObject, schema: FieldSchemas) {
    this.raw = raw;
    this.schema = schema;
  }

  /** Coerces every supplied field once, so a bad value fails before the handler runs. */
  validate(): void {
    for (const [name, value] of Object.entries(this.raw)) {
      const schema = declaredField(this.schema, name);
      if (!schema || value === undefined) continue;
      const coerced = coerceField(name, schema, value);
      if (schema.allowedValues && !schema.allowedValues.includes(coerced)) {
        throw new LogicalError(
          "invalid-request",
          `field "${name}" must be one of ${schema.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`,
        );
      }
    }
  }

  /** Names of supplied fields the path does not declare. */
  unknownFields(): string[] {
    return Object.keys(this.raw).filter((k) => !declaredField(this.schema, k)).sort();
  }

  requireFields(names: Iterable<string>): void {
    for (const name of names) {
      if (!this.has(name)) throw new LogicalError("invalid-request", `missing required field "${name}"`);
    }
  }

  /** Whether the request supplied the field (a null counts as absent). */
  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  /** The coerced value, else the declared default, else Go's zero value for the type. */
  get<T extends FieldValue = FieldValue>(name: string): T {
    const schema = declaredField(this.schema, name);
    if (!schema) throw new Error(`field "${name}" is not declared on this path`);
    if (this.has(name)) return coerceField(name, schema, this.raw[name]) as T;
    if (schema.default !== undefined) return coerceField(name, schema, schema.default) as T;
    return zeroValue(schema.type) as T;
  }

  /** The coerced value only when supplied. */
  getOk<T extends FieldValue = FieldValue>(name: string): T | undefined {
    return this.has(name) ? this.get<T>(name) : undefined;
  }

  string(name: string): string {
    return this.get<string>(name);
  }
  number(name: string): number {
    const v = this.get<number | bigint>(name);
    return typeof v === "bigint" ? Number(v) : v;
  }
  boolean(name: string): boolean {
    return this.get<boolean>(name);
  }
  strings(name: string): string[] {
    return this.get<string[]>(name);
  }
  map<T = unknown>(name: string): Record<string, T> {
    return this.get<Record<string, unknown>>(name) as Record<string, T>;
  }
}
