import { describe, expect, test } from "bun:test";
import { DEFAULT_TIMEOUTS, timeoutFor, timeoutTable } from "../../../src/modem/at/timeouts.ts";
import { AtMetrics, LATENCY_BUCKETS_MS } from "../../../src/modem/at/metrics.ts";

describe("timeout table (ec25.md §3.7)", () => {
  test.each([
    ["AT+CSQ", DEFAULT_TIMEOUTS.defaultMs],
    ["AT+CPIN?", 5_000],
    ["AT+CFUN=1", 15_000],
    ["AT+CFUN?", 3_000],
    ["at+cops=?", 180_000],
    ["AT+COPS=1,2,\"50501\"", 180_000],
    ["AT+COPS?", DEFAULT_TIMEOUTS.defaultMs],
    ["AT+CGATT=1", 140_000],
    ["AT+CGACT=1,1", 150_000],
    ["AT+QIACT=1", 150_000],
    ["AT+CMGS=\"+15551230000\"", 120_000],
    ["AT+CUSD=1,\"*100#\",15", 30_000],
  ])("%s → %d ms", (command, ms) => {
    expect(timeoutFor(command)).toBe(ms);
  });

  test("the default is a generous multiple of the 300 ms class", () => {
    expect(DEFAULT_TIMEOUTS.defaultMs).toBeGreaterThanOrEqual(1000);
  });

  test("overrides replace by prefix and add rules; the default can change", () => {
    const t = timeoutTable({ defaultMs: 500, rules: [{ prefix: "at+cfun", ms: 20_000 }, { prefix: "AT+QTEMP", ms: 900 }] });
    expect(timeoutFor("AT+CSQ", t)).toBe(500);
    expect(timeoutFor("AT+CFUN=0", t)).toBe(20_000);
    expect(timeoutFor("AT+QTEMP", t)).toBe(900);
    expect(timeoutFor("AT+COPS=?", t)).toBe(180_000);
  });
});

describe("AtMetrics", () => {
  test("counts outcomes per verb and fills cumulative latency buckets", () => {
    const m = new AtMetrics();
    m.record("AT+CSQ", "ok", 7);
    m.record("AT+CSQ", "ok", 300);
    m.record("AT+CSQ", "error", 40);
    m.record("AT+CSQ", "timeout", 3000);
    m.record("AT+COPS", "echo_only", 3000);
    const s = m.snapshot({ queueDepth: 0, inFlight: null, open: true });
    const csq = s.commands["AT+CSQ"]!;
    expect([csq.count, csq.ok, csq.errors, csq.timeouts]).toEqual([4, 2, 1, 1]);
    expect(csq.latency.infCount).toBe(3);
    expect(csq.latency.sumMs).toBe(347);
    const at = (le: number) => csq.latency.counts[LATENCY_BUCKETS_MS.indexOf(le as never)];
    expect([at(10), at(50), at(250), at(500)]).toEqual([1, 2, 2, 3]);
    expect(s.commands["AT+COPS"]!.echoOnly).toBe(1);
    expect(s.echoOnly).toBe(1);
    expect(s.consecutiveTimeouts).toBe(2);
    m.record("AT", "ok", 1);
    expect(m.snapshot({ queueDepth: 0, inFlight: null, open: true }).consecutiveTimeouts).toBe(0);
  });

  test("a snapshot is a copy", () => {
    const m = new AtMetrics();
    m.record("AT", "ok", 1);
    const s = m.snapshot({ queueDepth: 0, inFlight: null, open: true });
    m.record("AT", "ok", 1);
    expect(s.commands.AT!.count).toBe(1);
    expect(JSON.parse(JSON.stringify(s)).commands.AT.count).toBe(1);
  });
});
