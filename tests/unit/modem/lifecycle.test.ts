import { describe, expect, test } from "bun:test";
import type { ModemStatus } from "../../../src/modem/driver-types.ts";
import { changedColumns, desiredState, mayDegrade, pollMayMove, radioColumns, reportedColumns } from "../../../src/modem/lifecycle.ts";

function status(p: Partial<ModemStatus> = {}): ModemStatus {
  return {
    sim: "READY", radio: "on",
    registration: { stat: 1, status: "home", registered: true, roaming: false, tac: "61EA", ci: "A1A9566", act: 7, source: "CEREG" },
    operator: { name: "o2 - de", numeric: "26203" }, rat: "LTE", band: "LTE BAND 3", earfcn: 1444, cellId: "A1A9566",
    csq: 20, rssi: -73, rsrp: -90, rsrq: -10, sinrRaw: 12, temperature: 40, readAt: 0, ...p,
  };
}

describe("desiredState", () => {
  test.each([
    [{}, "registered", /o2 - de/],
    [{ registration: { stat: 5, status: "roaming", registered: true, roaming: true, tac: null, ci: null, act: 7, source: "CEREG" } }, "registered", /roaming/],
    [{ registration: { stat: 2, status: "searching", registered: false, roaming: false, tac: null, ci: null, act: null, source: "CEREG" } }, "searching", /searching/],
    [{ registration: null, sim: "BUSY" }, "searching", /SIM initialising/],
    [{ registration: { stat: 3, status: "denied", registered: false, roaming: false, tac: null, ci: null, act: null, source: "CEREG" } }, "offline", /denied/],
    [{ sim: "NOT_INSERTED", registration: null }, "offline", /no SIM/],
    [{ sim: "PIN_REQUIRED", registration: null }, "offline", /PIN/],
    [{ radio: "airplane" }, "offline", /CFUN=4/],
    [{ radio: "off" }, "offline", /CFUN=0/],
  ] as const)("%j → %s", (p, state, reason) => {
    const d = desiredState(status(p as Partial<ModemStatus>));
    expect(d.state).toBe(state);
    expect(d.reason).toMatch(reason);
  });
});

describe("who may move which state", () => {
  test("polls move manager states, drop data states only on lost registration, never touch held ones", () => {
    expect(pollMayMove("identifying", "registered")).toBe(true);
    expect(pollMayMove("searching", "registered")).toBe(true);
    expect(pollMayMove("degraded", "registered")).toBe(true);
    expect(pollMayMove("registered", "registered")).toBe(false);
    expect(pollMayMove("online", "registered")).toBe(false);
    expect(pollMayMove("online", "searching")).toBe(true);
    expect(pollMayMove("connecting", "offline")).toBe(true);
    for (const held of ["healing", "rotating", "failed", "disabled"] as const) {
      expect(pollMayMove(held, "searching")).toBe(false);
      expect(mayDegrade(held)).toBe(false);
    }
    expect(mayDegrade("online")).toBe(true);
    expect(mayDegrade("degraded")).toBe(false);
  });
});

describe("radio columns", () => {
  test("maps a status to the modems columns", () => {
    expect(radioColumns(status())).toEqual({
      sim_state: "READY", registration: "home", operator: "o2 - de", operator_code: "26203", rat: "LTE", band: "LTE BAND 3",
      cell_id: "A1A9566", csq: 20, rssi: -73, rsrp: -90, rsrq: -10, sinr_raw: 12, temperature: 40,
    });
  });

  test("first poll: everything changed; small signal drift is not a change, a band change is", () => {
    const a = radioColumns(status());
    expect(changedColumns(null, a)).toEqual(a);
    expect(changedColumns(a, radioColumns(status({ rsrp: -91, csq: 21, temperature: 41 })))).toBeNull();
    expect(changedColumns(a, radioColumns(status({ rsrp: -95 })))).toEqual({ rsrp: -95 });
    expect(changedColumns(a, radioColumns(status({ band: "LTE BAND 20" })))).toEqual({ band: "LTE BAND 20" });
    expect(changedColumns(a, radioColumns(status({ rsrp: null })))).toEqual({ rsrp: null });
  });

  test("slow drift accumulates against the last reported value", () => {
    let reported = radioColumns(status());
    const events: unknown[] = [];
    for (const rsrp of [-91, -92, -93, -94]) {
      const next = radioColumns(status({ rsrp }));
      const changed = changedColumns(reported, next);
      if (changed) events.push(changed);
      reported = reportedColumns(reported, next, changed);
    }
    expect(events).toEqual([{ rsrp: -93 }]);
  });
});
