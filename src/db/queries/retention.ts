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

/**
 * Deletes connection_log rows older than `days` days (rows with ts before now() − days, the boundary fixed when the
 * call starts), in batches. Returns how many rows went. `days` must be a whole number ≥ 1: 0 would empty the table.
 */
export async function deleteOldConnectionLogs(sql: Sql, days: number, opts: RetentionOptions = {}): Promise<number> {
  if (!Number.isInteger(days) || days < 1) {
    throw new AppError("RETENTION_DAYS_INVALID", `retention must be a whole number of days ≥ 1, got ${days}`, { days });
  }
  const batch = opts.batch ?? 10_000;
  if (!Number.isInteger(batch) || batch < 1) throw new AppError("RETENTION_BATCH_INVALID", `batch must be an integer ≥ 1, got ${batch}`, { batch });
  // One cutoff for every batch: rows that age past the limit during a long run are the next run's.
  const cutoff = (await sql`select now() - make_interval(days => ${days}) as t`)[0]!.t as Date;
  const node = opts.nodeId;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 500); i++) {
    const r = await sql`
      delete from connection_log where id in (
        select id from connection_log
        where ts < ${cutoff} and ${node === undefined ? sql`true` : sql`node_id = ${node}`}
        limit ${batch})`;
    total += r.count;
    if (r.count < batch) break;
    if (opts.pauseMs) await Bun.sleep(opts.pauseMs);
  }
  return total;
}
