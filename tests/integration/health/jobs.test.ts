/** The named-jobs registry on a real PostgreSQL: croner schedules, job_runs, run on demand, intervals at run time. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { JobRegistry } from "../../../src/jobs/registry.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

let db: TestDb;
const NODE = "jobs-node";
const actor = { userId: null, username: "tester", role: "admin" as const, via: "session" as const, ip: null };

beforeAll(async () => {
  db = await createTestDb({ prefix: "jobs" });
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe("JobRegistry", () => {
  test("schedules, records every run in job_runs, lists last run and next run; failures are recorded, not fatal", async () => {
    // A run a crashed process left open is closed at start.
    await db.sql`insert into job_runs (node_id, job_id, started_at) values (${NODE}, 't.tick', now() - interval '1 hour')`;
    const reg = new JobRegistry({ sql: db.sql, nodeId: NODE });
    let ticks = 0;
    let failures = 0;
    reg.register({ id: "t.tick", description: "counts", everySeconds: () => 1, run: async () => `tick ${++ticks}` });
    reg.register({ id: "t.fail", description: "throws", cron: "* * * * * *", run: async () => { failures++; throw new Error("disk on fire"); } });
    await reg.start();
    try {
      // run() counts before the registry records the run: wait for the records, not the counters
      const recorded = (id: string) => reg.list().find((j) => j.id === id)?.lastRun ?? null;
      await until("two ticks and a failure", () => ticks >= 2 && failures >= 1 && recorded("t.fail") !== null && recorded("t.tick") !== null, 5000);
      const list = reg.list();
      const tick = list.find((j) => j.id === "t.tick")!;
      expect(tick.schedule).toBe("every 1 s");
      expect(tick.nextRunAt).toBeInstanceOf(Date);
      expect(tick.lastRun?.result).toMatch(/^tick \d+$/);
      const fail = list.find((j) => j.id === "t.fail")!;
      expect(fail.schedule).toBe("* * * * * *");
      expect(fail.lastRun).toMatchObject({ result: "ERROR", error: "disk on fire" });
      await reg.stop(); // lets a run in progress finish its job_runs row
      const rows = await db.sql`select job_id, result, error, duration_ms, finished_at from job_runs where node_id = ${NODE} order by id`;
      expect(rows[0]).toMatchObject({ job_id: "t.tick", result: "ABANDONED" });
      expect(rows.filter((r) => r.job_id === "t.tick" && /^tick/.test(r.result as string)).length).toBe(ticks);
      expect(rows.some((r) => r.job_id === "t.fail" && r.result === "ERROR" && r.error === "disk on fire")).toBe(true);
      expect(rows.filter((r) => r.result !== "ABANDONED").every((r) => r.finished_at !== null && (r.duration_ms as number) >= 0)).toBe(true);
    } finally {
      await reg.stop();
    }
    const after = ticks;
    await Bun.sleep(1500);
    expect(ticks).toBe(after);
  }, 15_000);

  test("runNow waits for the run, joins a running one, refuses unknown ids; ids and specs are checked", async () => {
    const reg = new JobRegistry({ sql: db.sql, nodeId: NODE });
    let runs = 0;
    reg.register({ id: "t.slow", description: "slow", cron: "0 0 1 1 *", run: async () => { runs++; await Bun.sleep(200); return "done"; } });
    expect(() => reg.register({ id: "t.slow", description: "again", cron: "0 0 1 1 *", run: async () => {} })).toThrow(/registered already/);
    expect(() => reg.register({ id: "Bad Id", description: "", cron: "* * * * *", run: async () => {} })).toThrow(/bad job id/);
    expect(() => reg.register({ id: "t.both", description: "", run: async () => {} })).toThrow(/exactly one/);
    expect(() => reg.register({ id: "t.badcron", description: "", cron: "every tuesday", run: async () => {} })).toThrow(/bad cron pattern/);
    await reg.start();
    try {
      await Promise.all([reg.runNow("t.slow", actor), reg.runNow("t.slow", actor)]);
      expect(runs).toBe(1);
      expect(reg.list()[0]!.lastRun?.result).toBe("done");
      expect(reg.list()[0]!.lastRun?.durationMs).toBeGreaterThanOrEqual(150);
      await expect(reg.runNow("t.none", actor)).rejects.toThrow(/no job/);
    } finally {
      await reg.stop();
    }
  });

  test("an interval read from settings at every run; setInterval changes it at once", async () => {
    const reg = new JobRegistry({ sql: db.sql, nodeId: NODE });
    let interval = 30;
    reg.register({ id: "t.sweep", description: "", everySeconds: () => interval, run: async () => "ok" });
    await reg.start();
    try {
      expect(reg.list()[0]!.schedule).toBe("every 30 s");
      interval = 45;
      await reg.runNow("t.sweep", actor);
      expect(reg.list()[0]!.schedule).toBe("every 45 s");
      await reg.setInterval("t.sweep", 60);
      expect(reg.list()[0]!.schedule).toBe("every 60 s");
      await expect(reg.setInterval("t.sweep", 0)).rejects.toThrow(/interval/);
    } finally {
      await reg.stop();
    }
  });
});
