/**
 * Log retention: connection_log gets one row per proxied connection (100 modems × busy clients is millions of rows a
 * week), so old rows go in bounded batches: each batch is a short transaction of its own, the ingest keeps writing
 * between them and no statement ever holds its locks for long. The health samples have their own
 * (deleteOldSamples in health.ts); the age limit here is the panel's `retention.logs_days`.
 */
import type { Sql } from "../client.ts";
import { AppError } from "../../lib/errors.ts";

export interface RetentionOptions {
  /** Only this node's rows (each node prunes its own under its own setting); all nodes when omitted. */
  nodeId?: string;
  /** Rows per delete statement (default 10 000: well under a second on the BRIN-indexed ts). */
  batch?: number;
  /** Stop after this many batches, the rest waits for the next run (default 500: 5 M rows). */
  maxBatches?: number;
  /** Pause between batches so the ingest and autovacuum get their turn (default 0). */
  pauseMs?: number;
}

function checkDays(days: number): void {
  if (!Number.isInteger(days) || days < 1) {
    throw new AppError("RETENTION_DAYS_INVALID", `retention must be a whole number of days ≥ 1, got ${days}`, { days });
  }
}

async function cutoffFor(sql: Sql, days: number): Promise<Date> {
  checkDays(days);
  // One cutoff for every batch: rows that age past the limit during a long run are the next run's.
  return (await sql`select now() - make_interval(days => ${days}) as t`)[0]!.t as Date;
}

/** Deletes `batch` rows of `table` at a time whose key the `pick` subquery returns, until a batch comes up short. */
async function deleteInBatches(sql: Sql, table: "connection_log" | "audit_log" | "security_events" | "modem_events", key: "id" | "seq",
  pick: (limit: number) => ReturnType<Sql>, opts: RetentionOptions): Promise<number> {
  const batch = opts.batch ?? 10_000;
  if (!Number.isInteger(batch) || batch < 1) throw new AppError("RETENTION_BATCH_INVALID", `batch must be an integer ≥ 1, got ${batch}`, { batch });
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 500); i++) {
    const r = await sql`delete from ${sql(table)} where ${sql(key)} in (${pick(batch)})`;
    total += r.count;
    if (r.count < batch) break;
    if (opts.pauseMs) await Bun.sleep(opts.pauseMs);
  }
  return total;
}

/**
 * Deletes connection_log rows older than `days` days (rows with ts before now() − days, the boundary fixed when the
 * call starts), in batches. Returns how many rows went. `days` must be a whole number ≥ 1: 0 would empty the table.
 */
export async function deleteOldConnectionLogs(sql: Sql, days: number, opts: RetentionOptions = {}): Promise<number> {
  const cutoff = await cutoffFor(sql, days);
  const node = opts.nodeId;
  return deleteInBatches(sql, "connection_log", "id", (limit) => sql`
    select id from connection_log where ts < ${cutoff} and ${node === undefined ? sql`true` : sql`node_id = ${node}`} limit ${limit}`, opts);
}

/**
 * Deletes the event log's oldest entries: every event up to the last one created before the cutoff, oldest first.
 * Always a prefix of the sequence (of every node: the sequence is shared), so what stays is still gapless and a
 * replay from any kept sequence is complete.
 */
export async function deleteOldEvents(sql: Sql, days: number, opts: Omit<RetentionOptions, "nodeId"> = {}): Promise<number> {
  const cutoff = await cutoffFor(sql, days);
  const [row] = await sql`select max(seq) as seq from modem_events where created_at < ${cutoff}`;
  const last = row?.seq === null || row?.seq === undefined ? null : Number(row.seq);
  if (last === null) return 0;
  return deleteInBatches(sql, "modem_events", "seq", (limit) => sql`
    select seq from modem_events where seq <= ${last} order by seq limit ${limit}`, opts);
}

/** Deletes audit_log (this node's, when nodeId is given) and security_events rows older than `days` days. */
export async function deleteOldAudit(sql: Sql, days: number, opts: RetentionOptions = {}): Promise<{ audit: number; security: number }> {
  const cutoff = await cutoffFor(sql, days);
  const node = opts.nodeId;
  const audit = await deleteInBatches(sql, "audit_log", "id", (limit) => sql`
    select id from audit_log where ts < ${cutoff} and ${node === undefined ? sql`true` : sql`node_id = ${node}`} limit ${limit}`, opts);
  const security = await deleteInBatches(sql, "security_events", "id", (limit) => sql`
    select id from security_events where ts < ${cutoff} limit ${limit}`, opts);
  return { audit, security };
}
