// The values a username template computes with, modelled on the Go values
// text/template sees when Vault renders a map[string]interface{} of strings.
// Strings are byte strings (see go-bytes.ts); ints are Go ints (int64).

export type Value =
  | { readonly kind: "string"; readonly s: string }
  | { readonly kind: "int"; readonly n: bigint }
  | { readonly kind: "float"; readonly f: number }
  | { readonly kind: "bool"; readonly b: boolean }
  /** The data: a map[string]interface{} whose values are strings. */
  | { readonly kind: "map"; readonly m: ReadonlyMap<string, string> }
  /** A nil interface{} (what a missing value becomes when passed as `any`). */
  | { readonly kind: "nil" }
  /** No value at all: the result of looking up a missing map key. */
  | { readonly kind: "invalid"; readonly field?: string };

export const INVALID: Value = { kind: "invalid" };
export const NIL: Value = { kind: "nil" };

export function str(s: string): Value {
  return { kind: "string", s };
}

export function int(n: bigint): Value {
  return { kind: "int", n };
}

/** The Go type name of a value, as fmt's %T prints it. */
export function goTypeName(v: Value): string {
  switch (v.kind) {
    case "string":
      return "string";
    case "int":
      return "int";
    case "float":
      return "float64";
    case "bool":
      return "bool";
    case "map":
      return "map[string]interface {}";
    case "nil":
      return "<nil>";
    case "invalid":
      return "<invalid>";
  }
}
