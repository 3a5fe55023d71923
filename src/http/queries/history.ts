/** Time series and timelines for the modem page: health samples (signal plots) and the modem's events. */
import type { Sql } from "../../db/client.ts";
import type { EventRow } from "../../db/queries/events.ts";

export interface SamplePoint {
  ts: Date;
  ok: boolean;
  rsrp: number | null;
  sinr_raw: number | null;
  rtt_ms: number | null;
}

/**
 * Samples of the last `hours`, thinned to at most ~`maxPoints` by time buckets (avg per bucket), so a 24 h plot of
 * 30 s samples (2,880 points) stays a small SVG.
 */
export async function healthHistory(sql: Sql, modemId: number, opts: { hours?: number; maxPoints?: number } = {}): Promise<SamplePoint[]> {
  const hours = opts.hours ?? 24;
  const bucketS = Math.max(1, Math.ceil((hours * 3600) / (opts.maxPoints ?? 288)));
  return (await sql`
    select to_timestamp(floor(extract(epoch from ts) / ${bucketS}) * ${bucketS}) as ts,
           bool_and(ok) as ok, round(avg(rsrp))::int as rsrp, round(avg(sinr_raw))::int as sinr_raw,
           avg(rtt_ms)::float8 as rtt_ms
    from health_samples
    where modem_id = ${modemId} and ts > now() - make_interval(hours => ${hours})
    group by 1 order by 1`) as unknown as SamplePoint[];
}

export interface EventFilter {
  afterSeq?: number;
  beforeSeq?: number;
  modemId?: number;
  nodeId?: string | null;
  /** Prefix match: "modem." matches modem.state and modem.updated. */
  kind?: string;
  limit?: number;
  /** Oldest first (paging forward) instead of newest first. */
  ascending?: boolean;
}

export async function listEvents(sql: Sql, f: EventFilter = {}): Promise<EventRow[]> {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const kind = f.kind ? `${f.kind.replace(/[\\%_]/g, (c) => "\\" + c)}%` : null;
  return (await sql`
    select seq, node_id, modem_id, kind, payload, created_at from modem_events
    where ${f.afterSeq !== undefined ? sql`seq > ${f.afterSeq}` : sql`true`}
      and ${f.beforeSeq !== undefined ? sql`seq < ${f.beforeSeq}` : sql`true`}
      and ${f.modemId ? sql`(modem_id = ${f.modemId} or payload->'modemIds' @> ${sql.json([f.modemId] as never)})` : sql`true`}
      and ${f.nodeId ? sql`node_id = ${f.nodeId}` : sql`true`}
      and ${kind ? sql`kind like ${kind}` : sql`true`}
    order by seq ${f.ascending ? sql`asc` : sql`desc`} limit ${limit}`) as unknown as EventRow[];
}

/** Events of one job (payload.jobId), oldest first. */
export async function jobEvents(sql: Sql, jobId: string): Promise<EventRow[]> {
  return (await sql`
    select seq, node_id, modem_id, kind, payload, created_at from modem_events
    where payload ? 'jobId' and payload->>'jobId' = ${jobId} order by seq limit 200`) as unknown as EventRow[];
}
