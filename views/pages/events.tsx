import { Layout, type PageUser } from "../layout.tsx";
import type { EventRow } from "../../src/db/queries/events.ts";
import { EventTableRow } from "../partials/event-row.tsx";

export interface EventsFilterView {
  kind?: string;
  node?: string;
  modem?: number;
}

export function eventsSseUrl(after: number, f: EventsFilterView): string {
  const q = new URLSearchParams({ after: String(after) });
  if (f.kind) q.set("kind", f.kind);
  if (f.node) q.set("node", f.node);
  if (f.modem) q.set("modem", String(f.modem));
  return `/sse/events?${q}`;
}

export function EventsPage(p: { rows: EventRow[]; filter: EventsFilterView; afterSeq: number; live: boolean; nodes: string[]; olderHref?: string; user: PageUser; nodeId: string; banner?: string }): JSX.Element {
  const f = p.filter;
  return (
    <Layout title="Events" user={p.user} nodeId={p.nodeId} banner={p.banner} active="events" keepalive>
      <h1>Events</h1>
      <form class="filters" method="get" action="/events">
        <input name="kind" placeholder="kind prefix, e.g. modem." value={f.kind ?? ""} maxlength="64" aria-label="Kind" />
        <input name="modem" type="number" min="1" placeholder="modem id" value={f.modem ? String(f.modem) : ""} aria-label="Modem id" />
        {p.nodes.length > 1 ? (
          <select name="node" aria-label="Node"><option value="">all nodes</option>{p.nodes.map((n) => <option value={n} selected={f.node === n} safe>{n}</option>)}</select>
        ) : ""}
        <button type="submit">Filter</button>
      </form>
      <table class="grid dense">
        <thead><tr><th>Seq</th><th>Time</th><th>Node</th><th>Modem</th><th>Kind</th><th>Details</th></tr></thead>
        <tbody id="events-body">{p.rows.map((e) => <EventTableRow e={e} />)}</tbody>
      </table>
      {p.olderHref ? <p><a href={p.olderHref}>Older →</a></p> : ""}
      {p.live ? <div id="live" class="live" hx-sse:connect={eventsSseUrl(p.afterSeq, f)} hx-swap="none"><span class="dot"></span> live</div> : ""}
    </Layout>
  );
}
