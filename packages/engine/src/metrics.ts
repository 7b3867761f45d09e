// Counters and latency histograms, rendered in the Prometheus text format by
// the privileged "metrics" path.
import type { RequestRecord } from "./providers/http.ts";

const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

type Labels = Record<string, string>;

function key(name: string, labels: Labels): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

export class Metrics {
  private readonly counters = new Map<string, { name: string; help: string; value: number }>();
  private readonly histograms = new Map<string, { name: string; labels: Labels; counts: number[]; sum: number; count: number }>();
  private readonly help = new Map<string, string>();

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.help.set(name, help);
    const k = key(name, labels);
    const c = this.counters.get(k) ?? { name, help, value: 0 };
    c.value += by;
    this.counters.set(k, c);
  }

  observe(name: string, help: string, labels: Labels, valueMs: number): void {
    this.help.set(name, help);
    const k = key(name, labels);
    const h = this.histograms.get(k) ?? { name, labels, counts: BUCKETS_MS.map(() => 0), sum: 0, count: 0 };
    BUCKETS_MS.forEach((b, i) => {
      if (valueMs <= b) h.counts[i]!++;
    });
    h.sum += valueMs / 1000;
    h.count++;
    this.histograms.set(k, h);
  }

  observeProviderRequest(r: RequestRecord): void {
    const labels = { provider: r.provider.toLowerCase(), operation: r.operation, status: String(r.status) };
    this.inc("ai_secrets_provider_requests_total", "Requests sent to AI providers.", labels);
    this.observe("ai_secrets_provider_request_duration_seconds", "Latency of requests to AI providers.", { provider: labels.provider, operation: r.operation }, r.durationMs);
  }

  render(): string {
    const lines: string[] = [];
    const byName = new Map<string, string[]>();
    for (const [k, c] of this.counters) {
      const list = byName.get(c.name) ?? [];
      list.push(`${k} ${c.value}`);
      byName.set(c.name, list);
    }
    for (const [name, list] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${this.help.get(name) ?? ""}`, `# TYPE ${name} counter`, ...list.sort());
    }
    const hist = [...this.histograms.values()].sort((a, b) => key(a.name, a.labels).localeCompare(key(b.name, b.labels)));
    const seen = new Set<string>();
    for (const h of hist) {
      if (!seen.has(h.name)) {
        lines.push(`# HELP ${h.name} ${this.help.get(h.name) ?? ""}`, `# TYPE ${h.name} histogram`);
        seen.add(h.name);
      }
      BUCKETS_MS.forEach((b, i) => lines.push(`${key(`${h.name}_bucket`, { ...h.labels, le: String(b / 1000) })} ${h.counts[i]}`));
      lines.push(`${key(`${h.name}_bucket`, { ...h.labels, le: "+Inf" })} ${h.count}`);
      lines.push(`${key(`${h.name}_sum`, h.labels)} ${h.sum}`);
      lines.push(`${key(`${h.name}_count`, h.labels)} ${h.count}`);
    }
    return lines.join("\n") + "\n";
  }
}
