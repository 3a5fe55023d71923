/** When the heal ladder starts (pure table). */
import { describe, expect, test } from "bun:test";
import { DEFAULT_TRIGGERS, healTrigger, newTrack, type TriggerInput } from "../../../src/health/triggers.ts";

const now = 1_000_000;
function input(over: Partial<TriggerInput> & { atFails?: number; probeFails?: number } = {}): TriggerInput {
  const track = { ...newTrack(), atFails: over.atFails ?? 0, probeFails: over.probeFails ?? 0, lastAtError: "AT_TIMEOUT", lastProbeError: "curl 28" };
  return { state: "online", stateSinceMs: now - 1000, present: true, track, now, healing: false, hubDown: false, breakerAllows: true, ...over };
}

describe("healTrigger", () => {
  const cases: Array<[string, Partial<TriggerInput> & { atFails?: number; probeFails?: number }, RegExp | null]> = [
    ["healthy online modem", {}, null],
    ["AT failed 2 of 3 sweeps", { atFails: 2 }, null],
    ["AT failed 3 sweeps", { atFails: 3 }, /AT probe failed on 3 sweeps.*AT_TIMEOUT/],
    ["AT failures of a modem without port do not count", { atFails: 5, present: false, state: "degraded" }, null],
    ["data path failed 3 sweeps while online", { probeFails: 3 }, /data-path probe failed on 3 sweeps.*curl 28/],
    ["data path counts only while carrying data", { probeFails: 3, state: "searching" }, null],
    ["degraded briefly", { state: "degraded", stateSinceMs: now - 60_000 }, null],
    ["degraded for 2 min", { state: "degraded", stateSinceMs: now - 120_000 }, /degraded for 120 s/],
    ["registered without data for 2 min", { state: "registered", stateSinceMs: now - 130_000 }, /registered without data for 130 s/],
    ["connecting stuck", { state: "connecting", stateSinceMs: now - 200_000 }, /connecting without data/],
    ["searching for long is an alert, not a heal", { state: "searching", stateSinceMs: now - 900_000 }, null],
    ["a ladder runs already", { atFails: 9, healing: true }, null],
    ["its hub is down: the batch heal owns it", { atFails: 9, hubDown: true }, null],
    ["breaker open", { atFails: 9, breakerAllows: false }, null],
    ["rotating", { atFails: 9, state: "rotating" }, null],
    ["disabled", { atFails: 9, state: "disabled" }, null],
    ["unplugged", { atFails: 9, state: "unplugged", present: false }, null],
    ["failed, breaker open", { state: "failed", breakerAllows: false }, null],
    ["failed, cool-down over: half-open retry", { state: "failed" }, /cool-down over/],
  ];
  for (const [name, over, want] of cases) {
    test(name, () => {
      const r = healTrigger(input(over), DEFAULT_TRIGGERS);
      if (want === null) expect(r).toBeNull();
      else expect(r ?? "").toMatch(want);
    });
  }

  test("thresholds come from the config", () => {
    expect(healTrigger(input({ atFails: 1 }), { ...DEFAULT_TRIGGERS, atFailSweeps: 1 })).toContain("AT probe failed on 1");
  });
});
