import { Layout, type PageUser } from "../layout.tsx";
import type { HealthCondition } from "../../src/http/context.ts";
import type { NodeRow } from "../../src/http/queries/misc.ts";
import { ago, bytes, ms, ts } from "../components/format.ts";

export interface SystemInfo {
  version: string;
  commit: string;
  dbHealthy: boolean;
  dbLatencyMs: number | null;
  eventLagMs: number;
  lastSeq: number;
  sseClients: number;
  load: number[];
  cpus: number;
  memTotal: number;
  memFree: number;
  disk: { path: string; total: number; free: number } | null;
  uptimeS: number;
  conditions: HealthCondition[];
}

export function SystemPage(p: { info: SystemInfo; nodes: NodeRow[]; user: PageUser; nodeId: string; banner?: string; now: number }): JSX.Element {
  const i = p.info;
  const db: string = i.dbHealthy ? `reachable${i.dbLatencyMs === null ? "" : `, ${ms(i.dbLatencyMs)}`}` : "UNREACHABLE (read-only)";
  const disk: string = i.disk ? `${bytes(i.disk.total - i.disk.free)} used of ${bytes(i.disk.total)} (${i.disk.path})` : "–";
  return (
    <Layout title="System" user={p.user} nodeId={p.nodeId} banner={p.banner} active="system">
      <h1>System</h1>
      <div class="panels">
        <section class="card">
          <h2>This node</h2>
          <dl>
            <dt>Version</dt><dd class="mono" safe>{`${i.version} (${i.commit})`}</dd>
            <dt>Database</dt><dd safe>{db}</dd>
            <dt>Event lag</dt><dd safe>{`${ms(i.eventLagMs)} (at seq ${i.lastSeq})`}</dd>
            <dt>Live clients</dt><dd safe>{String(i.sseClients)}</dd>
            <dt>Load</dt><dd safe>{`${i.load.map((x) => x.toFixed(2)).join(" ")} on ${i.cpus} CPUs`}</dd>
            <dt>Memory</dt><dd safe>{`${bytes(i.memTotal - i.memFree)} used of ${bytes(i.memTotal)}`}</dd>
            <dt>Disk</dt><dd safe>{disk}</dd>
            <dt>Process uptime</dt><dd safe>{`${Math.round(i.uptimeS / 60)} min`}</dd>
          </dl>
        </section>
        <section class="card">
          <h2>Conditions</h2>
          {i.conditions.length === 0 ? <p class="ok">No conditions reported.</p> : (
            <ul class="conditions">
              {i.conditions.map((c) => (
                <li class={`sev-${c.severity}`}><b class="mono" safe>{c.code}</b> <span safe>{c.text}</span> {c.since ? <span class="muted" safe>{`since ${ts(c.since)}`}</span> : ""}</li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <h2>Nodes</h2>
      <table class="grid dense" id="nodes">
        <thead><tr><th>Node</th><th>Host</th><th>Version</th><th>Modems</th><th>Started</th><th>Last heartbeat</th></tr></thead>
        <tbody>
          {p.nodes.map((n) => (
            <tr class={p.now - new Date(n.last_heartbeat).getTime() > 60_000 ? "row-bad" : ""}>
              <td><a href={`/?node=${encodeURIComponent(n.id)}`} safe>{n.id}</a></td>
              <td safe>{n.hostname}</td>
              <td class="mono" safe>{n.version}</td>
              <td class="num" safe>{String(n.modems)}</td>
              <td class="mono" safe>{ts(n.started_at)}</td>
              <td safe>{ago(n.last_heartbeat, p.now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
