/**
 * The pure rules of the modem lifecycle: which state a status poll asks for, whether the manager may make that
 * move from the current state, and which radio columns changed enough to tell the panel.
 *
 * Ownership of states:
 *   manager   detected, identifying, searching, registered, offline, degraded, unplugged
 *   data plane connecting, online           (the onRegistered hook; the manager only drops them when the modem
 *                                            loses registration, hangs or vanishes)
 *   held      healing, rotating, failed, disabled   (set by the heal ladder, rotation or an admin through
 *                                            setState; polls never move them; only an unplug does, except disabled)
 */
import type { ModemState, RadioColumns } from "../db/queries/modem-state.ts";
import type { ModemStatus } from "./driver-types.ts";

export const DATA_STATES: readonly ModemState[] = ["connecting", "online"];
export const HELD_STATES: readonly ModemState[] = ["healing", "rotating", "failed", "disabled"];

export interface Desired {
  state: "searching" | "registered" | "offline";
  reason: string;
}

/** The state a status poll calls for (ec25.md §4.2–§4.4). */
export function desiredState(s: ModemStatus): Desired {
  if (s.radio === "off") return { state: "offline", reason: "radio off (AT+CFUN=0)" };
  if (s.radio === "airplane") return { state: "offline", reason: "airplane mode (AT+CFUN=4)" };
  if (s.sim === "NOT_INSERTED") return { state: "offline", reason: "no SIM inserted" };
  if (s.sim === "FAILURE") return { state: "offline", reason: "SIM failure" };
  if (s.sim === "PIN_REQUIRED" || s.sim === "PUK_REQUIRED") return { state: "offline", reason: `SIM locked (${s.sim === "PIN_REQUIRED" ? "PIN" : "PUK"} required)` };
  const reg = s.registration;
  if (reg?.registered) {
    const op = s.operator?.name ?? s.operator?.numeric ?? "network";
    return { state: "registered", reason: `registered on ${op}${reg.roaming ? " (roaming)" : ""}` };
  }
  if (reg?.status === "denied") return { state: "offline", reason: "registration denied by the network" };
  if (s.sim === "BUSY" || s.sim === "NOT_READY") return { state: "searching", reason: "SIM initialising" };
  return { state: "searching", reason: "searching for a network" };
}

/** Whether a poll may move a modem from `current` to `desired` (see the ownership table above). */
export function pollMayMove(current: ModemState, desired: Desired["state"]): boolean {
  if (current === desired) return false;
  if (HELD_STATES.includes(current)) return false;
  if (DATA_STATES.includes(current)) return desired !== "registered";
  return true;
}

/** Whether AT failures may mark the modem degraded from `current`. */
export function mayDegrade(current: ModemState): boolean {
  return current !== "degraded" && current !== "unplugged" && !HELD_STATES.includes(current);
}

/** The `modems` radio columns of a status. */
export function radioColumns(s: ModemStatus): RadioColumns {
  return {
    sim_state: s.sim,
    registration: s.registration ? s.registration.status : null,
    operator: s.operator?.name ?? null,
    operator_code: s.operator?.numeric ?? null,
    rat: s.rat,
    band: s.band,
    cell_id: s.cellId,
    csq: s.csq,
    rssi: s.rssi,
    rsrp: s.rsrp,
    rsrq: s.rsrq,
    sinr_raw: s.sinrRaw,
    temperature: s.temperature,
  };
}

/**
 * Deadbands for numeric columns: signal drifts a little on every poll, and an event per dB per modem would flood
 * the panel. Categorical columns (operator, RAT, band, cell, SIM, registration) count on any change.
 */
export const DEADBANDS: Partial<Record<keyof RadioColumns, number>> = {
  csq: 2, rssi: 3, rsrp: 3, rsrq: 2, sinr_raw: 3, temperature: 2,
};

/** Columns that changed enough to show, with their new values; null when nothing did. */
export function changedColumns(prev: RadioColumns | null, next: RadioColumns): Partial<RadioColumns> | null {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(next) as (keyof RadioColumns)[]) {
    const a = prev ? prev[key] : undefined;
    const b = next[key];
    if (a === b) continue;
    const band = DEADBANDS[key];
    if (band !== undefined && typeof a === "number" && typeof b === "number" && Math.abs(a - b) < band) continue;
    out[key] = b;
  }
  return Object.keys(out).length ? (out as Partial<RadioColumns>) : null;
}

/** Like changedColumns, but the deadbanded columns keep their last reported value so slow drift still shows. */
export function reportedColumns(prev: RadioColumns | null, next: RadioColumns, changed: Partial<RadioColumns> | null): RadioColumns {
  if (!prev) return next;
  const out = { ...next };
  for (const key of Object.keys(DEADBANDS) as (keyof RadioColumns)[]) {
    if (!changed || !(key in changed)) (out as Record<string, unknown>)[key] = prev[key];
  }
  return out;
}
