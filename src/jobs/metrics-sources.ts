/**
 * Scrape-time metrics from the subsystems that keep their own counters: the AT engines (per command verb) and the
 * data plane (per port, from the engine's stats socket). Registered in the panel's MetricsRegistry by app.ts.
 */
import type { MetricFamily, MetricsRegistry, Sample } from "../http/metrics-registry.ts";
import type { ModemManager } from "../modem/manager.ts";
import type { AtMetricsSnapshot } from "../modem/at/metrics.ts";
import type { ProxySupervisor } from "../proxy/supervisor/types.ts";
import type { EngineStats } from "../proxy/engine/stats.ts";

function family(name: string, help: string, type: MetricFamily["type"], samples: Sample[]): MetricFamily {
  return { name, help, type, samples };
}

/** AT command counts, errors, timeouts and latency histograms by command verb, summed over this node's modems. */
export function atFamilies(manager: ModemManager): MetricFamily[] {
  const byVerb = new Map<string, { count: number; errors: number; timeouts: number; buckets: number[]; bounds: readonly number[]; inf: number; sumMs: number }>();
  for (const snap of Object.values(manager.metrics()) as AtMetricsSnapshot[]) {
    for (const [verb, m] of Object.entries(snap.commands ?? {})) {
      const acc = byVerb.get(verb) ?? { count: 0, errors: 0, timeouts: 0, buckets: m.latency.bucketsMs.map(() => 0), bounds: m.latency.bucketsMs, inf: 0, sumMs: 0 };
      acc.count += m.count;
      acc.errors += m.errors;
      acc.timeouts += m.timeouts;
      m.latency.counts.forEach((c, i) => (acc.buckets[i]! += c));
      acc.inf += m.latency.infCount;
      acc.sumMs += m.latency.sumMs;
      byVerb.set(verb, acc);
    }
  }
  const counts: Sample[] = [];
  const errors: Sample[] = [];
  const timeouts: Sample[] = [];
  const latency: Sample[] = [];
  for (const [verb, a] of byVerb) {
    const labels = { command: verb };
    counts.push({ labels, value: a.count });
    errors.push({ labels, value: a.errors });
    timeouts.push({ labels, value: a.timeouts });
    // AtMetrics buckets are already cumulative (`le`) and infCount is the number of timed commands; ms → seconds.
    a.bounds.forEach((ms, i) => {
      latency.push({ suffix: "_bucket", labels: { ...labels, le: String(ms / 1000) }, value: a.buckets[i]! });
    });
    latency.push({ suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: a.inf });
    latency.push({ suffix: "_sum", labels, value: a.sumMs / 1000 });
    latency.push({ suffix: "_count", labels, value: a.inf });
  }
  return [
    family("lteproxy_at_commands_total", "AT commands sent, by command verb", "counter", counts),
    family("lteproxy_at_command_errors_total", "AT commands that ended in an error result, by command verb", "counter", errors),
    family("lteproxy_at_command_timeouts_total", "AT commands that timed out, by command verb", "counter", timeouts),
    family("lteproxy_at_command_duration_seconds", "AT command latency, by command verb", "histogram", latency),
  ];
}

/** Per-port traffic, connections, auth failures and refusals from the data plane; nothing when it is unreachable. */
export async function proxyFamilies(supervisor: ProxySupervisor): Promise<MetricFamily[]> {
  const stats = (await supervisor.stats()) as EngineStats | null;
  const up = [{ value: stats ? 1 : 0 }];
  const fams: MetricFamily[] = [family("lteproxy_dataplane_up", "1 when the proxy data plane answers on its stats socket", "gauge", up)];
  if (!stats) return fams;
  const per = (pick: (p: EngineStats["ports"][number]) => number): Sample[] =>
    stats.ports.map((p) => ({ labels: { imei: p.id, port: p.port }, value: pick(p) }));
  const refusals: Sample[] = [];
  for (const p of stats.ports) {
    for (const [reason, n] of Object.entries((p.refusals ?? {}) as Record<string, number>)) {
      refusals.push({ labels: { imei: p.id, port: p.port, reason }, value: n });
    }
  }
  fams.push(
    family("lteproxy_proxy_received_bytes_total", "Bytes from clients (upload), per port", "counter", per((p) => p.bytesUp)),
    family("lteproxy_proxy_sent_bytes_total", "Bytes to clients (download), per port", "counter", per((p) => p.bytesDown)),
    family("lteproxy_proxy_connections_total", "Client connections accepted, per port", "counter", per((p) => p.connections)),
    family("lteproxy_proxy_active_connections", "Open client connections, per port", "gauge", per((p) => p.active)),
    family("lteproxy_proxy_auth_failures_total", "Failed proxy authentications, per port", "counter", per((p) => p.authFailures)),
    family("lteproxy_proxy_refusals_total", "Requests refused, per port and reason", "counter", refusals),
  );
  return fams;
}
