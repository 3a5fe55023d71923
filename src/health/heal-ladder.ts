/**
 * The auto-heal ladder of one node: per modem, an escalation data → airplane → reboot → usb-reset (heal-steps.ts),
 * each step tried `attemptsPerStep` times with backoff, then `failed` (alert a human) and a circuit breaker that
 * holds further ladders off until its cool-down ends (breaker.ts).
 *
 * While a ladder runs the modem is `healing` (a held state: status polls leave it alone; the data-plane router keeps
 * the session and routes but the proxy port refuses with the state as reason). A recovered modem is `online` again
 * through the normal path (registered → router → online), on the port its row keeps. Every attempt is a
 * `heal.step` row in modem_events ({step, attempt, reason, result, detail, durationMs}), framed by `heal.started` and
 * `heal.done`. One ladder per modem: a second request joins the running one.
 */
import type { Sql } from "../db/client.ts";
import { eventSink, type EventSink } from "../db/queries/events.ts";
import { backoffMs, systemClock, type Clock } from "../lib/clock.ts";
import { childLogger } from "../lib/logger.ts";
import { Breakers, DEFAULT_BREAKER, type BreakerOptions } from "./breaker.ts";
import { HEAL_STEPS, STEP_ACTIONS, type HealModems, type HealStep, type StepContext } from "./heal-steps.ts";
import { sleepUnlessAborted } from "./abortable-sleep.ts";

const log = childLogger("heal");

export interface LadderOptions {
  steps: readonly HealStep[];
  /** Tries of each step before the next one (default 2). */
  attemptsPerStep: number;
  /** Backoff between attempts: full jitter, doubling per attempt of the ladder (default 2 s … 60 s). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Radio-off time of the airplane step: ≥ 5 s by default (ec25.md §6); tests shorten it. */
  airplaneHoldMs: number;
  /** AT+CFUN answer limit (ec25.md §3.7: 15 s). */
  atTimeoutMs: number;
  /** authorized=0 time of the USB reset (default 1 s). */
  usbHoldMs: number;
  /** How long after a step the modem may take to be online and verified, per step. */
  settleMs: Record<HealStep, number>;
  breaker: BreakerOptions;
}

export const DEFAULT_LADDER: LadderOptions = {
  steps: HEAL_STEPS,
  attemptsPerStep: 2,
  backoffBaseMs: 2_000,
  backoffCapMs: 60_000,
  airplaneHoldMs: 5_000,
  atTimeoutMs: 15_000,
  usbHoldMs: 1_000,
  // data: call setup 2–10 s; airplane: + re-registration 2–15 s; reboot: back after 15–30 s, registered + data
  // ≈ 30–60 s (ec25.md §6 table), doubled for a loaded host.
  settleMs: { data: 60_000, airplane: 90_000, reboot: 180_000, "usb-reset": 120_000 },
  breaker: DEFAULT_BREAKER,
};

export interface StepEvent {
  modemId: number;
  step: HealStep;
  attempt: number;
  phase: "start" | "end";
  result?: "ok" | "failed" | "skipped";
  detail?: string;
}

export interface LadderOutcome {
  modemId: number;
  result: "recovered" | "failed" | "stopped" | "refused";
  /** The step that brought it back. */
  step?: HealStep;
  attempts: number;
  durationMs: number;
  detail: string;
}

export interface LadderDeps {
  sql: Sql;
  nodeId: string;
  modems: HealModems;
  sysfsRoot: string;
  /** modems.usb_device of a modem (read when the USB step runs). */
  usbDeviceOf(modemId: number): Promise<string | null>;
  /** AT probe + data-path probe of one modem: is it really back? */
  verify(modemId: number): Promise<{ ok: boolean; detail: string }>;
  /** The hub watcher must not count this modem's vanish (reboot, USB reset) as a hub failure. */
  expectVanish?(modemId: number, ms: number): void;
  /** The ladder ended failed: alert a human. */
  onFailed?(modemId: number, reason: string, detail: string): Promise<void>;
  onRecovered?(modemId: number): Promise<void>;
  /** Another job holds the modem (a rotation queued or running): no ladder starts, a running one yields. */
  busy?(modemId: number): boolean;
  /** Observer of every attempt (metrics; tests use it to stage faults). Awaited. */
  onStep?(e: StepEvent): void | Promise<void>;
  /** Time for breaker cool-downs and durations (waits use timers). */
  clock?: Clock;
  /** Where step events go: the app's OutageBuffer (kept through a PostgreSQL outage); the table by default. */
  sink?: EventSink;
}

/** States a ladder never starts from: someone else holds the modem, or an admin switched it off. */
const NOT_HEALABLE = new Set(["rotating", "disabled"]);

export class HealLadder {
  readonly breakers: Breakers;
  private readonly running = new Map<number, Promise<LadderOutcome>>();
  private readonly opts: LadderOptions;
  private readonly clock: Clock;
  private readonly abort = new AbortController();

  constructor(private readonly deps: LadderDeps, opts: Partial<LadderOptions> = {}) {
    this.opts = { ...DEFAULT_LADDER, ...opts, settleMs: { ...DEFAULT_LADDER.settleMs, ...opts.settleMs } };
    this.clock = deps.clock ?? systemClock;
    this.breakers = new Breakers(this.opts.breaker);
  }

  /** Whether a ladder runs for `modemId` (the sweep and the hub watcher leave such a modem alone). */
  active(modemId: number): boolean {
    return this.running.has(modemId);
  }

  activeIds(): number[] {
    return [...this.running.keys()];
  }

  /**
   * Starts the ladder (or joins the running one). `force` ignores the breaker (an admin's request or the hub's batch
   * heal, which has its own bound). Resolves when the ladder ends; never rejects.
   */
  heal(modemId: number, reason: string, opts: { force?: boolean; steps?: readonly HealStep[] } = {}): Promise<LadderOutcome> {
    const cur = this.running.get(modemId);
    if (cur) return cur;
    const refused = (detail: string): Promise<LadderOutcome> =>
      Promise.resolve({ modemId, result: "refused", attempts: 0, durationMs: 0, detail });
    if (this.abort.signal.aborted) return refused("the ladder is stopped");
    const m = this.deps.modems.get(modemId);
    if (!m) return refused("unknown modem");
    if (NOT_HEALABLE.has(m.state)) return refused(`modem is ${m.state}`);
    if (this.deps.busy?.(modemId)) return refused("another job (a rotation) holds the modem");
    if (!opts.force && !this.breakers.allows(modemId, this.clock.now())) return refused("circuit breaker open");
    const p = this.run(modemId, reason, opts.steps ?? this.opts.steps)
      .catch((e): LadderOutcome => {
        log.error({ modemId, err: String(e) }, "heal ladder crashed");
        return { modemId, result: "failed", attempts: 0, durationMs: 0, detail: String(e) };
      })
      .finally(() => this.running.delete(modemId));
    this.running.set(modemId, p);
    return p;
  }

  /** Stops starting attempts; running ladders end after their current wait ("stopped", state left as is). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private sleep(ms: number): Promise<void> {
    return sleepUnlessAborted(ms, this.abort.signal);
  }

  private async event(modemId: number, kind: string, payload: Record<string, unknown>): Promise<void> {
    // A DB outage must not stop a ladder that is bringing a modem back.
    await (this.deps.sink ?? eventSink(this.deps.sql)).append({ nodeId: this.deps.nodeId, modemId, kind, payload })
      .catch((e) => log.warn({ modemId, kind, err: String(e) }, "heal event not stored"));
  }

  /** An observer's failure never stops a ladder (a modem left `healing` would stay held). */
  private async observe(e: StepEvent): Promise<void> {
    try {
      await this.deps.onStep?.(e);
    } catch (err) {
      log.warn({ modemId: e.modemId, err: String(err) }, "heal step observer failed");
    }
  }

  private async setState(modemId: number, state: "healing" | "failed", reason: string): Promise<void> {
    await this.deps.modems.setState(modemId, state, reason).catch((e) => log.warn({ modemId, state, err: String(e) }, "heal state not stored"));
  }

  private async run(modemId: number, reason: string, steps: readonly HealStep[]): Promise<LadderOutcome> {
    const started = this.clock.now();
    let attempts = 0;
    await this.event(modemId, "heal.started", { reason, steps });
    log.info({ modemId, reason }, "heal ladder started");
    for (const step of steps) {
      for (let attempt = 1; attempt <= this.opts.attemptsPerStep; attempt++) {
        if (this.stopped) return { modemId, result: "stopped", attempts, durationMs: this.clock.now() - started, detail: "shutdown" };
        if (attempts > 0) await this.sleep(backoffMs(attempts - 1, this.opts.backoffBaseMs, this.opts.backoffCapMs));
        // An admin disabled the modem, or a rotation took it, meanwhile: theirs now.
        const now = this.deps.modems.get(modemId)?.state;
        const taken = now && NOT_HEALABLE.has(now) ? `modem became ${now}` : this.deps.busy?.(modemId) ? "a rotation took the modem" : null;
        if (taken) {
          await this.event(modemId, "heal.done", { result: "cancelled", attempts, reason, detail: taken });
          return { modemId, result: "stopped", attempts, durationMs: this.clock.now() - started, detail: taken };
        }
        attempts++;
        await this.setState(modemId, "healing", `heal ${step} (${attempt}/${this.opts.attemptsPerStep}): ${reason}`);
        await this.observe({ modemId, step, attempt, phase: "start" });
        const t0 = this.clock.now();
        const { result, detail } = await this.attempt(modemId, step);
        const durationMs = this.clock.now() - t0;
        await this.event(modemId, "heal.step", { step, attempt, reason, result, detail, durationMs });
        await this.observe({ modemId, step, attempt, phase: "end", result, detail });
        if (result === "ok") {
          this.breakers.reset(modemId);
          const outcome: LadderOutcome = { modemId, result: "recovered", step, attempts, durationMs: this.clock.now() - started, detail };
          await this.event(modemId, "heal.done", { result: "recovered", step, attempts, durationMs: outcome.durationMs, reason });
          await this.deps.onRecovered?.(modemId).catch((e) => log.warn({ modemId, err: String(e) }, "onRecovered failed"));
          log.info({ modemId, step, attempts }, "modem recovered");
          return outcome;
        }
        // A step that does not apply (no AT port, unknown USB device) is not retried.
        if (result === "skipped") break;
      }
    }
    const durationMs = this.clock.now() - started;
    if (this.stopped) return { modemId, result: "stopped", attempts, durationMs, detail: "shutdown" };
    const until = this.breakers.trip(modemId, this.clock.now());
    await this.setState(modemId, "failed", `heal ladder exhausted: ${reason}`);
    await this.event(modemId, "heal.done", { result: "failed", attempts, durationMs, reason, breakerUntil: new Date(until).toISOString() });
    await this.deps.onFailed?.(modemId, reason, `${attempts} attempts over ${steps.join(", ")}`).catch((e) => log.warn({ modemId, err: String(e) }, "onFailed failed"));
    log.warn({ modemId, attempts, reason }, "heal ladder exhausted: modem failed");
    return { modemId, result: "failed", attempts, durationMs, detail: `breaker open until ${new Date(until).toISOString()}` };
  }

  /** One attempt of one step: act, then wait for online + verification within the step's settle time. */
  private async attempt(modemId: number, step: HealStep): Promise<{ result: "ok" | "failed" | "skipped"; detail: string }> {
    const ctx: StepContext = {
      modemId, modems: this.deps.modems, sysfsRoot: this.deps.sysfsRoot,
      usbDevice: step === "usb-reset" ? await this.deps.usbDeviceOf(modemId).catch(() => null) : null,
      atTimeoutMs: this.opts.atTimeoutMs, airplaneHoldMs: this.opts.airplaneHoldMs, usbHoldMs: this.opts.usbHoldMs,
      sleep: (ms) => this.sleep(ms),
      expectVanish: (ms) => this.deps.expectVanish?.(modemId, ms),
    };
    let acted;
    try {
      acted = await STEP_ACTIONS[step](ctx);
    } catch (e) {
      acted = { result: "failed" as const, detail: e instanceof Error ? e.message : String(e) };
    }
    if (acted.result !== "acted") return { result: acted.result, detail: acted.detail };
    const settled = await this.waitRecovered(modemId, this.opts.settleMs[step]);
    return settled.ok ? { result: "ok", detail: `${acted.detail}; ${settled.detail}` } : { result: "failed", detail: `${acted.detail}; ${settled.detail}` };
  }

  /** Waits until the modem is online and passes verification, or the deadline passes. */
  private async waitRecovered(modemId: number, ms: number): Promise<{ ok: boolean; detail: string }> {
    const deadline = this.clock.now() + ms;
    let last = "not online yet";
    while (!this.stopped && this.clock.now() < deadline) {
      const m = this.deps.modems.get(modemId);
      if (m?.state === "online") {
        const v = await this.deps.verify(modemId).catch((e) => ({ ok: false, detail: String(e) }));
        if (v.ok) return { ok: true, detail: `online and verified (${v.detail})` };
        last = `online but verification failed: ${v.detail}`;
        await this.sleep(1000);
      } else {
        last = `still ${m?.state ?? "unknown"}${m?.stateReason ? ` (${m.stateReason})` : ""}`;
        await this.sleep(250);
      }
    }
    return { ok: false, detail: `not recovered within ${ms} ms: ${last}` };
  }
}
