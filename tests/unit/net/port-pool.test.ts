import { describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { hasCode } from "../../../src/lib/errors.ts";
import { allocate, probePortFree, type PortAssignment } from "../../../src/net/port-pool.ts";

const range = { ports: { min: 5000, max: 5004 }, tables: { min: 100, max: 102 } };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  throw new Error("expected a rejection");
}

describe("allocate", () => {
  test("first IMEI gets the lowest port and table", async () => {
    const r = await allocate({ imei: "A", existing: [], range });
    expect(r).toEqual({ assignment: { imei: "A", port: 5000, table: 100 }, reused: false, skippedPorts: [] });
  });

  test("stable: an IMEI that has an assignment gets it back, without probing", async () => {
    const existing: PortAssignment[] = [{ imei: "A", port: 5003, table: 101 }];
    let probed = 0;
    const r = await allocate({ imei: "A", existing, range, probe: async () => { probed++; return false; } });
    expect(r).toEqual({ assignment: { imei: "A", port: 5003, table: 101 }, reused: true, skippedPorts: [] });
    expect(probed).toBe(0);
  });

  test("fills gaps left by other IMEIs; ports and tables are independent", async () => {
    const existing = [{ imei: "A", port: 5000, table: 101 }, { imei: "B", port: 5002, table: 100 }];
    const r = await allocate({ imei: "C", existing, range });
    expect(r.assignment).toEqual({ imei: "C", port: 5001, table: 102 });
  });

  test("a port held by another process is skipped and reported, not taken", async () => {
    const held = new Set([5000, 5001]);
    const probed: number[] = [];
    const r = await allocate({ imei: "A", existing: [], range, probe: async (p) => { probed.push(p); return !held.has(p); } });
    expect(r.assignment.port).toBe(5002);
    expect(r.skippedPorts).toEqual([5000, 5001]);
    expect(probed).toEqual([5000, 5001, 5002]);
  });

  test("exhausted tables or ports give POOL_EXHAUSTED", async () => {
    const fullTables = [100, 101, 102].map((t, i) => ({ imei: `X${i}`, port: 5000 + i, table: t }));
    const e1 = await rejection(allocate({ imei: "N", existing: fullTables, range }));
    expect(hasCode(e1, "POOL_EXHAUSTED")).toBe(true);
    const e2 = await rejection(allocate({ imei: "N", existing: [], range, probe: async () => false }));
    expect(hasCode(e2, "POOL_EXHAUSTED")).toBe(true);
    expect((e2 as { details?: { skippedPorts?: number[] } }).details?.skippedPorts).toEqual([5000, 5001, 5002, 5003, 5004]);
  });

  test("bad input is a clear error", async () => {
    expect(hasCode(await rejection(allocate({ imei: "", existing: [], range })), "POOL_INVALID_IMEI")).toBe(true);
    const bad = { ports: { min: 10, max: 5 }, tables: range.tables };
    expect(hasCode(await rejection(allocate({ imei: "A", existing: [], range: bad })), "POOL_RANGE_INVALID")).toBe(true);
  });
});

describe("probePortFree", () => {
  test("false while another socket listens, true after it closes", async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await probePortFree(port, "127.0.0.1")).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await probePortFree(port, "127.0.0.1")).toBe(true);
  });

  test("an unusable host is an error, not a false 'held'", async () => {
    expect(hasCode(await rejection(probePortFree(4000, "203.0.113.77")), "PORT_PROBE_FAILED")).toBe(true);
  });
});
