/** Which alerts health wants (pure table), and the breaker that gates ladders. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_ALERT_RULES, desiredAlerts, type AlertModemView } from "../../../src/health/alert-rules.ts";
import { Breakers } from "../../../src/health/breaker.ts";

const now = 10_000_000;
function view(over: Partial<AlertModemView> = {}): AlertModemView {
  return { id: 7, label: "modem 1-1.7", state: "online", stateReason: null, stateSinceMs: now - 1000, temperature: 40, noSignalSweeps: 0, hub: "1-1", hubDown: false, ...over };
}
const kinds = (v: AlertModemView) => desiredAlerts([v], now, DEFAULT_ALERT_RULES).map((a) => a.kind).sort();

describe("desiredAlerts", () => {
  test("a healthy modem wants nothing", () => expect(kinds(view())).toEqual([]));
  test("failed is critical, keyed by modem", () => {
    const [a] = desiredAlerts([view({ state: "failed", stateReason: "heal ladder exhausted" })], now);
    expect(a).toMatchObject({ kind: "modem.failed", severity: "critical", scope: "modem", modemId: 7, dedupKey: "modem:7:failed" });
    expect(a!.message).toContain("heal ladder exhausted");
  });
  test("offline only after offlineAfterMs", () => {
    expect(kinds(view({ state: "unplugged", stateSinceMs: now - 60_000 }))).toEqual([]);
    expect(kinds(view({ state: "unplugged", stateSinceMs: now - 6 * 60_000 }))).toEqual(["modem.offline"]);
    expect(kinds(view({ state: "searching", stateSinceMs: now - 6 * 60_000 }))).toEqual(["modem.offline"]);
  });
  test("a modem of a downed hub: no modem alert (the hub alert covers it)", () => {
    expect(kinds(view({ state: "unplugged", stateSinceMs: now - 60 * 60_000, hubDown: true }))).toEqual([]);
  });
  test("healing, rotating, degraded and disabled are not offline", () => {
    for (const state of ["healing", "rotating", "degraded", "disabled"] as const) expect(kinds(view({ state, stateSinceMs: 0 }))).toEqual([]);
  });
  test("temperature at the limit", () => {
    expect(kinds(view({ temperature: 74 }))).toEqual([]);
    expect(kinds(view({ temperature: 75 }))).toEqual(["modem.temperature"]);
  });
  test("no signal after N sweeps, not while the radio is off", () => {
    expect(kinds(view({ noSignalSweeps: 2 }))).toEqual([]);
    expect(kinds(view({ noSignalSweeps: 3 }))).toEqual(["modem.no_signal"]);
    expect(kinds(view({ noSignalSweeps: 9, state: "offline" }))).toEqual([]);
  });
});

describe("Breakers", () => {
  test("closed → tripped for the cool-down → half-open; repeated failures double it up to the cap", () => {
    const b = new Breakers({ cooldownMs: 1000, maxCooldownMs: 3000 });
    expect(b.allows(1, 0)).toBe(true);
    expect(b.trip(1, 0)).toBe(1000);
    expect(b.allows(1, 999)).toBe(false);
    expect(b.allows(1, 1000)).toBe(true);
    expect(b.trip(1, 1000)).toBe(3000);
    expect(b.trip(1, 3000)).toBe(6000);
    expect(b.open(3500)).toEqual([1]);
    b.reset(1);
    expect(b.allows(1, 3500)).toBe(true);
    expect(b.allows(2, 0)).toBe(true);
  });
  test("restore after a restart counts the cool-down from when the modem failed", () => {
    const b = new Breakers({ cooldownMs: 1000, maxCooldownMs: 3000 });
    b.restore(5, 500);
    expect(b.allows(5, 1499)).toBe(false);
    expect(b.allows(5, 1500)).toBe(true);
  });
});
