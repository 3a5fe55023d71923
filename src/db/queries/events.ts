/** modem_events: the append-only log every change goes through (see sql/001_schema.sql for seq semantics). */
import type { Sql } from "../client.ts";

export interface EventRow {
  seq: number;
  node_id: string | null;
  modem_id: number | null;
  kind: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

export interface NewEvent {
  nodeId: string | null;
  modemId?: number | null;
  kind: string;
  payload?: Record<string, unknown>;
}

/**
 * Where a subsystem's events go: the app passes its OutageBuffer (kept in order through a PostgreSQL outage);
 * eventSink(sql) writes straight to the table.
 */
export interface EventSink {
  append(ev: NewEvent): Promise<unknown>;
}

export function eventSink(sql: Sql): EventSink {
  return { append: (ev) => appendEvent(sql, ev) };
}

/** Appends one event; returns its sequence number. Use inside a transaction to pair it with a state change. */
export async function appendEvent(sql: Sql, ev: NewEvent): Promise<number> {
  const rows = await sql`
    insert into modem_events (node_id, modem_id, kind, payload)
    values (${ev.nodeId}, ${ev.modemId ?? null}, ${ev.kind}, ${sql.json((ev.payload ?? {}) as never)})
    returning seq`;
  return Number(rows[0]!.seq);
}

/** Appends many events in one statement (a health sweep's batch). */
export async function appendEvents(sql: Sql, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    node_id: e.nodeId, modem_id: e.modemId ?? null, kind: e.kind, payload: e.payload ?? {},
  }));
  await sql`insert into modem_events ${sql(rows as never, "node_id", "modem_id", "kind", "payload")}`;
}

export async function eventsAfter(sql: Sql, afterSeq: number, limit = 1000): Promise<EventRow[]> {
  return (await sql`
    select seq, node_id, modem_id, kind, payload, created_at from modem_events
    where seq > ${afterSeq} order by seq limit ${limit}`) as unknown as EventRow[];
}

export async function lastEventSeq(sql: Sql): Promise<number> {
  const rows = await sql`select seq from event_counter`;
  return Number(rows[0]?.seq ?? 0);
}
