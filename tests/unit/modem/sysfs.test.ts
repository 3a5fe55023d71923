import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { listSlots, resolveSlot } from "../../../src/modem/sysfs.ts";
import { FakeBox } from "./sysfs-fixture.ts";

let box: FakeBox;
afterEach(() => box?.destroy());

describe("resolveSlot", () => {
  test("follows at → tty → interface → USB device → qmi interface (kernel layout, udev's relative links)", () => {
    box = new FakeBox();
    box.add({ slot: "pci-0000_00_14_0-usb-0_1_3", usbDev: "1-1.3", at: 6, modem: 7, cdcWdm: 1, ifname: "wwan1" });
    const p = resolveSlot("pci-0000_00_14_0-usb-0_1_3", box)!;
    expect(p).toMatchObject({
      slot: "pci-0000_00_14_0-usb-0_1_3", tty: "ttyUSB6", usbInterface: "1-1.3:1.2", usbDevice: "1-1.3", hub: "1-1",
      ifname: "wwan1", cdcWdm: "cdc-wdm1", atTarget: "../../ttyUSB6",
    });
    expect(p.atPath).toBe(path.join(box.deviceDir, "pci-0000_00_14_0-usb-0_1_3", "at"));
    expect(p.qmiPath).toBe(path.join(box.deviceDir, "pci-0000_00_14_0-usb-0_1_3", "qmi"));
    expect(p.modemPath).toBe(path.join(box.deviceDir, "pci-0000_00_14_0-usb-0_1_3", "modem"));
    expect(p.usbDevicePath).toBe(fs.realpathSync(path.join(box.sysfsRoot, "devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3")));
  });

  test("without a qmi link the cdc-wdm node is found through sysfs", () => {
    box = new FakeBox();
    box.add({ slot: "s1", usbDev: "1-2.1", at: 2, modem: 3, cdcWdm: 4, ifname: "wwp0s20u2u1i4" }, { qmi: false });
    const p = resolveSlot("s1", { ...box })!;
    expect(p.qmiPath).toBe(path.join(box.devRoot, "cdc-wdm4"));
    expect(p.ifname).toBe("wwp0s20u2u1i4");
  });

  test("a dangling at link (port gone) or a missing slot is null; missing sysfs gives nulls, not errors", () => {
    box = new FakeBox();
    const m = { slot: "s1", usbDev: "1-1.1", at: 2, modem: 3 };
    box.add(m);
    fs.rmSync(path.join(box.devRoot, "ttyUSB2"));
    expect(resolveSlot("s1", box)).toBeNull();
    expect(resolveSlot("nope", box)).toBeNull();
    fs.writeFileSync(path.join(box.devRoot, "ttyUSB2"), "");
    fs.rmSync(path.join(box.sysfsRoot, "class/tty/ttyUSB2"));
    expect(resolveSlot("s1", box)).toMatchObject({ tty: "ttyUSB2", usbDevice: null, ifname: null, hub: null });
  });

  test("listSlots lists only slots with a live at port", () => {
    box = new FakeBox();
    box.add({ slot: "a", usbDev: "1-1.1", at: 2, modem: 3 });
    fs.mkdirSync(path.join(box.deviceDir, "b"));
    expect(listSlots(box.deviceDir)).toEqual(["a"]);
    expect(listSlots(path.join(box.root, "missing"))).toEqual([]);
  });
});
