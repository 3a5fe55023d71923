/**
 * Catch-up for an SSE client that (re)connects after `from` (Last-Event-ID, or the sequence the page was rendered
 * at). Dashboard and modem streams send the *current* state of whatever changed since, in one message whose id is
 * the highest sequence covered; the events stream resends the missed events themselves (the last `max`).
 */
import type { Sql } from "../../db/client.ts";
import type { EventRow } from "../../db/queries/events.ts";
import { dashboardRows, modemCounters, modemDetail } from "../queries/modem-rows.ts";
import { listEvents } from "../queries/history.ts";
import type { SseClient, FrameMeta } from "../sse-broker.ts";
import { modemIdsOf } from "./live-feeds.ts";
import { renderDashboardMessage, renderEventRowMessage, renderModemMessage, renderRow, type RenderOptions } from "./render.ts";

/** A valid Last-Event-ID (our ids are sequence numbers), else null. */
export function parseLastEventId(value: string | null): number | null {
  if (value === null || !/^[0-9]{1,15}$/.test(value.trim())) return null;
  return Number(value.trim());
}

const DASHBOARD_SCAN = 5000;

/** Returns the highest sequence the replay covered (live frames at or below it are then skipped). */
export async function replayDashboard(sql: Sql, client: SseClient, from: number, node: string | null, o: RenderOptions): Promise<number> {
  const rows = await sql`
    select seq, modem_id, payload->'modemIds' as modem_ids from modem_events
    where seq > ${from} order by seq limit ${DASHBOARD_SCAN}`;
  if (!rows.length) return from;
  const maxSeq = Number(rows[rows.length - 1]!.seq);
  let ids: number[] | undefined;
  if (rows.length < DASHBOARD_SCAN) {
    const set = new Set<number>();
    for (const r of rows) for (const id of modemIdsOf({ modem_id: r.modem_id as number | null, payload: { modemIds: r.modem_ids } })) set.add(id);
    if (!set.size) return maxSeq;
    ids = [...set];
  }
  // Too many missed events: resend every row of the scope (cheaper than working out which changed).
  const changed = await dashboardRows(sql, { ids, nodeId: node });
  const counters = await modemCounters(sql, node);
  const now = Date.now();
  client.send(renderDashboardMessage(changed.map((r) => ({ id: r.id, html: renderRow(r, o, now) })), counters, node, maxSeq));
  return maxSeq;
}

export async function replayModem(sql: Sql, client: SseClient, from: number, modemId: number, o: RenderOptions): Promise<number> {
  const events = (await listEvents(sql, { modemId, afterSeq: from, limit: 100 })).reverse();
  if (!events.length) return from;
  const m = await modemDetail(sql, { id: modemId });
  const maxSeq = events[events.length - 1]!.seq;
  if (m) client.send(renderModemMessage(m, events, maxSeq, o));
  return maxSeq;
}

export interface EventsFilter {
  kind?: string;
  node?: string;
  modemId?: number;
}

export function eventMatches(f: EventsFilter, meta: FrameMeta | undefined): boolean {
  if (!meta) return false;
  if (f.kind && !meta.kind?.startsWith(f.kind)) return false;
  if (f.node && meta.nodeId !== f.node) return false;
  if (f.modemId && !meta.modemIds?.includes(f.modemId)) return false;
  return true;
}

export async function replayEvents(sql: Sql, client: SseClient, from: number, f: EventsFilter, max = 500): Promise<number> {
  const events: EventRow[] = (await listEvents(sql, { afterSeq: from, kind: f.kind, nodeId: f.node, modemId: f.modemId, limit: max })).reverse();
  for (const e of events) client.send(renderEventRowMessage(e));
  return events.length ? events[events.length - 1]!.seq : from;
}
