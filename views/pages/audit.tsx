import { Layout, type PageUser } from "../layout.tsx";
import type { AuditRow } from "../../src/db/queries/audit.ts";
import { ts } from "../components/format.ts";

export function AuditPage(p: { rows: AuditRow[]; action?: string; olderHref?: string; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  return (
    <Layout title="Audit log" user={p.user} nodeId={p.nodeId} banner={p.banner} active="audit">
      <h1>Audit log</h1>
      <form class="filters" method="get" action="/audit">
        <input name="action" placeholder="action prefix, e.g. modem." value={p.action ?? ""} maxlength="64" aria-label="Action" />
        <button type="submit">Filter</button>
      </form>
      <table class="grid dense">
        <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>Result</th><th>IP</th><th>Details</th></tr></thead>
        <tbody>
          {p.rows.map((r) => (
            <tr class={r.result === "ok" ? "" : "row-bad"}>
              <td class="mono" safe>{ts(r.ts)}</td>
              <td safe>{r.actor}</td>
              <td class="mono" safe>{r.action}</td>
              <td class="mono" safe>{r.target ?? "–"}</td>
              <td safe>{r.result}</td>
              <td class="mono" safe>{r.ip ?? "–"}</td>
              <td class="mono small" safe>{JSON.stringify(r.details).slice(0, 300)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.olderHref ? <p><a href={p.olderHref}>Older →</a></p> : ""}
    </Layout>
  );
}
