/**
 * job_runs: one row per run of a named job (src/jobs/registry.ts). A run is inserted when it starts (finished_at
 * null = running, or the process died during it) and completed with its duration and result when it ends.
 */
import type { Sql } from "../client.ts";

export interface JobRunRecord {
  jobId: string;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  result: string | null;
  error: string | null;
}

/** Records the start of a run; returns the row id that finishJobRun completes. */
export async function startJobRun(sql: Sql, nodeId: string, jobId: string): Promise<number> {
  const rows = await sql`insert into job_runs (node_id, job_id) values (${nodeId}, ${jobId}) returning id`;
  return Number(rows[0]!.id);
}

export async function finishJobRun(sql: Sql, runId: number, r: { durationMs: number; result: string; error?: string | null }): Promise<void> {
  await sql`
    update job_runs set finished_at = now(), duration_ms = ${Math.round(r.durationMs)}, result = ${r.result.slice(0, 500)},
      error = ${r.error ? r.error.slice(0, 2000) : null}
    where id = ${runId}`;
}

/** The latest run of every job of a node, by job id. */
export async function lastJobRunsByJob(sql: Sql, nodeId: string): Promise<Map<string, JobRunRecord>> {
  const rows = await sql`
    select distinct on (job_id) job_id, started_at, finished_at, duration_ms, result, error
    from job_runs where node_id = ${nodeId} order by job_id, started_at desc, id desc`;
  return new Map(rows.map((r) => [String(r.job_id), {
    jobId: String(r.job_id), startedAt: r.started_at as Date, finishedAt: (r.finished_at as Date | null) ?? null,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms), result: (r.result as string | null) ?? null,
    error: (r.error as string | null) ?? null,
  }]));
}

/** Runs left "running" by a process that died: closed so the panel does not show them running forever. */
export async function closeAbandonedJobRuns(sql: Sql, nodeId: string): Promise<number> {
  const rows = await sql`
    update job_runs set finished_at = now(), result = 'ABANDONED', error = 'the process ended during the run'
    where node_id = ${nodeId} and finished_at is null returning id`;
  return rows.length;
}

/** Deletes runs older than `days` (the retention job keeps the table to a few days of 30 s sweeps). */
export async function pruneJobRuns(sql: Sql, nodeId: string, days: number): Promise<number> {
  const r = await sql`delete from job_runs where node_id = ${nodeId} and started_at < now() - make_interval(days => ${days})`;
  return r.count;
}
