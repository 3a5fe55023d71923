import { Layout, type PageUser } from "../layout.tsx";
import type { RotationRow, RotationStats } from "../../src/db/queries/rotations.ts";
import { ms, ts } from "../components/format.ts";

export interface RotationsFilter {
  modem?: number;
  result?: string;
  trigger?: string;
  hours?: number;
  node?: string;
}

const RESULTS = ["", "OK", "SAME_IP", "COLLISION", "FAILED", "CANCELLED"];
const TRIGGERS = ["", "manual", "api", "link", "schedule", "heal"];
const WINDOWS: Array<[number, string]> = [[1, "1 h"], [24, "24 h"], [168, "7 days"], [720, "30 days"]];

function pct(x: number | null): string {
  return x === null ? "–" : `${Math.round(x * 1000) / 10} %`;
}

export function RotationsPage(p: {
  rows: RotationRow[];
  stats: RotationStats;
  filter: RotationsFilter;
  nodes: string[];
  user: PageUser;
  nodeId: string;
  banner?: string;
  olderHref?: string;
}): JSX.Element {
  const f = p.filter;
  return (
    <Layout title="Rotations" user={p.user} nodeId={p.nodeId} banner={p.banner} active="rotations">
      <h1>Rotations</h1>
      <form class="filters" method="get" action="/rotations">
        <input name="modem" type="number" min="1" placeholder="modem id" value={f.modem ? String(f.modem) : ""} aria-label="Modem id" />
        <select name="result" aria-label="Result">{RESULTS.map((r) => <option value={r} selected={(f.result ?? "") === r} safe>{r || "any result"}</option>)}</select>
        <select name="trigger" aria-label="Trigger">{TRIGGERS.map((r) => <option value={r} selected={(f.trigger ?? "") === r} safe>{r || "any trigger"}</option>)}</select>
        <select name="hours" aria-label="Period">{WINDOWS.map(([h, l]) => <option value={String(h)} selected={(f.hours ?? 24) === h} safe>{l}</option>)}</select>
        {p.nodes.length > 1 ? (
          <select name="node" aria-label="Node"><option value="">all nodes</option>{p.nodes.map((n) => <option value={n} selected={f.node === n} safe>{n}</option>)}</select>
        ) : ""}
        <button type="submit">Filter</button>
      </form>
      <div class="stats" id="rotation-stats">
        <div><b safe>{String(p.stats.total)}</b> rotations</div>
        <div><b safe>{String(p.stats.ok)}</b> OK</div>
        <div class="c-failed"><b safe>{String(p.stats.collisions)}</b> collisions</div>
        <div class="c-failed"><b safe>{String(p.stats.failed)}</b> failed</div>
        <div title="distinct new IPs / rotations that produced an IP"><b safe>{pct(p.stats.uniqueRate)}</b> unique-IP rate</div>
        <div><b safe>{ms(p.stats.avgDurationMs)}</b> average</div>
      </div>
      <div class="table-wrap">
        <table class="grid dense">
          <thead><tr><th>Started</th><th>Modem</th><th>Method</th><th>Trigger</th><th>By</th><th>Status</th><th>Result</th><th>Old IP</th><th>New IP</th><th>Attempts</th><th>Duration</th></tr></thead>
          <tbody>
            {p.rows.length === 0 ? <tr><td colspan="11" class="muted">No rotations in this period.</td></tr> : p.rows.map((r) => (
              <tr class={r.result && r.result !== "OK" ? "row-bad" : ""}>
                <td class="mono" safe>{ts(r.started_at)}</td>
                <td><a href={`/modems/${r.modem_id}`} safe>{r.slot ?? `#${r.modem_id}`}</a></td>
                <td safe>{r.method}</td>
                <td safe>{r.trigger}</td>
                <td safe>{r.requested_by ?? "–"}</td>
                <td safe>{r.status}</td>
                <td safe>{r.result ?? "–"}</td>
                <td class="mono" safe>{r.old_ip ?? "–"}</td>
                <td class="mono" safe>{r.new_ip ?? "–"}</td>
                <td class="num" safe>{String(r.attempts)}</td>
                <td class="num" safe>{ms(r.duration_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {p.olderHref ? <p><a href={p.olderHref}>Older →</a></p> : ""}
    </Layout>
  );
}
