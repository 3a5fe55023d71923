/**
 * Issue 4 acceptance: 30 simulated modems started before or after the manager all reach `registered` with the
 * right IMEI, ICCID, operator and signal in PostgreSQL, each state change in modem_events, in order.
 */
import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import type { SimLab } from "../../../src/sim/lab.ts";
import { csqIndex } from "../../../src/sim/modem/radio.ts";
import type { ModemManager } from "../../../src/modem/manager.ts";
import { chained, iccidDigits, modemRow, startRig, stateEvents, until, type Rig } from "./helpers.ts";

const N = 30;

async function expectFleetRegistered(rig: Rig, lab: SimLab, manager: ModemManager, nodeId: string): Promise<void> {
  await until(() => manager.list().filter((m) => m.state === "registered").length === N,
    () => `all ${N} registered (have ${manager.list().map((m) => m.state).join(",")})`, 30_000);
  // Radio columns are written by the poll that moved the state; one more poll settles any still in flight.
  await until(async () => Number((await rig.sql`select count(*)::int as n from modems where node_id = ${nodeId} and rsrp is not null and iccid is not null`)[0]!.n) === N, "radio columns", 10_000);
  for (const m of lab.modems) {
    const row = (await modemRow(rig.sql, nodeId, m.identity.imei))!;
    expect(row).toBeDefined();
    const net = m.identity.network;
    expect(row).toMatchObject({
      imei: m.identity.imei, iccid: iccidDigits(m.identity.sim.iccid), imsi: m.identity.sim.imsi, state: "registered",
      operator: net.longName, operator_code: `${net.mcc}${net.mnc}`, rat: "LTE", model: "EC25", manufacturer: "Quectel",
      rsrp: m.radio.signal.rsrp, rsrq: m.radio.signal.rsrq, csq: csqIndex(m.radio.signal.rssi),
      slot: m.topology.slot, usb_device: m.topology.usbDev, hub: `1-${m.topology.hub}`, ifname: m.enumeration!.ifname,
      at_path: path.join(lab.info.deviceDir, m.topology.slot, "at"),
    });
    const events = await stateEvents(rig.sql, Number(row.id));
    expect(chained(events)).toBe(true);
    expect(events[0]!.to).toBe("detected");
    expect(events.at(-1)!.to).toBe("registered");
    expect(events.map((e) => e.to)).toContain("identifying");
  }
  expect(Number((await rig.sql`select count(*)::int as n from modems where node_id = ${nodeId}`)[0]!.n)).toBe(N);
}

describe(`${N} modems`, () => {
  let rig: Rig;
  afterAll(async () => rig?.stop());

  test("lab first, then the manager", async () => {
    rig = await startRig(["node-a", "node-b"]);
    const lab = await rig.startLab({ modems: N, seed: 11 });
    await lab.ready();
    const manager = rig.newManager(lab.info);
    await manager.start();
    await expectFleetRegistered(rig, lab, manager, "node-a");
  }, 60_000);

  test("manager first (device dir not there yet), then the lab", async () => {
    const deviceDir = path.join(rig.tmp, "devices");
    const sysfsRoot = path.join(rig.tmp, "sys");
    const devRoot = path.join(rig.tmp, "dev");
    const manager = rig.newManager({ deviceDir, sysfsRoot, devRoot }, { nodeId: "node-b" });
    await manager.start();
    expect(manager.list()).toEqual([]);
    const lab = await rig.startLab({ modems: N, seed: 12, deviceDir, sysfsRoot, devRoot });
    await expectFleetRegistered(rig, lab, manager, "node-b");
  }, 60_000);
});
