import { Layout, type PageUser } from "../layout.tsx";
import type { AlertRow } from "../../src/db/queries/alerts.ts";
import { ago, ts } from "../components/format.ts";

const STATES = ["active", "open", "acknowledged", "resolved", "all"];

export function AlertRowView({ a, canAct }: { a: AlertRow; canAct: boolean }): JSX.Element {
  const state = a.resolved_at ? "resolved" : a.acknowledged_at ? "acknowledged" : "open";
  return (
    <tr id={`alert-${a.id}`} class={`sev-${a.severity} alert-${state}`}>
      <td class="mono" safe>{ts(a.opened_at)}</td>
      <td>{a.severity}</td>
      <td safe>{a.kind}</td>
      <td>{a.modem_id ? <a href={`/modems/${a.modem_id}`} safe>{a.slot ?? `#${a.modem_id}`}</a> : <span safe>{a.hub ?? a.scope}</span>}</td>
      <td safe>{a.message}</td>
      <td class="num" safe>{String(a.occurrences)}</td>
      <td safe>{`${state}${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ""}`}</td>
      <td safe>{ago(a.last_seen_at)}</td>
      <td class="row-actions">
        {canAct && state === "open" ? <button hx-post={`/alerts/${a.id}/ack`} hx-target={`#alert-${a.id}`} hx-swap="outerHTML">Acknowledge</button> : ""}
        {canAct && state !== "resolved" ? <button hx-post={`/alerts/${a.id}/resolve`} hx-target={`#alert-${a.id}`} hx-swap="outerHTML" hx-confirm="Resolve this alert?">Resolve</button> : ""}
      </td>
    </tr>
  );
}

export function AlertsPage(p: { rows: AlertRow[]; state: string; canAct: boolean; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Alerts" user={p.user} nodeId={p.nodeId} banner={p.banner} active="alerts">
      <h1>Alerts</h1>
      <nav class="tabs">
        {STATES.map((s) => <a href={`/alerts?state=${s}`} class={s === p.state ? "active" : ""} safe>{s}</a>)}
      </nav>
      <table class="grid dense" id="alerts">
        <thead><tr><th>Opened</th><th>Severity</th><th>Kind</th><th>Target</th><th>Message</th><th>Count</th><th>State</th><th>Last seen</th><th></th></tr></thead>
        <tbody>
          {p.rows.length === 0 ? <tr><td colspan="9" class="muted">No alerts.</td></tr> : p.rows.map((a) => <AlertRowView a={a} canAct={p.canAct} />)}
        </tbody>
      </table>
    </Layout>
  );
}
