/**
 * The OutageBuffer against a real PostgreSQL, with the outage made by a TCP relay the test cuts and restores (an
 * outage for this pool only; the shared test cluster keeps running): order under concurrency, release of callers
 * while down, overflow dropped oldest-first, counted, noted in the log where it happened and alerted, a refused
 * event that does not block the ones behind it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Sql } from "../../../src/db/client.ts";
import { OutageBuffer } from "../../../src/health/outage-buffer.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { tcpRelay, type TcpRelay } from "./tcp-relay.ts";

let db: TestDb;
let relay: TcpRelay;
let relayed: Sql;

beforeAll(async () => {
  db = await createTestDb({ prefix: "outage" });
  await db.sql`insert into nodes (id, hostname) values ('n1', 'box')`;
  const u = new URL(db.url);
  relay = await tcpRelay(Number(u.port || 5432), u.hostname);
  u.hostname = "127.0.0.1";
  u.port = String(relay.port);
  relayed = connect(u.toString(), { max: 3, connectTimeout: 2 });
}, 60_000);

afterAll(async () => {
  await relayed?.end({ timeout: 1 }).catch(() => undefined);
  relay?.down();
  await db?.drop();
});

const kinds = async (prefix: string, withDropped = false) =>
  (await db.sql`select kind, payload from modem_events where kind like ${`${prefix}%`} or (${withDropped} and kind = 'events.dropped') order by seq`)
    .map((r) => (r.kind === "events.dropped" ? { dropped: (r.payload as { dropped: number }).dropped } : (r.payload as { i: number }).i));

describe("OutageBuffer", () => {
  test("healthy: concurrent appends are written in call order and each caller gets its seq", async () => {
    const buf = new OutageBuffer({ sql: relayed, nodeId: "n1" });
    const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => buf.append({ nodeId: "n1", kind: "t1.ev", payload: { i } })));
    expect(seqs.every((s) => typeof s === "number")).toBe(true);
    expect([...seqs].sort((a, b) => a! - b!)).toEqual(seqs);
    expect(await kinds("t1.")).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(buf.stats()).toMatchObject({ written: 200, buffered: 0, outages: 0, queued: 0 });
    buf.close();
  });

  test("down: callers are released at once, the queue is written in order on reconnect", async () => {
    const buf = new OutageBuffer({ sql: relayed, nodeId: "n1", retryBaseMs: 20, retryCapMs: 100 });
    expect(await buf.append({ nodeId: "n1", kind: "t2.ev", payload: { i: 0 } })).toBeGreaterThan(0);
    relay.down();
    const t = performance.now();
    for (let i = 1; i <= 50; i++) expect(await buf.append({ nodeId: "n1", kind: "t2.ev", payload: { i } })).toBeNull();
    expect(performance.now() - t).toBeLessThan(5000);
    expect(buf.healthy()).toBe(false);
    expect(buf.stats()).toMatchObject({ queued: 50, down: true, outages: 1, dropped: 0 });
    await relay.up();
    expect(await buf.drained(20_000)).toBe(true);
    expect(buf.healthy()).toBe(true);
    expect(await kinds("t2.")).toEqual(Array.from({ length: 51 }, (_, i) => i));
    const stamped = await db.sql`select count(*)::int as n from modem_events where kind = 't2.ev' and payload ? 'bufferedAt'`;
    expect(stamped[0]!.n).toBe(50);
    buf.close();
  });

  test("a full buffer drops the oldest waiting events, counts them, notes events.dropped where they were and opens an alert", async () => {
    const buf = new OutageBuffer({ sql: relayed, nodeId: "n1", capacity: 10, retryBaseMs: 20, retryCapMs: 100 });
    expect(await buf.append({ nodeId: "n1", kind: "t3.ev", payload: { i: -1 } })).toBeGreaterThan(0);
    relay.down();
    for (let i = 0; i < 25; i++) await buf.append({ nodeId: "n1", kind: "t3.ev", payload: { i } });
    expect(buf.stats()).toMatchObject({ queued: 10, dropped: 15 });
    await relay.up();
    expect(await buf.drained(20_000)).toBe(true);
    buf.close();
    // event 0 was being written when the connection went: never dropped (it may have committed); 1-15 were the
    // oldest waiting ones; the notice sits where they were
    expect(await kinds("t3.", true)).toEqual([-1, 0, { dropped: 15 }, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    const [notice] = await db.sql`select payload from modem_events where kind = 'events.dropped'`;
    expect(notice!.payload).toMatchObject({ dropped: 15, kinds: { "t3.ev": 15 } });
    const alerts = await db.sql`select kind, severity, scope, message from alerts where dedup_key = 'events.dropped' and resolved_at is null`;
    expect(alerts.length).toBe(1);
    expect(alerts[0]).toMatchObject({ kind: "events_dropped", severity: "warning", scope: "system" });
    expect(alerts[0]!.message).toContain("15 events were dropped");
  });

  test("an event PostgreSQL refuses is rejected alone; the ones around it are written", async () => {
    const buf = new OutageBuffer({ sql: relayed, nodeId: "n1" });
    const results = await Promise.allSettled([
      buf.append({ nodeId: "n1", kind: "t4.ev", payload: { i: 1 } }),
      buf.append({ nodeId: "no-such-node", kind: "t4.ev", payload: { i: 2 } }), // foreign key violation
      buf.append({ nodeId: "n1", kind: "t4.ev", payload: { i: 3 } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await kinds("t4.")).toEqual([1, 3]);
    expect(buf.stats()).toMatchObject({ refused: 1, queued: 0 });
    buf.close();
  });
});
