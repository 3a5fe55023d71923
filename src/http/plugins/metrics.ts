/**
 * GET /metrics (Prometheus text format; bearer metrics token or an allow-listed address, see guard.ts) and the
 * collectors this layer owns: per-modem gauges from the modems table, rotations and open alerts from the DB,
 * event-stream lag, SSE clients, build info and process metrics. Other subsystems register their own metrics in
 * the same registry (ctx.metrics) from app.ts.
 */
import { Elysia } from "elysia";
import { readdirSync, readFileSync } from "node:fs";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import type { MetricFamily, Sample } from "../metrics-registry.ts";
import { rotationsByResult } from "../../db/queries/rotations.ts";
import { countActiveAlerts } from "../../db/queries/alerts.ts";
import { VERSION, COMMIT } from "../../version.ts";

const STATES = ["detected", "identifying", "searching", "registered", "connecting", "online", "degraded", "healing", "rotating", "offline", "unplugged", "failed", "disabled"];

interface ModemMetricRow {
  id: number;
  node_id: string;
  slot: string | null;
  imei: string;
  state: string;
  csq: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinr_raw: number | null;
  temperature: number | null;
  rtt_ms: number | null;
  bytes_tx: number;
  bytes_rx: number;
  public_ip_changes: number;
}

function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: "gauge", samples };
}

async function modemFamilies(env: HttpEnv): Promise<MetricFamily[]> {
  const rows = (await env.ctx.sql`
    select m.id, m.node_id, m.slot, m.imei, m.state, m.csq, m.rsrp, m.rsrq, m.sinr_raw, m.temperature, m.rtt_ms,
           m.bytes_tx, m.bytes_rx,
           (select count(*)::int from rotations r where r.modem_id = m.id and r.result = 'OK' and r.new_ip is distinct from r.old_ip) as public_ip_changes
    from modems m order by m.id`) as unknown as ModemMetricRow[];
  const lbl = (m: ModemMetricRow) => ({ node: m.node_id, modem: String(m.id), slot: m.slot ?? "", imei: m.imei });
  const opt = (f: (m: ModemMetricRow) => number | null) => rows.flatMap((m) => (f(m) === null ? [] : [{ labels: lbl(m), value: f(m)! }]));
  return [
    gauge("lteproxy_modem_up", "1 when the modem is online (data path up), else 0", rows.map((m) => ({ labels: lbl(m), value: m.state === "online" ? 1 : 0 }))),
    gauge("lteproxy_modem_state", "Modem state as a state set: 1 for the current state", rows.flatMap((m) => STATES.map((s) => ({ labels: { ...lbl(m), state: s }, value: m.state === s ? 1 : 0 })))),
    gauge("lteproxy_modem_csq", "AT+CSQ signal quality (0-31; 99 unknown is omitted)", opt((m) => (m.csq === null || m.csq === 99 ? null : m.csq))),
    gauge("lteproxy_modem_rsrp_dbm", "LTE RSRP in dBm", opt((m) => m.rsrp)),
    gauge("lteproxy_modem_rsrq_db", "LTE RSRQ in dB", opt((m) => m.rsrq)),
    gauge("lteproxy_modem_sinr_db", "LTE SINR in dB (firmware scale applied)", opt((m) => env.render.sinr(m.sinr_raw))),
    gauge("lteproxy_modem_temperature_celsius", "Modem temperature", opt((m) => m.temperature)),
    gauge("lteproxy_modem_rtt_seconds", "Data-path round-trip time of the last health probe", opt((m) => (m.rtt_ms === null ? null : m.rtt_ms / 1000))),
    { name: "lteproxy_modem_transmit_bytes_total", help: "Bytes sent by the modem (modem counter)", type: "counter", samples: rows.map((m) => ({ labels: lbl(m), value: m.bytes_tx })) },
    { name: "lteproxy_modem_receive_bytes_total", help: "Bytes received by the modem (modem counter)", type: "counter", samples: rows.map((m) => ({ labels: lbl(m), value: m.bytes_rx })) },
    { name: "lteproxy_modem_public_ip_changes_total", help: "Rotations that changed the public IP", type: "counter", samples: rows.map((m) => ({ labels: lbl(m), value: m.public_ip_changes })) },
  ];
}

async function dbFamilies(env: HttpEnv): Promise<MetricFamily[]> {
  const [rot, alerts] = await Promise.all([rotationsByResult(env.ctx.sql), countActiveAlerts(env.ctx.sql)]);
  return [
    { name: "lteproxy_rotations_total", help: "Finished IP rotations by result", type: "counter", samples: rot.map((r) => ({ labels: { node: r.node_id, result: r.result }, value: r.n })) },
    gauge("lteproxy_alerts_open", "Unresolved alerts by severity", alerts.map((a) => ({ labels: { node: a.node_id, severity: a.severity, acknowledged: String(a.acknowledged) }, value: a.n }))),
  ];
}

function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

function maxFds(): number | null {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const startTime = Date.now() / 1000 - process.uptime();

function processFamilies(): MetricFamily[] {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const fds = openFds();
  const max = maxFds();
  return [
    { name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds", type: "counter", samples: [{ value: (cpu.user + cpu.system) / 1e6 }] },
    gauge("process_resident_memory_bytes", "Resident memory size in bytes", [{ value: mem.rss }]),
    gauge("process_heap_bytes", "JavaScript heap in use in bytes", [{ value: mem.heapUsed }]),
    gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds", [{ value: Math.round(startTime) }]),
    ...(fds === null ? [] : [gauge("process_open_fds", "Number of open file descriptors", [{ value: fds }])]),
    ...(max === null ? [] : [gauge("process_max_fds", "Maximum number of open file descriptors", [{ value: max }])]),
  ];
}

/** Registers this layer's collectors in env.metrics (called once by createHttpApp). */
export function registerHttpMetrics(env: HttpEnv): void {
  const m = env.metrics;
  m.collect(() => [
    gauge("lteproxy_build_info", "Version and commit of this lteproxy", [{ labels: { version: VERSION, commit: COMMIT }, value: 1 }]),
    gauge("lteproxy_database_up", "1 while PostgreSQL is reachable", [{ value: env.ctx.db.healthy() ? 1 : 0 }]),
    gauge("lteproxy_event_lag_seconds", "Commit-to-delivery lag of the last event from the event stream", [{ value: env.ctx.events.lastLagMs / 1000 }]),
    gauge("lteproxy_event_last_seq", "Last event sequence delivered by the event stream", [{ value: env.ctx.events.lastSeq }]),
    { name: "lteproxy_events_delivered_total", help: "Events delivered by the event stream", type: "counter", samples: [{ value: env.ctx.events.delivered }] },
    gauge("lteproxy_sse_clients", "Connected SSE clients", [{ value: env.broker.getStats().clients }]),
  ]);
  m.collect(processFamilies);
  m.collect(() => modemFamilies(env));
  m.collect(() => dbFamilies(env));
}

export function metricsPlugin(env: HttpEnv) {
  return new Elysia({ name: "metrics" }).get("/metrics", async () => {
    return new Response(await env.metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
  }, access("metrics", "Prometheus metrics"));
}
