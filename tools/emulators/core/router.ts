// Method + path routing with ":name" segments. Patterns double as the route
// names in the request log, so counters group "/keys/:hash" rather than every
// distinct hash.

export type RouteLookup<H> =
  | { kind: "match"; handler: H; params: Record<string, string>; pattern: string }
  | { kind: "method-not-allowed" }
  | { kind: "none" };

interface Route<H> {
  method: string;
  pattern: string;
  segments: string[];
  handler: H;
}

export class Router<H> {
  readonly #routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.#routes.push({ method: method.toUpperCase(), pattern, segments: splitPath(pattern), handler });
    return this;
  }

  lookup(method: string, path: string): RouteLookup<H> {
    const segments = splitPath(path);
    let pathMatched = false;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      pathMatched = true;
      if (route.method === method.toUpperCase()) return { kind: "match", handler: route.handler, params, pattern: route.pattern };
    }
    return pathMatched ? { kind: "method-not-allowed" } : { kind: "none" };
  }
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? "";
    const a = actual[i] ?? "";
    if (p.startsWith(":")) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(a);
      } catch {
        return undefined;
      }
      params[p.slice(1)] = decoded;
    } else if (p !== a) {
      return undefined;
    }
  }
  return params;
}
