/** connection_log retention on a real PostgreSQL: age boundary, node scope, bounded batches, bad input. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { deleteOldConnectionLogs } from "../../../src/db/queries/retention.ts";
import { hasCode } from "../../../src/lib/errors.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

let db: TestDb;

beforeAll(async () => {
  db = await createTestDb({ prefix: "retention" });
}, 60_000);
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`truncate connection_log`;
});

/** `n` rows of `node`, each `ageHours` old. */
async function seed(node: string, ageHours: number, n: number): Promise<void> {
  await db.sql`
    insert into connection_log (node_id, port, ts, client_ip, target_host, target_port, result)
    select ${node}, 30000 + g, now() - make_interval(hours => ${ageHours}), '10.0.0.1', 'example.test', 443, 'ok'
    from generate_series(1, ${n}) g`;
}

const count = async (where: "old" | "all", node?: string) =>
  Number((await db.sql`
    select count(*)::int as n from connection_log
    where ${where === "old" ? db.sql`ts < now() - interval '30 days'` : db.sql`true`}
      and ${node ? db.sql`node_id = ${node}` : db.sql`true`}`)[0]!.n);

describe("deleteOldConnectionLogs", () => {
  test("rows older than the limit go, younger ones stay (to the hour)", async () => {
    await seed("a", 31 * 24, 5);
    await seed("a", 29 * 24 + 23, 4); // an hour short of 30 days: stays
    await seed("a", 1, 3);
    expect(await deleteOldConnectionLogs(db.sql, 30)).toBe(5);
    expect(await count("all")).toBe(7);
    expect(await deleteOldConnectionLogs(db.sql, 30)).toBe(0);
    expect(await deleteOldConnectionLogs(db.sql, 29)).toBe(4);
    expect(await count("all")).toBe(3);
  });

  test("nodeId limits the delete to that node's rows; without it every node is pruned", async () => {
    await seed("a", 40 * 24, 6);
    await seed("b", 40 * 24, 4);
    expect(await deleteOldConnectionLogs(db.sql, 30, { nodeId: "a" })).toBe(6);
    expect(await count("old", "a")).toBe(0);
    expect(await count("old", "b")).toBe(4);
    expect(await deleteOldConnectionLogs(db.sql, 30)).toBe(4);
    expect(await count("all")).toBe(0);
  });

  test("batches: no statement deletes more than `batch` rows; maxBatches leaves the rest for the next run", async () => {
    await seed("a", 40 * 24, 50);
    await seed("a", 2, 5);
    expect(await deleteOldConnectionLogs(db.sql, 30, { batch: 7, maxBatches: 2 })).toBe(14);
    expect(await count("old")).toBe(36);
    // 36 = 5 full batches of 7 and one of 1: the loop ends on the short batch.
    expect(await deleteOldConnectionLogs(db.sql, 30, { batch: 7 })).toBe(36);
    expect(await count("old")).toBe(0);
    expect(await count("all")).toBe(5);
  });

  test("each batch commits on its own: another connection sees the table shrink while the run pauses", async () => {
    await seed("a", 40 * 24, 30);
    const seen = new Set<number>();
    let done = false;
    const run = deleteOldConnectionLogs(db.sql, 30, { batch: 10, pauseMs: 400 }).finally(() => {
      done = true;
    });
    while (!done) {
      seen.add(await count("old"));
      await Bun.sleep(25);
    }
    expect(await run).toBe(30);
    // 20 or 10 left: a batch was committed while later ones had not run (one long transaction shows only 30 and 0).
    expect([...seen].some((n) => n === 20 || n === 10)).toBe(true);
  });

  test("a retention that is not a whole number of days ≥ 1 is refused and deletes nothing", async () => {
    await seed("a", 40 * 24, 3);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const err = await deleteOldConnectionLogs(db.sql, bad).catch((e: unknown) => e);
      expect(hasCode(err, "RETENTION_DAYS_INVALID")).toBe(true);
    }
    const err = await deleteOldConnectionLogs(db.sql, 30, { batch: 0 }).catch((e: unknown) => e);
    expect(hasCode(err, "RETENTION_BATCH_INVALID")).toBe(true);
    expect(await count("all")).toBe(3);
  });
});

describe("deleteOldEvents and deleteOldAudit", () => {
  test("the event log loses a prefix: everything up to the last event before the cutoff; the rest stays gapless", async () => {
    const { appendEvents } = await import("../../../src/db/queries/events.ts");
    const { deleteOldEvents } = await import("../../../src/db/queries/retention.ts");
    await db.sql`insert into nodes (id, hostname) values ('r1', 'retention') on conflict do nothing`;
    await appendEvents(db.sql, Array.from({ length: 12 }, (_, i) => ({ nodeId: "r1", kind: "test.retention", payload: { i } })));
    const seqs = (await db.sql`select seq from modem_events where kind = 'test.retention' order by seq`).map((r) => Number(r.seq));
    // the first 8 are 40 days old, except the 6th, which is younger (created late, committed in order)
    await db.sql`update modem_events set created_at = now() - interval '40 days' where seq = any(${seqs.slice(0, 8)}::bigint[])`;
    await db.sql`update modem_events set created_at = now() - interval '1 day' where seq = ${seqs[5]!}`;
    const before = Number((await db.sql`select count(*)::int as n from modem_events`)[0]!.n);
    const deleted = await deleteOldEvents(db.sql, 30, { batch: 3 });
    const [after] = await db.sql`select count(*)::int as n, min(seq)::bigint as min, max(seq)::bigint as max from modem_events`;
    expect(deleted).toBe(before - after!.n);
    expect(Number(after!.min)).toBe(seqs[8]!); // a prefix: the younger 6th went with the older ones around it
    expect(after!.n).toBe(Number(after!.max) - Number(after!.min) + 1);
    expect(await deleteOldEvents(db.sql, 30)).toBe(0);
    await expect(deleteOldEvents(db.sql, 0)).rejects.toThrow(/whole number of days/);
  });

  test("audit rows of the node and security events older than the limit go", async () => {
    const { deleteOldAudit } = await import("../../../src/db/queries/retention.ts");
    await db.sql`delete from audit_log`;
    await db.sql`delete from security_events`;
    await db.sql`insert into audit_log (ts, node_id, actor, action) values
      (now() - interval '40 days', 'a', 'x', 'old-a'), (now() - interval '40 days', 'b', 'x', 'old-b'), (now(), 'a', 'x', 'new-a')`;
    await db.sql`insert into security_events (ts, kind) values (now() - interval '40 days', 'login_failed'), (now(), 'login_failed')`;
    expect(await deleteOldAudit(db.sql, 30, { nodeId: "a" })).toEqual({ audit: 1, security: 1 });
    expect((await db.sql`select action from audit_log order by action`).map((r) => r.action)).toEqual(["new-a", "old-b"]);
    expect(Number((await db.sql`select count(*)::int as n from security_events`)[0]!.n)).toBe(1);
  });
});
