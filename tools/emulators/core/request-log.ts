// What the emulator was asked and what it answered: method, path (with key
// material redacted), route, status, timing and the fault that fired. Never
// headers, query values or bodies: those carry keys. Counters survive the
// bounded ring buffer, so totals stay right in long benchmarks.

export type RequestOutcome = "pending" | "response" | "dropped" | "aborted";

export interface RequestLogEntry {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** The route pattern that handled it, e.g. "/v1/organization/projects/:project_id"; null when no route matched. */
  route: string | null;
  /** Status sent, or null when none was (dropped, aborted, still pending). */
  status: number | null;
  outcome: RequestOutcome;
  /** The fault action type that fired for this request, if any. */
  fault: string | null;
  /** Unix epoch milliseconds (real time) when the request arrived. */
  readonly startedAt: number;
  durationMs: number | null;
}

export interface RequestStats {
  total: number;
  inFlight: number;
  byStatus: Record<string, number>;
  byRoute: Record<string, number>;
  byOutcome: Record<string, number>;
  faultsFired: number;
  /** Most requests that arrived within any window of windowMs (over the retained log). */
  peakRate: { windowMs: number; requests: number };
  /** Most requests in flight at once since the last clear. */
  peakConcurrency: number;
  firstAt: number | null;
  lastAt: number | null;
}

const DEFAULT_CAPACITY = 100_000;

export class RequestLog {
  readonly #capacity: number;
  #entries: RequestLogEntry[] = [];
  #seq = 0;
  #inFlight = 0;
  #peakConcurrency = 0;
  #total = 0;
  #faultsFired = 0;
  #byStatus = new Map<string, number>();
  #byRoute = new Map<string, number>();
  #byOutcome = new Map<string, number>();

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  start(method: string, path: string): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: ++this.#seq,
      method,
      path,
      route: null,
      status: null,
      outcome: "pending",
      fault: null,
      startedAt: Date.now(),
      durationMs: null,
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) this.#entries.splice(0, this.#entries.length - this.#capacity);
    this.#total++;
    this.#inFlight++;
    if (this.#inFlight > this.#peakConcurrency) this.#peakConcurrency = this.#inFlight;
    return entry;
  }

  finish(entry: RequestLogEntry, outcome: Exclude<RequestOutcome, "pending">, status: number | null): void {
    if (entry.outcome !== "pending") return;
    entry.outcome = outcome;
    entry.status = status;
    entry.durationMs = Date.now() - entry.startedAt;
    this.#inFlight--;
    bump(this.#byOutcome, outcome);
    if (status !== null) bump(this.#byStatus, String(status));
    bump(this.#byRoute, `${entry.method} ${entry.route ?? entry.path}`);
    if (entry.fault !== null) this.#faultsFired++;
  }

  entries(options: { since?: number; limit?: number } = {}): RequestLogEntry[] {
    const since = options.since ?? 0;
    const limit = Math.max(0, Math.min(options.limit ?? this.#capacity, this.#capacity));
    const out: RequestLogEntry[] = [];
    for (const e of this.#entries) {
      if (e.seq <= since) continue;
      out.push({ ...e });
      if (out.length >= limit) break;
    }
    return out;
  }

  stats(windowMs = 1000): RequestStats {
    const window = Number.isFinite(windowMs) && windowMs > 0 ? windowMs : 1000;
    // Two pointers over arrival times, which are already in order.
    let peak = 0;
    let lo = 0;
    for (let hi = 0; hi < this.#entries.length; hi++) {
      const t = this.#entries[hi]?.startedAt ?? 0;
      while (lo < hi && (this.#entries[lo]?.startedAt ?? 0) <= t - window) lo++;
      peak = Math.max(peak, hi - lo + 1);
    }
    return {
      total: this.#total,
      inFlight: this.#inFlight,
      byStatus: Object.fromEntries(this.#byStatus),
      byRoute: Object.fromEntries(this.#byRoute),
      byOutcome: Object.fromEntries(this.#byOutcome),
      faultsFired: this.#faultsFired,
      peakRate: { windowMs: window, requests: peak },
      peakConcurrency: this.#peakConcurrency,
      firstAt: this.#entries[0]?.startedAt ?? null,
      lastAt: this.#entries[this.#entries.length - 1]?.startedAt ?? null,
    };
  }

  clear(): void {
    // Requests still in flight keep counting towards concurrency.
    this.#entries = this.#entries.filter((e) => e.outcome === "pending");
    this.#total = this.#entries.length;
    this.#peakConcurrency = this.#inFlight;
    this.#faultsFired = 0;
    this.#byStatus.clear();
    this.#byRoute.clear();
    this.#byOutcome.clear();
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
