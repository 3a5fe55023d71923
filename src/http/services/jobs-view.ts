/** Jobs for the panel: the app's JobsView when attached, else the last runs recorded in job_runs. */
import type { HttpEnv } from "../env.ts";
import type { Actor, JobInfo } from "../context.ts";
import { notAvailable, notFound } from "../errors.ts";
import { lastJobRuns } from "../queries/misc.ts";
import { writeAudit } from "../../db/queries/audit.ts";

export async function listJobs(env: HttpEnv): Promise<{ jobs: JobInfo[]; live: boolean }> {
  if (env.ctx.jobs) return { jobs: await env.ctx.jobs.list(), live: true };
  const runs = await lastJobRuns(env.ctx.sql, env.ctx.nodeId);
  return {
    live: false,
    jobs: runs.map((r) => ({
      id: r.job_id,
      description: `${r.runs} run(s) recorded`,
      schedule: "–",
      nextRunAt: null,
      running: r.finished_at === null,
      lastRun: { startedAt: r.started_at, durationMs: r.duration_ms, result: r.result, error: r.error },
    })),
  };
}

export async function runJobNow(env: HttpEnv, actor: Actor, id: string): Promise<JobInfo> {
  const jobs = env.ctx.jobs;
  if (!jobs) throw notAvailable("the job scheduler");
  const known = (await jobs.list()).find((j) => j.id === id);
  if (!known) throw notFound("job");
  await jobs.runNow(id, actor);
  await writeAudit(env.ctx.sql, { nodeId: env.ctx.nodeId, userId: actor.userId, actor: actor.username, action: "job.run", target: `job:${id}`, ip: actor.ip });
  return (await jobs.list()).find((j) => j.id === id) ?? known;
}
