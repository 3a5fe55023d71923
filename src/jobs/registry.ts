/**
 * The named jobs of the control plane (PocketBase-style cron jobs): every job has a stable id, is registered here,
 * scheduled with croner, listed with its last run (job_runs: start, duration, result) and runnable on demand from
 * the panel (JobsView). Interval jobs read their interval from a function at every run, so a setting changed in
 * the panel reschedules them within one run; setInterval() does it at once.
 *
 * A job never overlaps itself: a run requested while one is going joins it (scheduled ticks meanwhile are skipped).
 * A failing job is recorded (result ERROR + message) and runs again at its next tick.
 */
import { Cron } from "croner";
import type { Sql } from "../db/client.ts";
import { closeAbandonedJobRuns, finishJobRun, lastJobRunsByJob, startJobRun, type JobRunRecord } from "../db/queries/job-runs.ts";
import type { Actor, JobInfo, JobsView } from "../http/context.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("jobs");

export interface JobContext {
  trigger: "schedule" | "manual";
  /** Who asked (manual runs). */
  actor?: string;
}

export interface JobSpec {
  /** Stable id: "health.sweep". Lower-case words with dots, dashes or underscores. */
  id: string;
  description: string;
  /** Run every N seconds (read at start and after every run), or ... */
  everySeconds?: () => number | Promise<number>;
  /** ... a croner pattern with seconds ("0 17 * * * *"). */
  cron?: string;
  /** Returns a short result text ("30 modems, 0 failed"); throws on failure. */
  run(ctx: JobContext): Promise<string | void>;
}

interface Job {
  spec: JobSpec;
  cron: Cron | null;
  intervalS: number | null;
  running: Promise<void> | null;
  last: JobRunRecord | null;
}

const JOB_ID = /^[a-z][a-z0-9_.-]{0,63}$/;

export interface JobRegistryOptions {
  sql: Sql;
  nodeId: string;
}

export class JobRegistry implements JobsView {
  private readonly jobs = new Map<string, Job>();
  private started = false;
  private stopped = false;

  constructor(private readonly opts: JobRegistryOptions) {}

  /** Registers a job (before or after start). Throws JOB_DUPLICATE / JOB_BAD_SPEC. */
  register(spec: JobSpec): void {
    if (!JOB_ID.test(spec.id)) throw new AppError("JOB_BAD_SPEC", `bad job id ${JSON.stringify(spec.id)}`);
    if (this.jobs.has(spec.id)) throw new AppError("JOB_DUPLICATE", `job ${spec.id} is registered already`);
    if (!spec.everySeconds === !spec.cron) throw new AppError("JOB_BAD_SPEC", `job ${spec.id} needs exactly one of everySeconds and cron`);
    if (spec.cron) {
      try {
        new Cron(spec.cron, { paused: true }).stop();
      } catch (e) {
        throw new AppError("JOB_BAD_SPEC", `job ${spec.id}: bad cron pattern ${JSON.stringify(spec.cron)}: ${(e as Error).message}`);
      }
    }
    const job: Job = { spec, cron: null, intervalS: null, running: null, last: null };
    this.jobs.set(spec.id, job);
    if (this.started) void this.schedule(job);
  }

  /** Loads the last runs, closes runs a dead process left open, schedules every job. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      await closeAbandonedJobRuns(this.opts.sql, this.opts.nodeId);
      const last = await lastJobRunsByJob(this.opts.sql, this.opts.nodeId);
      for (const [id, job] of this.jobs) job.last = last.get(id) ?? null;
    } catch (e) {
      log.warn({ err: String(e) }, "could not read past job runs");
    }
    await Promise.all([...this.jobs.values()].map((j) => this.schedule(j)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const j of this.jobs.values()) {
      j.cron?.stop();
      j.cron = null;
    }
    await Promise.allSettled([...this.jobs.values()].map((j) => j.running));
  }

  /**
   * Changes an interval job's period now (seconds ≥ 1), e.g. right after the setting was saved. The job's
   * everySeconds() stays the source: it is read again after the next run.
   */
  async setInterval(id: string, seconds: number): Promise<void> {
    const job = this.get(id);
    if (!job.spec.everySeconds) throw new AppError("JOB_BAD_SPEC", `job ${id} is a cron job`);
    if (!(Number.isFinite(seconds) && seconds >= 1)) throw new AppError("JOB_BAD_SPEC", `interval must be ≥ 1 s, got ${seconds}`);
    if (!this.started) {
      job.intervalS = seconds;
      return;
    }
    this.arm(job, seconds);
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({
      id: j.spec.id,
      description: j.spec.description,
      schedule: j.spec.cron ?? (j.intervalS === null ? "–" : `every ${j.intervalS} s`),
      nextRunAt: this.stopped ? null : (j.cron?.nextRun() ?? null),
      running: j.running !== null,
      lastRun: j.last ? { startedAt: j.last.startedAt, durationMs: j.last.durationMs, result: j.last.result, error: j.last.error } : null,
    }));
  }

  /** Runs a job now and waits for it (joins a running one). Throws JOB_NOT_FOUND. */
  async runNow(id: string, actor?: Actor): Promise<void> {
    await this.execute(this.get(id), { trigger: "manual", actor: actor?.username });
  }

  private get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new AppError("JOB_NOT_FOUND", `no job ${JSON.stringify(id)}`);
    return job;
  }

  private async schedule(job: Job): Promise<void> {
    if (this.stopped) return;
    if (job.spec.cron) {
      job.cron = new Cron(job.spec.cron, { protect: true }, () => void this.execute(job, { trigger: "schedule" }));
      return;
    }
    this.arm(job, await this.intervalOf(job));
  }

  private async intervalOf(job: Job): Promise<number> {
    try {
      const s = Math.round(await job.spec.everySeconds!());
      return Number.isFinite(s) && s >= 1 ? s : (job.intervalS ?? 60);
    } catch (e) {
      log.warn({ job: job.spec.id, err: String(e) }, "could not read the job's interval; keeping the current one");
      return job.intervalS ?? 60;
    }
  }

  /** (Re)creates the croner schedule of an interval job; a no-op when the interval is unchanged. */
  private arm(job: Job, seconds: number): void {
    if (this.stopped || (job.cron && job.intervalS === seconds)) return;
    job.cron?.stop();
    job.intervalS = seconds;
    // croner's `interval` is the minimum gap between runs; the every-second pattern makes it the period.
    job.cron = new Cron("* * * * * *", { interval: seconds, protect: true }, () => void this.execute(job, { trigger: "schedule" }));
    log.info({ job: job.spec.id, seconds }, "job scheduled");
  }

  private execute(job: Job, ctx: JobContext): Promise<void> {
    if (job.running) return job.running;
    job.running = this.runOnce(job, ctx).finally(() => {
      job.running = null;
    });
    return job.running;
  }

  private async runOnce(job: Job, ctx: JobContext): Promise<void> {
    const startedAt = new Date();
    const t0 = performance.now();
    const runId = await startJobRun(this.opts.sql, this.opts.nodeId, job.spec.id).catch(() => null);
    let result = "OK";
    let error: string | null = null;
    try {
      result = (await job.spec.run(ctx)) || "OK";
    } catch (e) {
      result = "ERROR";
      error = e instanceof Error ? e.message : String(e);
      log.warn({ job: job.spec.id, err: error }, "job failed");
    }
    const durationMs = performance.now() - t0;
    job.last = { jobId: job.spec.id, startedAt, finishedAt: new Date(), durationMs: Math.round(durationMs), result, error };
    if (runId !== null) await finishJobRun(this.opts.sql, runId, { durationMs, result, error }).catch((e) => log.warn({ err: String(e) }, "job run not stored"));
    // Runs on demand before start() (tests, one-off CLI runs) schedule nothing.
    if (job.spec.everySeconds && this.started && !this.stopped) this.arm(job, await this.intervalOf(job));
  }
}
