/**
 * When a modem needs the heal ladder (pure, table-tested). Inputs are what the sweeps counted and what the lifecycle
 * says; the output is the reason written into every `heal.step` row, or null.
 *
 *   AT probe failed N sweeps in a row            (hung firmware, wedged port)       any swept state
 *   data-path probe failed N sweeps in a row     (session dead while "online")      online, degraded
 *   degraded for longer than stuckMs             (AT struggling for a long time)
 *   registered/connecting for longer than stuckMs without data (bring-up keeps failing)
 *   failed, and the breaker's cool-down is over  (half-open retry)
 *
 * Never: modems the heal ladder, a rotation or an admin hold (healing, rotating, disabled), modems that are gone
 * (unplugged: the hub watcher and the offline alert own those), modems being identified, and modems whose hub is
 * down (the hub's batch heal owns them).
 */
import type { ModemState } from "../db/queries/modem-state.ts";

export interface ModemTrack {
  /** Consecutive sweeps whose AT probe failed. */
  atFails: number;
  /** Consecutive sweeps whose data-path probe failed (only counted while the modem should carry data). */
  probeFails: number;
  /** Consecutive sweeps without a usable signal reading. */
  noSignal: number;
  lastAtError: string | null;
  lastProbeError: string | null;
  /** Hottest QTEMP sensor of the last answered probe (°C). */
  temperature: number | null;
  /** An AT probe of an earlier sweep is still waiting in the modem's queue. */
  pending: boolean;
}

export function newTrack(): ModemTrack {
  return { atFails: 0, probeFails: 0, noSignal: 0, lastAtError: null, lastProbeError: null, temperature: null, pending: false };
}

export interface TriggerConfig {
  /** Sweeps in a row with a failed AT probe (default 3: 90 s at the 30 s default interval). */
  atFailSweeps: number;
  /** Sweeps in a row with a failed data-path probe (default 3). */
  probeFailSweeps: number;
  /** How long degraded, or registered/connecting without data, counts as stuck (default 120 s). */
  stuckMs: number;
}

export const DEFAULT_TRIGGERS: TriggerConfig = { atFailSweeps: 3, probeFailSweeps: 3, stuckMs: 120_000 };

export interface TriggerInput {
  state: ModemState;
  stateSinceMs: number;
  present: boolean;
  track: ModemTrack;
  now: number;
  /** A ladder runs for this modem already. */
  healing: boolean;
  /** Its hub has an open incident (batch heal). */
  hubDown: boolean;
  /** The modem's breaker lets a ladder start (closed, or cool-down over). */
  breakerAllows: boolean;
}

const NEVER: ReadonlySet<ModemState> = new Set(["healing", "rotating", "disabled", "unplugged", "detected", "identifying"]);
const CARRIES_DATA: ReadonlySet<ModemState> = new Set(["online", "degraded"]);

/** The reason to start the ladder, or null. */
export function healTrigger(i: TriggerInput, cfg: TriggerConfig = DEFAULT_TRIGGERS): string | null {
  if (i.healing || i.hubDown || NEVER.has(i.state) || !i.breakerAllows) return null;
  if (i.state === "failed") return "circuit breaker cool-down over: trying the ladder again";
  const stuckFor = i.now - i.stateSinceMs;
  if (i.present && i.track.atFails >= cfg.atFailSweeps) {
    return `AT probe failed on ${i.track.atFails} sweeps in a row${i.track.lastAtError ? ` (${i.track.lastAtError})` : ""}`;
  }
  if (CARRIES_DATA.has(i.state) && i.track.probeFails >= cfg.probeFailSweeps) {
    return `data-path probe failed on ${i.track.probeFails} sweeps in a row${i.track.lastProbeError ? ` (${i.track.lastProbeError})` : ""}`;
  }
  if (i.state === "degraded" && stuckFor >= cfg.stuckMs) return `degraded for ${Math.round(stuckFor / 1000)} s`;
  if ((i.state === "registered" || i.state === "connecting") && stuckFor >= cfg.stuckMs) {
    return `${i.state} without data for ${Math.round(stuckFor / 1000)} s`;
  }
  return null;
}
