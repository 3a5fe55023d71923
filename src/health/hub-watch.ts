/**
 * USB hub failure detection. When ≥ K modems (default 3) behind the same parent hub (modems.hub, "1-2") vanish
 * within T seconds (default 5), that is the hub (power, cable, a crashed hub controller), not K modems: ONE hub
 * alert instead of K modem alerts, and ONE batch heal instead of K ladders fighting over the same hub:
 *
 *   1. wait `graceMs` for the modems to come back by themselves (a brown-out re-enumerates within ~30 s);
 *   2. still missing and the hub is in sysfs: reset the hub (authorized 0 → 1 resets everything behind it), at
 *      most `hubResets` times; not in sysfs: nothing software can do, the alert stays open and we keep waiting;
 *   3. modems that are back but not online after `settleMs` get the heal ladder one at a time;
 *   4. every modem of the incident back (online, or failed after its ladder): resolve the alert (`hub.up`).
 *
 * Vanishes we caused (the ladder's reboot and USB reset, a panel reboot) are announced with expectVanish() and
 * not counted. Every step is a `heal.step` row with modem_id null and the hub in its payload.
 */
import type { Sql } from "../db/client.ts";
import { appendEvent } from "../db/queries/events.ts";
import type { ModemState } from "../db/queries/modem-state.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { childLogger } from "../lib/logger.ts";
import type { ManagedModem } from "../modem/manager.ts";
import type { AlertSpec } from "../db/queries/alerts.ts";
import { hubKey } from "./alert-rules.ts";
import type { HealLadder } from "./heal-ladder.ts";
import { sleepUnlessAborted } from "./abortable-sleep.ts";
import { usbReset } from "./usb-reset.ts";

const log = childLogger("hubs");

export interface HubOptions {
  /** K: modems of one hub that must vanish within the window (default 3). */
  minModems: number;
  /** T: the window (default 5 s). */
  windowMs: number;
  /** Wait before touching the hub (default 30 s). */
  graceMs: number;
  /** Hub resets per incident (default 2), after graceMs, 2·graceMs, ... */
  hubResets: number;
  resetHoldMs: number;
  /** A modem back but not online after this long gets the ladder (default 120 s). */
  settleMs: number;
  /** How often the batch heal looks at its modems (default 500 ms). */
  pollMs: number;
}

export const DEFAULT_HUB: HubOptions = { minModems: 3, windowMs: 5_000, graceMs: 30_000, hubResets: 2, resetHoldMs: 1_000, settleMs: 120_000, pollMs: 500 };

export interface HubIncident {
  hub: string;
  modemIds: Set<number>;
  openedAt: number;
  /** When each modem was last seen back (state no longer unplugged). */
  backSince: Map<number, number>;
  resets: number;
  closed: boolean;
}

export interface HubDeps {
  sql: Sql;
  nodeId: string;
  modems: { get(id: number): ManagedModem | undefined };
  /** modems.hub of a modem (from the sweep's row cache). */
  hubOf(modemId: number): string | null;
  ladder: HealLadder;
  sysfsRoot: string;
  /** The alert center: `created`/true when this call opened/resolved the row (another writer may have been first). */
  alerts: { raise(spec: AlertSpec): Promise<{ created: boolean }>; clear(key: string): Promise<boolean> };
  clock?: Clock;
}

/** A modem of an incident is settled when it serves again, or when its own ladder gave up. */
const SETTLED: ReadonlySet<ModemState> = new Set(["online", "degraded", "failed", "disabled"]);

export class HubWatcher {
  private readonly recent = new Map<string, Array<{ id: number; at: number }>>();
  private readonly expected = new Map<number, number>();
  private readonly incidents = new Map<string, HubIncident>();
  private readonly runs = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly opts: HubOptions;
  private readonly clock: Clock;

  constructor(private readonly deps: HubDeps, opts: Partial<HubOptions> = {}) {
    this.opts = { ...DEFAULT_HUB, ...opts };
    this.clock = deps.clock ?? systemClock;
  }

  /** The next vanish of `modemId` within `ms` is ours (reboot, USB reset), not a hub's. */
  expectVanish(modemId: number, ms: number): void {
    this.expected.set(modemId, this.clock.now() + ms);
  }

  /** Open incidents. */
  open(): HubIncident[] {
    return [...this.incidents.values()].filter((i) => !i.closed);
  }

  /** The modem belongs to an open hub incident (no ladder, no modem alert). */
  covers(modemId: number): boolean {
    for (const i of this.incidents.values()) if (!i.closed && i.modemIds.has(modemId)) return true;
    return false;
  }

  /**
   * Feed of the manager's state transitions. A modem leaving `healing` or `rotating` for `unplugged` is a reboot or
   * USB reset someone ordered, not a hub.
   */
  onTransition(modemId: number, from: ModemState | null, to: ModemState): void {
    if (to !== "unplugged" || this.abort.signal.aborted) return;
    const now = this.clock.now();
    const until = this.expected.get(modemId);
    this.expected.delete(modemId);
    if ((until !== undefined && until >= now) || from === "healing" || from === "rotating") return;
    const hub = this.deps.hubOf(modemId);
    if (!hub) return;
    const open = this.incidents.get(hub);
    if (open && !open.closed) {
      open.modemIds.add(modemId);
      open.backSince.delete(modemId);
      return;
    }
    const list = (this.recent.get(hub) ?? []).filter((e) => now - e.at <= this.opts.windowMs && e.id !== modemId);
    list.push({ id: modemId, at: now });
    this.recent.set(hub, list);
    if (list.length >= this.opts.minModems) {
      this.recent.delete(hub);
      this.openIncident(hub, list.map((e) => e.id), list[0]!.at);
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.runs]);
  }

  private openIncident(hub: string, ids: number[], since: number): void {
    const incident: HubIncident = { hub, modemIds: new Set(ids), openedAt: since, backSince: new Map(), resets: 0, closed: false };
    this.incidents.set(hub, incident);
    log.warn({ hub, modems: ids.length }, "USB hub failure: modems vanished together");
    const run = this.batch(incident)
      .catch((e) => log.error({ hub, err: String(e) }, "hub batch heal crashed"))
      .finally(() => this.runs.delete(run));
    this.runs.add(run);
  }

  private async event(payload: Record<string, unknown>, kind = "heal.step"): Promise<void> {
    await appendEvent(this.deps.sql, { nodeId: this.deps.nodeId, modemId: null, kind, payload })
      .catch((e) => log.warn({ err: String(e), kind }, "hub event not stored"));
  }

  private alert(i: HubIncident): AlertSpec {
    return {
      kind: "hub.down", severity: "critical", scope: "hub", hub: i.hub, dedupKey: hubKey(i.hub),
      message: `USB hub ${i.hub}: ${i.modemIds.size} modems vanished within ${this.opts.windowMs / 1000} s`,
      details: { modemIds: [...i.modemIds], openedAt: new Date(i.openedAt).toISOString() },
    };
  }

  private async batch(i: HubIncident): Promise<void> {
    const signal = this.abort.signal;
    // The rest of the hub vanishes within the window too: raise once it is over, naming every modem.
    await sleepUnlessAborted(Math.max(0, i.openedAt + this.opts.windowMs - this.clock.now()), signal);
    if (signal.aborted) return;
    const raised = await this.deps.alerts.raise(this.alert(i)).catch((e) => void log.warn({ err: String(e) }, "hub alert not stored"));
    // hub.down/hub.up follow the alert row: when another health instance of this node saw the same hub go (the
    // app's beside a test's, or a process still stopping) and opened the row first, the event is its to write.
    if (raised?.created !== false) await this.event({ hub: i.hub, modemIds: [...i.modemIds], reason: "modems vanished together" }, "hub.down");
    const healed = new Set<number>();
    while (!signal.aborted) {
      const now = this.clock.now();
      const missing: number[] = [];
      const unsettled: number[] = [];
      for (const id of i.modemIds) {
        const state = this.deps.modems.get(id)?.state;
        if (!state || state === "unplugged") {
          missing.push(id);
          i.backSince.delete(id);
        } else {
          if (!i.backSince.has(id)) i.backSince.set(id, now);
          if (!SETTLED.has(state)) unsettled.push(id);
        }
      }
      if (missing.length === 0 && unsettled.length === 0) break;
      if (missing.length && now >= i.openedAt + this.opts.graceMs * 2 ** i.resets) {
        await this.resetHub(i, missing);
      }
      // Back but not serving after settleMs: the ladder, one modem at a time (we await it).
      const stuck = unsettled.find((id) => !healed.has(id) && now - (i.backSince.get(id) ?? now) >= this.opts.settleMs);
      if (stuck !== undefined) {
        healed.add(stuck);
        await this.deps.ladder.heal(stuck, `back after hub ${i.hub} failure but not online`, { force: true });
        continue;
      }
      await sleepUnlessAborted(this.opts.pollMs, signal);
    }
    if (signal.aborted) return;
    i.closed = true;
    const durationMs = this.clock.now() - i.openedAt;
    const cleared = await this.deps.alerts.clear(hubKey(i.hub)).catch((e) => void log.warn({ err: String(e) }, "hub alert not resolved"));
    if (cleared !== false) await this.event({ hub: i.hub, modemIds: [...i.modemIds], durationMs, resets: i.resets }, "hub.up");
    log.info({ hub: i.hub, durationMs }, "USB hub incident over: every modem is back");
  }

  private async resetHub(i: HubIncident, missing: number[]): Promise<void> {
    if (i.resets >= this.opts.hubResets) return;
    i.resets++;
    const reason = `${missing.length} of ${i.modemIds.size} modems still gone`;
    let result: string;
    let detail: string;
    try {
      const r = await usbReset(this.deps.sysfsRoot, i.hub, this.opts.resetHoldMs);
      result = r === "ok" ? "acted" : "failed";
      detail = r === "ok" ? `hub ${i.hub} re-authorized` : `hub ${i.hub} is not in sysfs (power or cable): waiting for it`;
    } catch (e) {
      result = "failed";
      detail = e instanceof Error ? e.message : String(e);
    }
    await this.event({ step: "hub-reset", hub: i.hub, attempt: i.resets, reason, result, detail, modemIds: missing });
  }
}
