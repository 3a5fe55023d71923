import { describe, expect, test, afterAll, beforeAll } from "bun:test";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { connect, type Sql } from "../../../src/db/client.ts";
import { EventStream } from "../../../src/events/event-stream.ts";
import { appendEvent, appendEvents } from "../../../src/db/queries/events.ts";

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
  await db.sql`insert into nodes (id, hostname) values ('n1', 'test')`;
});
afterAll(async () => {
  await db.drop();
});

/** Kills every backend of this database except the caller's: the listener and pool connections die mid-stream. */
async function killConnections(sql: Sql, dbName: string): Promise<number> {
  const rows = await sql`
    select pg_terminate_backend(pid) as killed from pg_stat_activity
    where datname = ${dbName} and pid <> pg_backend_pid()`;
  return rows.filter((r) => r.killed).length;
}

describe("event stream", () => {
  test("sequence numbers are gapless and commit-ordered even with a rolled-back insert", async () => {
    const a = await appendEvent(db.sql, { nodeId: "n1", kind: "test.a" });
    await db.sql.begin(async (tx) => {
      await appendEvent(tx as unknown as Sql, { nodeId: "n1", kind: "test.rolledback" });
      throw new Error("rollback");
    }).catch(() => undefined);
    const b = await appendEvent(db.sql, { nodeId: "n1", kind: "test.b" });
    expect(b).toBe(a + 1);
  });

  test("10,000 events, listener connection killed several times mid-stream: all delivered once, in order", async () => {
    const listenerSql = connect(db.url, { max: 4 });
    const stream = new EventStream(listenerSql, { pollMs: 1000 });
    await stream.start();
    const start = stream.lastSeq;
    const seen: number[] = [];
    stream.subscribe((ev) => seen.push(ev.seq));

    const writer = connect(db.url, { max: 4 });
    const killer = connect(db.url, { max: 1 });
    const total = 10_000;
    const batch = 250;
    let killed = 0;
    for (let i = 0; i < total / batch; i++) {
      const events = Array.from({ length: batch }, (_, j) => ({
        nodeId: "n1", kind: "test.bulk", payload: { i: i * batch + j },
      }));
      // Writers must survive the kill too: retry a batch whose connection was terminated (the batch is atomic).
      for (;;) {
        try {
          await appendEvents(writer, events);
          break;
        } catch {
          await Bun.sleep(20);
        }
      }
      if (i % 8 === 3) killed += await killConnections(killer, db.name);
    }
    expect(killed).toBeGreaterThan(0);
    await stream.waitFor(start + total, 60_000);
    await stream.stop();
    await Promise.all([listenerSql.end({ timeout: 2 }), writer.end({ timeout: 2 }), killer.end({ timeout: 2 })]);

    expect(seen.length).toBe(total);
    for (let i = 0; i < seen.length; i++) expect(seen[i]).toBe(start + 1 + i);
    const rows = await db.sql`select payload from modem_events where kind = 'test.bulk' order by seq`;
    expect(rows.map((r) => (r.payload as { i: number }).i)).toEqual(Array.from({ length: total }, (_, i) => i));
  }, 120_000);

  test("replays from an explicit sequence after a restart of the listener", async () => {
    const first = await appendEvent(db.sql, { nodeId: "n1", kind: "test.replay", payload: { n: 1 } });
    await appendEvent(db.sql, { nodeId: "n1", kind: "test.replay", payload: { n: 2 } });
    const stream = new EventStream(db.sql, { fromSeq: first - 1 });
    const kinds: string[] = [];
    stream.subscribe((ev) => kinds.push(`${ev.kind}:${(ev.payload as { n: number }).n}`));
    await stream.start();
    await stream.waitFor(first + 1);
    await stream.stop();
    expect(kinds).toEqual(["test.replay:1", "test.replay:2"]);
  });

  test("a throwing subscriber does not stop delivery to others", async () => {
    const stream = new EventStream(db.sql);
    await stream.start();
    const got: number[] = [];
    stream.subscribe(() => {
      throw new Error("boom");
    });
    stream.subscribe((ev) => got.push(ev.seq));
    const seq = await appendEvent(db.sql, { nodeId: "n1", kind: "test.throw" });
    await stream.waitFor(seq);
    await stream.stop();
    expect(got).toEqual([seq]);
  });

  test("reads do not queue behind the pool: delivery while every pool connection is busy", async () => {
    const pool = connect(db.url, { max: 1 });
    const stream = new EventStream(pool, { pollMs: 60_000 });
    await stream.start();
    const got: number[] = [];
    stream.subscribe((e) => got.push(e.seq));
    // the pool's only connection is busy for 5 s; postgres.js would pipeline a pool read behind it
    const busy = pool`select pg_sleep(5)`.then(() => Date.now());
    await Bun.sleep(100);
    const seq = await appendEvent(db.sql, { nodeId: "n1", kind: "test.busy-pool" });
    const deadline = Date.now() + 4000;
    while (!got.includes(seq) && Date.now() < deadline) await Bun.sleep(10);
    const deliveredWhileBusy = [...got];
    const deliveredAt = Date.now();
    const busyUntil = await busy;
    await stream.stop();
    await pool.end({ timeout: 2 });
    expect(deliveredWhileBusy).toEqual([seq]);
    expect(deliveredAt).toBeLessThan(busyUntil);
  }, 20_000);

  test("state changes on modems NOTIFY only the id", async () => {
    const payloads: string[] = [];
    const sub = await db.sql.listen("lteproxy_modems", (p) => payloads.push(p));
    const rows = await db.sql`insert into modems (node_id, imei) values ('n1', '860000000000001') returning id`;
    await db.sql`update modems set state = 'identifying' where id = ${rows[0]!.id}`;
    await db.sql`update modems set operator = 'x' where id = ${rows[0]!.id}`;
    const deadline = Date.now() + 5000;
    while (payloads.length < 2 && Date.now() < deadline) await Bun.sleep(20);
    await sub.unlisten();
    expect(payloads).toEqual([String(rows[0]!.id), String(rows[0]!.id)]);
  });
});
