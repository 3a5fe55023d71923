/**
 * IP rotation as async jobs with a unique-IP guarantee.
 *
 *   const rotation = new RotationService({ sql, nodeId, modems: manager, events: outage, probePublicIp });
 *   await rotation.start();                                   // closes jobs a crashed process left behind
 *   const { jobId, joined } = await rotation.request(id, { trigger: "api", requestedBy: "alice" });
 *   await rotation.wait(jobId);                               // RotationSummary (this process's jobs)
 *   await rotation.jobStatus(jobId);                          // from the rotations row (any process)
 *   await rotation.stop({ drainMs: 20_000 });
 *
 * request() answers at once: it writes the `queued` rotations row and returns the job id; a second request for a
 * modem whose job is not finished joins that job (same id, joined: true) and starts nothing. The job then runs
 * attempts (rotation-steps.ts) until the modem's new public IP is unique: not its previous IP, not one of its last
 * N (settings rotation.unique_history, default 5), not another modem's current IP. Each retry escalates the method
 * (data → airplane → reboot) up to `maxAttempts`; a last IP that is still not unique ends as COLLISION, an attempt
 * that never got an IP as FAILED. Progress goes to the event stream: rotation.started, rotation.attempt per try,
 * rotation.done; the row moves queued → running → done.
 */
import { randomUUID } from "node:crypto";
import type { Sql } from "../db/client.ts";
import { eventSink, type EventSink, type NewEvent } from "../db/queries/events.ts";
import {
  cancelUnfinishedRotations, findRotationByJob, finishRotation, insertRotation, markRotationRunning, otherPublicIps,
  recentModemIps, type RotationMethod, type RotationResult, type RotationTrigger, type RotationRow,
} from "../db/queries/rotations.ts";
import { savePublicIp } from "../db/queries/data-plane.ts";
import { getSettings } from "../db/queries/settings.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import { isConnectionError, retryDb, withDbTimeout } from "./outage-errors.ts";
import { describeAttempts, isRotationMethod, judgeIp, methodForAttempt, rotationResult, type AttemptOutcome } from "./rotation-policy.ts";
import {
  METHOD_LABEL, holdState, performMethod, readNewIp, waitOnline, type PublicIpProbe, type RotationModems, type StepContext,
} from "./rotation-steps.ts";

const log = childLogger("rotation");

export type { EventSink };

export interface RotationServiceOptions {
  sql: Sql;
  nodeId: string;
  modems: RotationModems;
  events?: EventSink;
  /** Public-IP probe for when the router's probe found none (the app's publicIpProbe). */
  probePublicIp?: PublicIpProbe;
  /** DataPlaneRouter.sync: the proxy port serves the new session before the job reports done. */
  syncDataPlane?: () => Promise<void>;
  /** Airplane hold; default 5000 ms (shorter holds often keep the IP, ec25.md §6). Tests shorten it. */
  airplaneHoldMs?: number;
  /** Attempts per job, escalating the method on each retry (default 3). */
  maxAttempts?: number;
  /** Unique-IP history length; default the setting rotation.unique_history (5). */
  historySize?: number;
  /** How long one attempt may take to bring the modem online again (default 120 s; a reboot takes 20-30 s). */
  onlineTimeoutMs?: number;
  /** Jobs running at once; more wait as `queued` (default 50). */
  maxConcurrent?: number;
  /** How long a job waits for PostgreSQL during an outage before giving up (default 60 s). */
  dbWaitMs?: number;
  refreshMs?: number;
}

export interface RotationRequest {
  /** Default: the modem's rotation_method. */
  method?: RotationMethod | null;
  trigger: RotationTrigger;
  requestedBy: string | null;
}

export interface RotationSummary {
  jobId: string;
  modemId: number;
  result: RotationResult;
  /** The method of the last attempt. */
  method: RotationMethod;
  oldIp: string | null;
  newIp: string | null;
  attempts: AttemptOutcome[];
  durationMs: number;
  error: string | null;
}

/** The job status shape the HTTP layer's ModemActions.job returns. */
export interface RotationJobStatus {
  jobId: string;
  modemId: number;
  action: "rotate";
  status: "queued" | "running" | "done";
  result: string | null;
  detail: Record<string, unknown>;
}

/** States a rotation may start from: the modem carries data. */
const ROTATABLE = new Set(["online", "degraded"]);

interface Job {
  jobId: string;
  modemId: number;
  req: RotationRequest;
  method: RotationMethod;
  oldIp: string | null;
  done: Promise<RotationSummary>;
}

export class RotationService {
  private readonly jobs = new Map<number, Job>();
  private readonly byId = new Map<string, Job>();
  private readonly abort = new AbortController();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private stopping = false;
  private readonly sink: EventSink;

  constructor(private readonly opts: RotationServiceOptions) {
    this.sink = opts.events ?? eventSink(opts.sql);
  }

  /**
   * Boot recovery: rotations a previous process left unfinished are closed as CANCELLED, and modems it left held in
   * `rotating` go back to `searching`, from where the usual path brings them online. Call after the manager started.
   */
  async start(): Promise<void> {
    const { sql, nodeId } = this.opts;
    const stale = await retryDb(() => cancelUnfinishedRotations(sql, nodeId, "the control plane restarted during the rotation"));
    for (const r of stale) {
      await this.event(r.modem_id, "rotation.done", { jobId: r.job_id, result: "CANCELLED", error: "the control plane restarted during the rotation" });
    }
    for (const m of this.opts.modems.list()) {
      if (m.state !== "rotating") continue;
      await holdState(this.context(m.id), "searching", "rotation interrupted by a control-plane restart")
        .catch((e) => log.warn({ modem: m.id, err: (e as Error).message }, "could not release a modem left rotating"));
    }
    if (stale.length) log.warn({ jobs: stale.length }, "closed rotations left unfinished by the previous process");
  }

  /** True while a job of this modem is queued or running (the heal ladder leaves such a modem alone). */
  busy(modemId: number): boolean {
    return this.jobs.has(modemId);
  }

  /** Modem ids with a job queued or running. */
  active(): number[] {
    return [...this.jobs.keys()];
  }

  /**
   * Starts a rotation job, or joins the one this modem already has. Throws MODEM_NOT_FOUND (not this node's),
   * MODEM_OFFLINE (not carrying data), INVALID_ARGUMENT (method), DB_UNAVAILABLE, NOT_AVAILABLE (shutting down).
   */
  async request(modemId: number, req: RotationRequest): Promise<{ jobId: string; joined: boolean }> {
    if (this.stopping) throw new AppError("NOT_AVAILABLE", "the control plane is shutting down");
    const current = this.jobs.get(modemId);
    if (current) return { jobId: current.jobId, joined: true };
    if (req.method != null && !isRotationMethod(req.method)) {
      throw new AppError("INVALID_ARGUMENT", `rotation method ${JSON.stringify(req.method)}: expected data, airplane or reboot`);
    }
    const m = this.opts.modems.get(modemId);
    if (!m) throw new AppError("MODEM_NOT_FOUND", `no modem ${modemId} on node ${this.opts.nodeId}`);
    if (!ROTATABLE.has(m.state)) {
      throw new AppError("MODEM_OFFLINE", `modem ${m.imei} is ${m.state}: only a modem that is online can rotate its IP`);
    }
    // In the map before the first await: a request arriving meanwhile joins this job.
    const job: Job = { jobId: randomUUID(), modemId, req, method: req.method ?? "airplane", oldIp: null, done: Promise.resolve(null as never) };
    this.jobs.set(modemId, job);
    this.byId.set(job.jobId, job);
    try {
      const row = await withDbTimeout(insertRotation(this.opts.sql, {
        jobId: job.jobId, nodeId: this.opts.nodeId, modemId, method: req.method ?? null, trigger: req.trigger, requestedBy: req.requestedBy,
      }), 10_000);
      if (!row) throw new AppError("MODEM_NOT_FOUND", `no modem ${modemId} on node ${this.opts.nodeId}`);
      job.method = row.method;
      job.oldIp = row.old_ip;
    } catch (error) {
      this.forget(job);
      if (isConnectionError(error)) throw new AppError("DB_UNAVAILABLE", "PostgreSQL is unreachable: try again shortly", undefined, { cause: error });
      throw error;
    }
    job.done = this.run(job);
    return { jobId: job.jobId, joined: false };
  }

  /** The outcome of a job of this process (null for an unknown id); resolves when it is done. */
  wait(jobId: string): Promise<RotationSummary> | null {
    return this.byId.get(jobId)?.done ?? null;
  }

  /** Status from the rotations row, for GET /api/v1/jobs/:id. */
  async jobStatus(jobId: string): Promise<RotationJobStatus | null> {
    const row = await findRotationByJob(this.opts.sql, jobId);
    if (!row) return null;
    return { jobId, modemId: row.modem_id, action: "rotate", status: row.status as RotationJobStatus["status"], result: row.result, detail: { ...(row as RotationRow) } };
  }

  /**
   * Graceful stop: refuses new requests, lets running jobs finish for up to `drainMs`, then cancels the rest (radio
   * back on, modem released from `rotating`, row CANCELLED). Call before the modem manager stops.
   */
  async stop({ drainMs = 20_000 } = {}): Promise<void> {
    this.stopping = true;
    const all = Promise.allSettled([...this.jobs.values()].map((j) => j.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), drainMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    log.warn({ jobs: this.jobs.size }, "cancelling rotations still running at shutdown");
    this.abort.abort();
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.race([all, Bun.sleep(15_000)]);
  }

  private forget(job: Job): void {
    if (this.jobs.get(job.modemId) === job) this.jobs.delete(job.modemId);
    // keep byId briefly so a late wait() still finds the outcome
    setTimeout(() => this.byId.delete(job.jobId), 60_000).unref?.();
  }

  private event(modemId: number, kind: string, payload: Record<string, unknown>): Promise<unknown> {
    return this.sink.append({ nodeId: this.opts.nodeId, modemId, kind, payload })
      .catch((e) => log.error({ modemId, kind, err: (e as Error).message }, "rotation event not stored"));
  }

  private context(modemId: number): StepContext {
    const o = this.opts;
    return {
      sql: o.sql, modems: o.modems, modemId, signal: this.abort.signal,
      airplaneHoldMs: o.airplaneHoldMs ?? 5000, onlineTimeoutMs: o.onlineTimeoutMs ?? 120_000, dbWaitMs: o.dbWaitMs ?? 60_000,
      refreshMs: o.refreshMs ?? 1000, probePublicIp: o.probePublicIp, syncDataPlane: o.syncDataPlane,
      event: (kind, payload) => this.event(modemId, kind, { jobId: this.jobs.get(modemId)?.jobId ?? null, ...payload }),
    };
  }

  private async acquire(): Promise<void> {
    const limit = Math.max(1, this.opts.maxConcurrent ?? 50);
    while (this.running >= limit && !this.abort.signal.aborted) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
  }

  private releaseSlot(): void {
    this.running--;
    this.waiting.shift()?.();
  }

  private async run(job: Job): Promise<RotationSummary> {
    const { sql, nodeId } = this.opts;
    const ctx = this.context(job.modemId);
    const maxAttempts = Math.max(1, this.opts.maxAttempts ?? 3);
    const attempts: AttemptOutcome[] = [];
    let error: string | null = null;
    let started = performance.now();
    let acquired = false;
    try {
      await this.acquire();
      acquired = true;
      started = performance.now();
      if (this.abort.signal.aborted) throw new AppError("ROTATION_CANCELLED", "cancelled before it started");
      await retryDb(() => markRotationRunning(sql, job.jobId), { waitMs: ctx.dbWaitMs });
      const size = this.opts.historySize ?? (await retryDb(() => getSettings(sql, nodeId), { waitMs: ctx.dbWaitMs }))["rotation.unique_history"];
      // Read before the first attempt clears the public IP: the current address is the newest of the history.
      const history = await retryDb(() => recentModemIps(sql, job.modemId, size), { waitMs: ctx.dbWaitMs });
      const oldIp = job.oldIp ?? history[0] ?? null;
      job.oldIp = oldIp;
      await this.event(job.modemId, "rotation.started", {
        jobId: job.jobId, method: job.method, trigger: job.req.trigger, requestedBy: job.req.requestedBy, oldIp, history,
      });
      for (let k = 1; k <= maxAttempts; k++) {
        const method = methodForAttempt(job.method, k);
        const outcome = await this.attempt(ctx, job, k, maxAttempts, method, history);
        attempts.push(outcome);
        await this.event(job.modemId, "rotation.attempt", { jobId: job.jobId, ...outcome });
        if (outcome.verdict === "ok" || this.abort.signal.aborted) break;
      }
    } catch (e) {
      error = `${(e as AppError).code ?? "ERROR"}: ${(e as Error).message}`;
      log.warn({ modem: job.modemId, err: error }, "rotation failed");
    } finally {
      if (acquired) this.releaseSlot();
      // Never leave a modem held: from `searching` the usual path brings it back online.
      if (this.opts.modems.get(job.modemId)?.state === "rotating") {
        await holdState({ ...ctx, dbWaitMs: Math.min(ctx.dbWaitMs, 15_000) }, "searching", "rotation ended: waiting for the network")
          .catch((e) => log.error({ modem: job.modemId, err: (e as Error).message }, "could not release a modem from rotating"));
      }
    }
    const cancelled = this.abort.signal.aborted;
    const result = rotationResult(attempts, cancelled);
    const last = attempts[attempts.length - 1];
    const summary: RotationSummary = {
      jobId: job.jobId, modemId: job.modemId, result, method: last?.method ?? job.method, oldIp: job.oldIp,
      newIp: last?.ip ?? null, attempts, durationMs: Math.round(performance.now() - started),
      error: result === "OK" ? null : [describeAttempts(attempts), error].filter(Boolean).join("; ") || null,
    };
    await retryDb(() => finishRotation(sql, {
      jobId: job.jobId, modemId: job.modemId, result, method: summary.method, newIp: summary.newIp, attempts: attempts.length,
      error: summary.error?.slice(0, 1000) ?? null, durationMs: summary.durationMs,
    }), { waitMs: ctx.dbWaitMs }).catch((e) => log.error({ jobId: job.jobId, err: (e as Error).message }, "rotation result not stored"));
    await this.event(job.modemId, "rotation.done", {
      jobId: job.jobId, result, method: summary.method, oldIp: summary.oldIp, newIp: summary.newIp, attempts: attempts.length,
      methods: attempts.map((a) => a.method), durationMs: summary.durationMs, error: summary.error,
    });
    this.forget(job);
    log.info({ modem: job.modemId, result, oldIp: summary.oldIp, newIp: summary.newIp, attempts: attempts.length }, "rotation done");
    return summary;
  }

  private async attempt(ctx: StepContext, job: Job, k: number, max: number, method: RotationMethod, history: string[]): Promise<AttemptOutcome> {
    const t0 = performance.now();
    const out = (o: Partial<AttemptOutcome>): AttemptOutcome => ({
      attempt: k, method, ip: null, verdict: null, error: null, ms: Math.round(performance.now() - t0), ...o,
    });
    try {
      await holdState(ctx, "rotating", `${METHOD_LABEL[method]} for a new IP (attempt ${k} of ${max})`);
      await retryDb(() => savePublicIp(ctx.sql, job.modemId, null), { waitMs: ctx.dbWaitMs, signal: ctx.signal });
      await performMethod(ctx, method);
      await waitOnline(ctx);
      const ip = await readNewIp(ctx);
      const others = await retryDb(() => otherPublicIps(ctx.sql, job.modemId), { waitMs: ctx.dbWaitMs });
      return out({ ip, verdict: judgeIp(ip, { oldIp: job.oldIp, history, others }) });
    } catch (e) {
      const code = (e as AppError).code ?? "ERROR";
      log.warn({ modem: job.modemId, attempt: k, method, err: (e as Error).message }, "rotation attempt failed");
      return out({ error: `${code}: ${(e as Error).message}` });
    }
  }
}
