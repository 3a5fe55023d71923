/**
 * Hub failure detection rules on a real PostgreSQL (events), with an in-memory modem table: K vanishes of one hub
 * within T open one incident; fewer, slower, other hubs' or our own (reboot, USB reset) do not. The lab test
 * (heal-lab.test.ts) drops a real simulated hub.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HubWatcher } from "../../../src/health/hub-watch.ts";
import type { AlertSpec } from "../../../src/health/alert-rules.ts";
import type { HealLadder } from "../../../src/health/heal-ladder.ts";
import type { ModemState } from "../../../src/db/queries/modem-state.ts";
import type { ManagedModem } from "../../../src/modem/manager.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const NODE = "hub-node";
let db: TestDb;
beforeAll(async () => {
  db = await createTestDb({ prefix: "hubs" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'h')`;
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

function setup() {
  const states = new Map<number, ModemState>();
  const hubOf = (id: number) => (id < 10 ? "1-1" : "1-2");
  const raised: AlertSpec[] = [];
  const cleared: string[] = [];
  const healed: number[] = [];
  const w = new HubWatcher({
    sql: db.sql, nodeId: NODE, hubOf, sysfsRoot: "/nonexistent",
    modems: { get: (id) => (states.has(id) ? ({ id, state: states.get(id) } as ManagedModem) : undefined) },
    ladder: { heal: async (id: number) => { healed.push(id); states.set(id, "online"); return { modemId: id, result: "recovered", attempts: 1, durationMs: 0, detail: "" }; } } as unknown as HealLadder,
    alerts: { raise: async (a) => void raised.push(a), clear: async (k) => void cleared.push(k) },
  }, { minModems: 3, windowMs: 150, graceMs: 100, pollMs: 20, settleMs: 100, resetHoldMs: 1 });
  const vanish = (id: number, from: ModemState = "online") => {
    states.set(id, "unplugged");
    w.onTransition(id, from, "unplugged");
  };
  return { w, states, raised, cleared, healed, vanish };
}

describe("HubWatcher", () => {
  test("2 of a hub, or 3 spread over more than T, or 3 across hubs: no incident", async () => {
    const { w, vanish } = setup();
    vanish(1);
    vanish(2);
    vanish(11);
    expect(w.open()).toEqual([]);
    await Bun.sleep(200);
    vanish(3);
    expect(w.open()).toEqual([]);
    await w.stop();
  });

  test("our own vanishes (from healing or rotating, or announced) do not count", async () => {
    const { w, vanish } = setup();
    vanish(1, "healing");
    vanish(2, "rotating");
    w.expectVanish(3, 10_000);
    vanish(3);
    vanish(4);
    expect(w.open()).toEqual([]);
    await w.stop();
  });

  test("3 within T: one incident naming every modem that went within the window, one alert; it closes when all are back", async () => {
    const { w, states, raised, cleared, healed, vanish } = setup();
    vanish(1);
    vanish(2);
    vanish(3);
    expect(w.open().map((i) => i.hub)).toEqual(["1-1"]);
    expect(w.covers(2)).toBe(true);
    expect(w.covers(11)).toBe(false);
    vanish(4);
    await Bun.sleep(300);
    expect(raised.length).toBe(1);
    expect(raised[0]).toMatchObject({ kind: "hub.down", hub: "1-1", dedupKey: "hub:1-1:down" });
    expect(((raised[0]!.details as { modemIds: number[] }).modemIds).sort()).toEqual([1, 2, 3, 4]);
    // back: three online at once, one stuck registered → the batch heals that one (alone), then closes
    for (const id of [1, 2, 3]) states.set(id, "online");
    states.set(4, "registered");
    const deadline = Date.now() + 5000;
    // the alert is cleared asynchronously after the incident closes: wait for both
    while ((w.open().length || cleared.length === 0) && Date.now() < deadline) await Bun.sleep(20);
    expect(w.open()).toEqual([]);
    expect(healed).toEqual([4]);
    expect(cleared).toEqual(["hub:1-1:down"]);
    const ev = await db.sql`select kind, payload from modem_events where node_id = ${NODE} order by seq`;
    const kinds = ev.map((e) => (e.kind === "heal.step" ? `heal.step:${(e.payload as { step: string }).step}` : e.kind));
    expect(kinds[0]).toBe("hub.down");
    expect(kinds.at(-1)).toBe("hub.up");
    // the hub was not in sysfs: the reset attempt is recorded as failed, not thrown
    expect(kinds).toContain("heal.step:hub-reset");
    await w.stop();
  });
});
