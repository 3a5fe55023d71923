/**
 * Which alerts the health state of a node calls for (pure, table-tested). The alert center (alert-center.ts)
 * opens what is wanted and not open, and resolves what is open and no longer wanted. Dedup keys name the thing,
 * not the moment: "modem:<id>:failed", "hub:<hub>:down", so a repeat while open bumps `occurrences`.
 *
 *   modem.failed       critical  the heal ladder gave up (state failed)
 *   modem.offline      warning   not serving (gone, radio off, no network, no data) for longer than offlineAfterMs;
 *                                not for modems whose hub is down (one hub alert instead of K modem alerts)
 *   modem.temperature  warning   hottest QTEMP sensor at or above tempHighC (EC25 normal range ends at +75 °C)
 *   modem.no_signal    warning   no CSQ reading for noSignalSweeps sweeps while the radio is on
 *   hub.down           critical  raised by the hub watcher (hub-watch.ts), not by these rules
 */
import type { AlertSpec } from "../db/queries/alerts.ts";
import type { ModemState } from "../db/queries/modem-state.ts";

// The shape lives with the table (src/db/queries/alerts.ts); re-exported for health's callers and tests.
export type { AlertSeverity, AlertSpec } from "../db/queries/alerts.ts";

export interface AlertRuleConfig {
  offlineAfterMs: number;
  tempHighC: number;
  noSignalSweeps: number;
}

export const DEFAULT_ALERT_RULES: AlertRuleConfig = { offlineAfterMs: 5 * 60_000, tempHighC: 75, noSignalSweeps: 3 };

export interface AlertModemView {
  id: number;
  label: string;
  state: ModemState;
  stateReason: string | null;
  stateSinceMs: number;
  temperature: number | null;
  noSignalSweeps: number;
  hub: string | null;
  hubDown: boolean;
}

/** States in which a modem serves nobody, for modem.offline. */
const NOT_SERVING: ReadonlySet<ModemState> = new Set(["unplugged", "offline", "searching", "registered", "connecting", "detected", "identifying"]);

export function modemKey(id: number, what: string): string {
  return `modem:${id}:${what}`;
}

export function hubKey(hub: string): string {
  return `hub:${hub}:down`;
}

/** The rule-made alerts wanted right now. */
export function desiredAlerts(modems: readonly AlertModemView[], now: number, cfg: AlertRuleConfig = DEFAULT_ALERT_RULES): AlertSpec[] {
  const out: AlertSpec[] = [];
  for (const m of modems) {
    const base = { scope: "modem" as const, modemId: m.id, hub: m.hub };
    if (m.state === "failed") {
      out.push({ ...base, kind: "modem.failed", severity: "critical", dedupKey: modemKey(m.id, "failed"),
        message: `${m.label} failed: the heal ladder could not bring it back${m.stateReason ? ` (${m.stateReason})` : ""}` });
    }
    const downFor = now - m.stateSinceMs;
    if (NOT_SERVING.has(m.state) && !m.hubDown && downFor >= cfg.offlineAfterMs) {
      out.push({ ...base, kind: "modem.offline", severity: "warning", dedupKey: modemKey(m.id, "offline"),
        message: `${m.label} ${m.state} for ${Math.round(downFor / 60_000)} min${m.stateReason ? `: ${m.stateReason}` : ""}`,
        details: { state: m.state, since: new Date(m.stateSinceMs).toISOString() } });
    }
    if (m.temperature !== null && m.temperature >= cfg.tempHighC && m.state !== "unplugged") {
      out.push({ ...base, kind: "modem.temperature", severity: "warning", dedupKey: modemKey(m.id, "temperature"),
        message: `${m.label} at ${m.temperature} °C (limit ${cfg.tempHighC} °C)`, details: { celsius: m.temperature } });
    }
    if (m.noSignalSweeps >= cfg.noSignalSweeps && m.state !== "offline" && m.state !== "unplugged") {
      out.push({ ...base, kind: "modem.no_signal", severity: "warning", dedupKey: modemKey(m.id, "no_signal"),
        message: `${m.label} has no signal (${m.noSignalSweeps} sweeps)` });
    }
  }
  return out;
}
