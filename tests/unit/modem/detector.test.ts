import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { SlotDetector } from "../../../src/modem/detector.ts";
import { FakeBox, type FakeModem } from "./sysfs-fixture.ts";

let box: FakeBox;
let det: SlotDetector | undefined;
afterEach(() => {
  det?.stop();
  det = undefined;
  box?.destroy();
});

function modem(i: number, hub = 1): FakeModem {
  return { slot: `slot-${hub}-${i}`, usbDev: `1-${hub}.${i}`, at: 100 + i * 4 + hub * 40, modem: 101 + i * 4 + hub * 40, cdcWdm: i + hub * 10, ifname: `wwan${i + hub * 10}` };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await Bun.sleep(5);
  }
}

function record(d: SlotDetector) {
  const log: string[] = [];
  d.on("appeared", (slot, p) => log.push(`+${slot}:${p.tty}`));
  d.on("vanished", (slot) => log.push(`-${slot}`));
  d.on("changed", (slot, p) => log.push(`~${slot}:${p.ifname}`));
  return log;
}

describe("SlotDetector", () => {
  test("present slots are reported synchronously by start(); inotify reports new ones well under a second", async () => {
    box = new FakeBox();
    box.add(modem(1));
    det = new SlotDetector({ ...box, rescanMs: 60_000 });
    const log = record(det);
    det.start();
    expect(log).toEqual(["+slot-1-1:ttyUSB144"]);
    const t0 = performance.now();
    box.add(modem(2));
    await until(() => log.length === 2, "second slot");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(log[1]).toBe("+slot-1-2:ttyUSB148");
    expect(det.get("slot-1-2")?.ifname).toBe("wwan12");
  });

  test("two modems at once, then a hub dropping many at once", async () => {
    box = new FakeBox();
    det = new SlotDetector({ ...box, rescanMs: 60_000 });
    const log = record(det);
    det.start();
    const hub2 = [1, 2, 3, 4, 5, 6].map((i) => modem(i, 2));
    box.add(modem(1));
    box.add(modem(2));
    for (const m of hub2) box.add(m);
    await until(() => log.length === 8, "8 appearances");
    const scansBefore = det.stats.scans;
    for (const m of hub2) box.remove(m);
    await until(() => log.filter((l) => l.startsWith("-")).length === 6, "6 vanished");
    expect(log.filter((l) => l.startsWith("-")).sort()).toEqual(hub2.map((m) => `-${m.slot}`).sort());
    // coalesced: far fewer scans than removed files
    expect(det.stats.scans - scansBefore).toBeLessThan(6);
    expect(det.present().map((p) => p.slot).sort()).toEqual(["slot-1-1", "slot-1-2"]);
  });

  test("a reboot that renames the ports is vanished + appeared, even inside one scan", async () => {
    box = new FakeBox();
    const before = modem(3);
    box.add(before);
    det = new SlotDetector({ ...box, rescanMs: 60_000 });
    const log = record(det);
    det.start();
    det.stop(); // no inotify: both changes land between two scans
    box.remove(before);
    box.add({ ...before, at: 500, modem: 501 });
    det.scan();
    expect(log).toEqual(["+slot-1-3:ttyUSB152", "-slot-1-3", "+slot-1-3:ttyUSB500"]);
  });

  test("the netdev arriving after the tty is a change, not a new modem", async () => {
    box = new FakeBox();
    const m = modem(4);
    box.addKernel({ ...m, ifname: undefined });
    box.addLinks(m);
    det = new SlotDetector({ ...box, rescanMs: 60_000 });
    const log = record(det);
    det.start();
    fs.mkdirSync(path.join(box.sysfsRoot, "devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.4/1-1.4:1.4/net/wwan14"), { recursive: true });
    det.scan();
    expect(log).toEqual(["+slot-1-4:ttyUSB156", "~slot-1-4:wwan14"]);
  });

  test("a device dir that appears later (and one removed and made again) is picked up by the rescan", async () => {
    box = new FakeBox();
    fs.rmSync(box.deviceDir, { recursive: true });
    det = new SlotDetector({ ...box, rescanMs: 200, missingDirPollMs: 50 });
    const log = record(det);
    det.start();
    expect(log).toEqual([]);
    fs.mkdirSync(box.deviceDir);
    box.add(modem(1));
    await until(() => log.length === 1, "slot after dir creation");
    fs.rmSync(box.deviceDir, { recursive: true });
    await until(() => log.length === 2, "vanished with the dir");
    fs.mkdirSync(box.deviceDir);
    box.addLinks(modem(1));
    await until(() => log.length === 3, "back after the dir was made again");
    expect(log).toEqual(["+slot-1-1:ttyUSB144", "-slot-1-1", "+slot-1-1:ttyUSB144"]);
  });

  test("a listener that throws does not stop detection", async () => {
    box = new FakeBox();
    det = new SlotDetector({ ...box, rescanMs: 60_000 });
    det.on("appeared", () => {
      throw new Error("boom");
    });
    const log = record(det);
    det.start();
    box.add(modem(1));
    box.add(modem(2));
    await until(() => log.length === 2, "both slots despite the throwing listener");
  });
});
