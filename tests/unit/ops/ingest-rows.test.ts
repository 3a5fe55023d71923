/** Pure parts of the telemetry ingest: spool lines → rows, host:port splitting, counter deltas across restarts. */
import { describe, expect, test } from "bun:test";
import { counterDeltas } from "../../../src/proxy/ingest/port-counters.ts";
import { rowFromSpoolLine, splitHostPort } from "../../../src/proxy/ingest/rows.ts";

describe("splitHostPort", () => {
  const cases: Array<[string, ReturnType<typeof splitHostPort>]> = [
    ["1.2.3.4:80", { host: "1.2.3.4", port: 80 }],
    ["[2001:db8::1]:443", { host: "2001:db8::1", port: 443 }],
    ["example.org:8080", { host: "example.org", port: 8080 }],
    ["example.org", null],
    ["2001:db8::1", null],
    ["host:99999", null],
    ["", null],
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => expect(splitHostPort(input)).toEqual(want));
});

describe("rowFromSpoolLine", () => {
  const ok = { ts: "2026-11-25T10:00:00.000Z", port: 3128, portId: "866000000000001", client: "192.168.1.5:50000", user: "u1",
    target: "example.org:443", proto: "connect", up: 100, down: 2000, ms: 1234.4, result: "ok", status: 200 };
  const modemFor = (imei: string) => (imei === "866000000000001" ? 42 : undefined);

  test("a complete entry", () => {
    expect(rowFromSpoolLine(JSON.stringify(ok), "n1", modemFor)).toEqual({
      node_id: "n1", modem_id: 42, imei: "866000000000001", port: 3128, ts: new Date(ok.ts), client_ip: "192.168.1.5", client_port: 50000,
      username: "u1", target_host: "example.org", target_port: 443, bytes_up: 100, bytes_down: 2000, duration_ms: 1234, result: "ok", engine: "builtin",
    });
  });

  test("unknown modem, no target, an unparsable client: kept with nulls", () => {
    const r = rowFromSpoolLine(JSON.stringify({ ...ok, portId: "lab-1", target: null, client: "??", user: null }), "n1", modemFor);
    expect(r).toMatchObject({ modem_id: null, imei: "lab-1", target_host: null, target_port: null, client_ip: null, client_port: null, username: null });
  });

  test("unusable lines say why", () => {
    const bad: Array<[unknown, string]> = [
      ["{", "not JSON"], [[1], "not a JSON object"], [{ ...ok, ts: "x" }, "bad ts"], [{ ...ok, port: 70000 }, "bad port"],
      [{ ...ok, portId: 5 }, "bad portId"], [{ ...ok, result: "" }, "bad result"], [{ ...ok, down: "9" }, "bad byte counts"],
      [{ ...ok, up: Number.NaN }, "bad byte counts"], [{ ...ok, user: 7 }, "bad user"],
    ];
    for (const [value, why] of bad) {
      expect(rowFromSpoolLine(typeof value === "string" ? value : JSON.stringify(value), "n1", modemFor)).toBe(why);
    }
  });
});

describe("counterDeltas", () => {
  const sample = (startedAt: string, up: number, down: number) => ({
    startedAt, ports: [{ id: "A", port: 3128, bytesUp: up, bytesDown: down }, { id: "B", port: 3129, bytesUp: 0, bytesDown: 0 }],
  });

  test("first sample counts everything; the next one the difference; idle ports add nothing", () => {
    const first = counterDeltas(sample("t1", 10, 100), undefined);
    expect(first.deltas).toEqual([{ imei: "A", up: 10, down: 100 }]);
    const second = counterDeltas(sample("t1", 15, 160), first.next);
    expect(second.deltas).toEqual([{ imei: "A", up: 5, down: 60 }]);
    expect(counterDeltas(sample("t1", 15, 160), second.next).deltas).toEqual([]);
  });

  test("a new engine (startedAt) or a counter that went backwards (port re-created) counts from zero", () => {
    const base = counterDeltas(sample("t1", 500, 5000), undefined).next;
    expect(counterDeltas(sample("t2", 3, 30), base).deltas).toEqual([{ imei: "A", up: 3, down: 30 }]);
    expect(counterDeltas(sample("t1", 3, 30), base).deltas).toEqual([{ imei: "A", up: 3, down: 30 }]);
  });
});
