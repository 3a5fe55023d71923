/** The chained AT probe: parsing real answers (ec25.md §4.3, §4.5; [T 02, T 27, T 28, T 36]) and its failure modes. */
import { describe, expect, test } from "bun:test";
import { AT_PROBE_COMMAND, parseAtProbe, probeAt } from "../../../src/health/at-probe.ts";
import { FakeChannel } from "../modem/fake-channel.ts";
import type { AtChannel, AtResponse } from "../../../src/modem/at/types.ts";

const OK = { ok: true, final: "OK" };

const registered = [
  "+CSQ: 30,99",
  "+CEREG: 2,1,\"61EA\",\"A1A9566\",7",
  "+QENG: \"servingcell\",\"NOCONN\",\"LTE\",\"FDD\",250,99,A1A9566,113,550,1,3,3,61EA,-84,-11,-56,2,-",
  "+QGDCNT: 3832,4618",
  "+QTEMP: 42,38,38",
];

describe("parseAtProbe", () => {
  test("a registered EC25: every field from its own verb", () => {
    const s = parseAtProbe(registered, OK, 12);
    expect(s).toMatchObject({
      ok: true, error: null, csq: 30, rsrp: -84, rsrq: -11, rssi: -56, sinrRaw: 2, cellId: "A1A9566", registered: true,
      registration: "home", temperature: 42, bytesSent: 3832, bytesReceived: 4618, durationMs: 12,
    });
  });

  test("searching [T 09]: CSQ 99 is no reading, CEREG not registered, QENG SEARCH has no LTE values", () => {
    const s = parseAtProbe(["+CSQ: 99,99", "+CEREG: 0,2", "+QENG: \"servingcell\",\"SEARCH\"", "+QGDCNT: 0,0", "+QTEMP: 35,33,33"], OK);
    expect(s.ok).toBe(true);
    expect(s.csq).toBeNull();
    expect(s.rssi).toBeNull();
    expect(s.rsrp).toBeNull();
    expect(s.registered).toBe(false);
    expect(s.registration).toBe("searching");
    expect(s.temperature).toBe(35);
  });

  test("QTEMP refused at the end of the chain: the answers before it still count", () => {
    const s = parseAtProbe(registered.slice(0, 4), { ok: false, final: "ERROR" });
    expect(s.ok).toBe(true);
    expect(s.csq).toBe(30);
    expect(s.bytesSent).toBe(3832);
    expect(s.temperature).toBeNull();
    expect(s.error).toContain("ERROR");
  });

  test("EC200T QTEMP with 255 placeholders [T 28]: the available sensor", () => {
    expect(parseAtProbe([...registered.slice(0, 4), "+QTEMP: 38,255,255"], OK).temperature).toBe(38);
  });

  test("garbage and an empty answer: not ok, nothing invented", () => {
    for (const lines of [[], ["\u0000\u00ff+CS", "+CSQ: x,y", "NO CARRIER"]]) {
      const s = parseAtProbe(lines, { ok: false, final: "ERROR" });
      expect(s.ok).toBe(false);
      expect(s.csq).toBeNull();
      expect(s.bytesSent).toBeNull();
    }
  });
});

describe("probeAt", () => {
  test("sends ONE chained line and parses its answer", async () => {
    const ch = new FakeChannel({ [AT_PROBE_COMMAND]: { lines: registered } });
    const s = await probeAt(ch);
    expect(ch.sent.map((x) => x.command)).toEqual([AT_PROBE_COMMAND]);
    expect(s.ok).toBe(true);
    expect(s.rsrp).toBe(-84);
  });

  test("a timeout or a vanished port is a failed sample with the engine's code, never a throw", async () => {
    for (const code of ["AT_TIMEOUT", "AT_UNPLUGGED", "AT_CLOSED"]) {
      const s = await probeAt(new FakeChannel({ [AT_PROBE_COMMAND]: { error: code } }));
      expect(s.ok).toBe(false);
      expect(s.error).toContain(code);
    }
  });

  test("a hung queue: the deadline answers, onSettled fires only when the engine lets go", async () => {
    let release!: (r: AtResponse) => void;
    const ch: AtChannel = {
      send: () => new Promise<AtResponse>((resolve) => (release = resolve)),
      onUrc: () => () => {},
      onClose: () => () => {},
      close: async () => {},
    };
    let settled = false;
    const t0 = performance.now();
    const s = await probeAt(ch, { timeoutMs: 50, deadlineMs: 80, onSettled: () => (settled = true) });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.ok).toBe(false);
    expect(s.error).toContain("HEALTH_PROBE_DEADLINE");
    expect(settled).toBe(false);
    release({ command: AT_PROBE_COMMAND, lines: [], final: "OK", kind: "OK", ok: true, durationMs: 1 });
    await Bun.sleep(1);
    expect(settled).toBe(true);
  });
});
