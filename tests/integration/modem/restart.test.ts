/**
 * State lives in PostgreSQL: a control-plane restart adopts present modems (no detected/identifying round trip,
 * data-plane states kept), marks absent ones unplugged, and a second manager for the same node is refused.
 * Also the onRegistered hook that the data plane plugs in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ManagedModem, ModemManager } from "../../../src/modem/manager.ts";
import type { SimLab } from "../../../src/sim/lab.ts";
import { chained, modemRow, startRig, stateEvents, until, type Rig } from "./helpers.ts";

const N = 6;
let rig: Rig;
let lab: SimLab;
/** The manager after the restart (used by the later tests of the first describe). */
let second: ModemManager;

beforeAll(async () => {
  rig = await startRig();
  lab = await rig.startLab({ modems: N, seed: 31 });
}, 30_000);
afterAll(async () => rig?.stop());

const imeiOf = (i: number) => lab.modems[i]!.identity.imei;

/** What issue 5's wiring will do: connecting, data call, online. */
function dataPlaneHook(manager: () => ModemManager, calls: Array<{ imei: string; adopted: boolean; state: string }>) {
  return async (m: ManagedModem, ctx: { adopted: boolean }) => {
    calls.push({ imei: m.imei, adopted: ctx.adopted, state: m.state });
    if (ctx.adopted && m.state === "online") return; // data plane still running: nothing to redo
    await manager().setState(m.id, "connecting", "starting data call");
    await Bun.sleep(5);
    await manager().setState(m.id, "online", "data call up");
  };
}

describe("onRegistered hook and restart", () => {
  let first: ModemManager;
  const calls1: Array<{ imei: string; adopted: boolean; state: string }> = [];

  test("the hook takes registered modems to online through connecting", async () => {
    first = rig.newManager(lab.info, { onRegistered: dataPlaneHook(() => first, calls1) });
    await first.start();
    await until(() => first.list().filter((m) => m.state === "online").length === N, "all online");
    expect(calls1.every((c) => !c.adopted)).toBe(true);
    const events = await stateEvents(rig.sql, first.get(imeiOf(0))!.id);
    expect(chained(events)).toBe(true);
    expect(events.slice(-3).map((e) => e.to)).toEqual(["registered", "connecting", "online"]);
  });

  test("a second manager for the same node is refused while the first runs", async () => {
    const second = rig.newManager(lab.info, { lockWaitMs: 300 });
    const err = await second.start().catch((e) => e);
    expect(err.code).toBe("MODEM_NODE_BUSY");
  });

  test("after a restart present modems are adopted as they were; an absent one becomes unplugged", async () => {
    await rig.sql`update modems set proxy_port = 3200 + id, route_table = 200 + id`;
    const before = await rig.sql`select id, imei, state, proxy_port, route_table from modems order by id`;
    const seqBefore = Number((await rig.sql`select seq from event_counter`)[0]!.seq);
    await first.stop();
    // States are left as they were: stopping is not unplugging.
    expect((await rig.sql`select count(*)::int as n from modems where state = 'online'`)[0]!.n).toBe(N);
    await lab.ctl("5", "unplug"); // goes away while no control plane runs
    const calls2: Array<{ imei: string; adopted: boolean; state: string }> = [];
    second = rig.newManager(lab.info, { onRegistered: dataPlaneHook(() => second, calls2) });
    await second.start();
    await until(() => calls2.length === N - 1, "hook called for the 5 present modems");
    await until(() => second.get(imeiOf(5))?.state === "unplugged", "absent modem unplugged");
    const after = await rig.sql`select id, imei, state, proxy_port, route_table from modems order by id`;
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    for (const r of after) {
      const b = before.find((x) => x.id === r.id)!;
      expect([r.proxy_port, r.route_table]).toEqual([b.proxy_port, b.route_table]);
      expect(r.state).toBe(r.imei === imeiOf(5) ? "unplugged" : "online");
    }
    expect(calls2.every((c) => c.adopted && c.state === "online")).toBe(true);
    // No modem looked new: no detected/identifying events since the restart, only modem 5's unplug.
    const since = await rig.sql`select modem_id, payload from modem_events where seq > ${seqBefore} and kind = 'modem.state' order by seq`;
    expect(since.map((e) => (e.payload as { to: string }).to)).toEqual(["unplugged"]);
    expect((since[0]!.payload as { reason: string }).reason).toMatch(/not present/);
  });

  test("the modem that came back while we were down is a normal replug", async () => {
    await lab.ctl("5", "replug");
    const row = (await modemRow(rig.sql, "node-a", imeiOf(5)))!;
    await until(async () => (await modemRow(rig.sql, "node-a", imeiOf(5)))!.state === "online", "modem 5 online again");
    const events = await stateEvents(rig.sql, Number(row.id));
    expect(chained(events)).toBe(true);
    const tail = events.slice(events.findLastIndex((e) => e.to === "unplugged")).map((e) => e.to).filter((s) => s !== "searching");
    expect(tail).toEqual(["unplugged", "identifying", "registered", "connecting", "online"]);
  });

  test("losing registration takes an online modem out of online", async () => {
    await lab.ctl("2", "no-service");
    await until(async () => (await modemRow(rig.sql, "node-a", imeiOf(2)))!.state === "searching", "modem 2 searching");
    await lab.ctl("2", "service");
    await until(async () => (await modemRow(rig.sql, "node-a", imeiOf(2)))!.state === "online", "modem 2 online again");
  });
});

describe("a modem hung across a restart", () => {
  test("is degraded after the start-up grace, and recovers when it answers again", async () => {
    await second.stop();
    const m1 = rig.newManager(lab.info, { onRegistered: async () => undefined });
    await m1.start();
    await until(() => m1.get(imeiOf(1))?.present === true, "modem 1 present");
    await m1.stop();
    await lab.ctl("1", "hang");
    const m2 = rig.newManager(lab.info, { startupGraceMs: 800 });
    await m2.start();
    await until(() => m2.get(imeiOf(1))?.state === "degraded", "modem 1 degraded after the grace period", 10_000);
    expect(m2.get(imeiOf(1))!.stateReason).toMatch(/has not answered/);
    expect(m2.get(imeiOf(0))!.state).not.toBe("degraded");
    await lab.ctl("1", "clear");
    await until(() => m2.get(imeiOf(1))?.state === "registered", "modem 1 recovered", 15_000);
    await m2.stop();
  }, 30_000);
});
