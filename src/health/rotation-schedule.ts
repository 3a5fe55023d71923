/**
 * Scheduled rotation per modem. A modem's `rotation_schedule` is an interval ("300", "300s", "5m", "every 2h") or a
 * croner expression ("0 *\/30 * * * *", "0 3 * * *"); without one, the setting rotation.interval_s applies (0 =
 * off). Nothing may rotate more often than every 60 s: carriers throttle re-attaches, and a rotation takes 10-40 s.
 *
 * The schedule counts from the modem's last rotation (any trigger: a manual rotation restarts the count), and at
 * the earliest from when this scheduler started, so a control-plane restart does not fire every overdue modem at
 * once. `tick()` is idempotent and cheap (two queries): call it from the jobs engine (job id "rotation.schedule",
 * every 15 s) or let `start()` run it on its own timer.
 */
import { Cron } from "croner";
import type { Sql } from "../db/client.ts";
import { scheduledModems, type RotationTrigger } from "../db/queries/rotations.ts";
import { getSettings } from "../db/queries/settings.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("rotation-schedule");

export const MIN_ROTATION_INTERVAL_MS = 60_000;

export type RotationSchedule =
  | { kind: "interval"; ms: number; text: string }
  | { kind: "cron"; cron: Cron; text: string };

const UNIT_MS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Parses and checks a schedule. Throws ROTATION_SCHEDULE_INVALID with a message fit for a form field. */
export function parseRotationSchedule(text: string): RotationSchedule {
  const t = text.trim();
  const m = /^(?:every\s+)?(\d{1,9})\s*(s|sec|m|min|h)?$/i.exec(t);
  if (m) {
    const ms = Number(m[1]) * UNIT_MS[(m[2] ?? "s").toLowerCase()]!;
    if (ms < MIN_ROTATION_INTERVAL_MS) throw new AppError("ROTATION_SCHEDULE_INVALID", `rotation interval ${t}: at least 60 s`);
    return { kind: "interval", ms, text: t };
  }
  let cron: Cron;
  try {
    cron = new Cron(t, { paused: true });
  } catch (error) {
    throw new AppError("ROTATION_SCHEDULE_INVALID", `rotation schedule ${JSON.stringify(t)}: not an interval ("300s", "5m") nor a cron expression (${(error as Error).message})`);
  }
  const runs = cron.nextRuns(10, new Date());
  if (runs.length === 0) throw new AppError("ROTATION_SCHEDULE_INVALID", `rotation schedule ${JSON.stringify(t)} never fires`);
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]!.getTime() - runs[i - 1]!.getTime() < MIN_ROTATION_INTERVAL_MS) {
      throw new AppError("ROTATION_SCHEDULE_INVALID", `rotation schedule ${JSON.stringify(t)} fires more often than every 60 s`);
    }
  }
  return { kind: "cron", cron, text: t };
}

/** When a schedule fires next after `from`. */
export function nextRotationAt(s: RotationSchedule, from: Date): Date | null {
  return s.kind === "interval" ? new Date(from.getTime() + s.ms) : s.cron.nextRun(from);
}

export interface ScheduleTarget {
  request(modemId: number, req: { trigger: RotationTrigger; requestedBy: string | null }): Promise<{ jobId: string; joined: boolean }>;
  busy(modemId: number): boolean;
}

export interface RotationSchedulerOptions {
  sql: Sql;
  nodeId: string;
  rotation: ScheduleTarget;
  /** Own timer period for start() (default 15 s). */
  everyMs?: number;
  now?: () => number;
}

export class RotationScheduler {
  readonly startedAt: number;
  private timer?: ReturnType<typeof setInterval>;
  private ticking = false;
  private readonly parsed = new Map<string, RotationSchedule | AppError>();

  constructor(private readonly opts: RotationSchedulerOptions) {
    this.startedAt = (opts.now ?? Date.now)();
  }

  /** Requests a rotation for every online modem whose schedule is due. Returns the modem ids it asked for. */
  async tick(now = (this.opts.now ?? Date.now)()): Promise<number[]> {
    if (this.ticking) return [];
    this.ticking = true;
    try {
      const settings = await getSettings(this.opts.sql, this.opts.nodeId);
      const fallback = settings["rotation.interval_s"] > 0 ? `${settings["rotation.interval_s"]}s` : null;
      const asked: number[] = [];
      for (const m of await scheduledModems(this.opts.sql, this.opts.nodeId)) {
        const text = m.rotation_schedule?.trim() || fallback;
        if (!text || (m.state !== "online" && m.state !== "degraded") || this.opts.rotation.busy(m.id)) continue;
        const schedule = this.schedule(text, m.id);
        if (!schedule) continue;
        const base = Math.max(m.last_rotation_at ? new Date(m.last_rotation_at).getTime() : 0, this.startedAt);
        const next = nextRotationAt(schedule, new Date(base));
        if (!next || next.getTime() > now) continue;
        try {
          await this.opts.rotation.request(m.id, { trigger: "schedule", requestedBy: `schedule ${schedule.text}` });
          asked.push(m.id);
        } catch (error) {
          log.warn({ modem: m.id, err: (error as Error).message }, "scheduled rotation not started");
        }
      }
      return asked;
    } finally {
      this.ticking = false;
    }
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.tick().catch((e) => log.warn({ err: (e as Error).message }, "rotation schedule tick failed"));
    }, this.opts.everyMs ?? 15_000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private schedule(text: string, modemId: number): RotationSchedule | null {
    let s = this.parsed.get(text);
    if (!s) {
      try {
        s = parseRotationSchedule(text);
      } catch (error) {
        s = error as AppError;
        log.warn({ modem: modemId, schedule: text, err: s.message }, "invalid rotation schedule ignored");
      }
      this.parsed.set(text, s);
    }
    return s instanceof AppError ? null : s;
  }
}
