/**
 * A modem moving to another USB port (same IMEI, new slot) keeps its row; a move seen before the old slot's removal
 * does not flip the row to unplugged. Driven through the real manager, detector and PostgreSQL, with a /sys replica
 * and in-memory AT channels (the lab cannot move a modem between slots).
 */
import { afterAll, expect, test } from "bun:test";
import path from "node:path";
import { Ec25Driver } from "../../../src/modem/ec25.ts";
import type { ModemManager } from "../../../src/modem/manager.ts";
import { ec25Rules, FakeChannel } from "../../unit/modem/fake-channel.ts";
import { FakeBox, type FakeModem } from "../../unit/modem/sysfs-fixture.ts";
import { startRig, stateEvents, chained, until, type Rig } from "./helpers.ts";

let rig: Rig;
let box: FakeBox;
const whoIsAt = new Map<string, string>(); // slot → IMEI

function fakeManager(): ModemManager {
  return rig.newManager(box, {
    openChannel: async (atPath) => {
      const imei = whoIsAt.get(path.basename(path.dirname(atPath)));
      if (!imei) throw new Error("no modem");
      return new FakeChannel({ ...ec25Rules(), "AT+CGSN": { lines: [imei] } });
    },
    createDriver: (ch) => new Ec25Driver(ch),
  });
}
afterAll(async () => {
  await rig?.stop();
  box?.destroy();
});

const IMEI = "864394041083561";

test("same IMEI in a new slot → same row; the stale old slot does not unplug it", async () => {
  rig = await startRig();
  box = new FakeBox();
  const manager = fakeManager();
  await manager.start();
  const a: FakeModem = { slot: "usb-port-a", usbDev: "1-1.1", at: 2, modem: 3, cdcWdm: 0, ifname: "wwan0" };
  const b: FakeModem = { slot: "usb-port-b", usbDev: "1-2.4", at: 6, modem: 7, cdcWdm: 1, ifname: "wwan1" };

  whoIsAt.set(a.slot, IMEI);
  box.add(a);

  await until(() => manager.get(IMEI)?.state === "registered", "registered in slot a");
  const id = manager.get(IMEI)!.id;
  expect(manager.get(IMEI)!.slot).toBe(a.slot);

  // Moved: unplugged from a (seen), plugged into b.
  box.remove(a);
  await until(() => manager.get(IMEI)?.state === "unplugged", "unplugged from a");
  whoIsAt.set(b.slot, IMEI);
  box.add(b);
  await until(() => manager.get(IMEI)?.state === "registered", "registered in slot b");
  expect(manager.get(IMEI)!.id).toBe(id);
  const row = (await rig.sql`select slot, usb_device, ifname, hub from modems where id = ${id}`)[0]!;
  expect(row).toEqual({ slot: b.slot, usb_device: "1-2.4", ifname: "wwan1", hub: "1-2" });

  // Moved back, but the new slot shows up before b's removal is noticed.
  whoIsAt.set(a.slot, IMEI);
  box.add(a);
  await until(() => manager.get(IMEI)?.slot === a.slot && manager.get(IMEI)?.present === true, "claimed by slot a");
  box.remove(b);
  await Bun.sleep(300);
  expect(manager.get(IMEI)!.state).toBe("registered");
  expect(manager.get(IMEI)!.slot).toBe(a.slot);
  expect(Number((await rig.sql`select count(*)::int as n from modems`)[0]!.n)).toBe(1);
  const events = await stateEvents(rig.sql, id);
  expect(chained(events)).toBe(true);
  expect(events.filter((e) => e.to === "unplugged")).toHaveLength(1);
  await manager.stop();
});

test("after a restart, a slot that now holds another modem frees the old row", async () => {
  // The row of IMEI remembers slot a (registered). While no control plane runs, the SIM tray/modem is swapped.
  const newcomer = "867581044463629";
  whoIsAt.set("usb-port-a", newcomer);
  const manager = fakeManager();
  await manager.start();
  await until(() => manager.get(newcomer)?.state === "registered", "newcomer registered");
  await until(() => manager.get(IMEI)?.state === "unplugged", "old row unplugged");
  expect(manager.get(IMEI)!.stateReason).toBe(`slot now holds IMEI ${newcomer}`);
  expect(manager.get(newcomer)!.slot).toBe("usb-port-a");
});

