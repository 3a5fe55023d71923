/**
 * The USB side: device dir and sysfs tree as docs/lab.md describes them (and as a detector walks them), plus the
 * faults that make ports vanish: unplug/replug, crash, hub-fail, USB reset through sysfs `authorized`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startSimLab, type SimLab } from "../../../src/sim/lab.ts";
import { parseSlot } from "../../../src/sim/topology.ts";
import { HostPort } from "./host-port.ts";
import { isolateRegistry, removeRegistry } from "./lab-env.ts";

let registry: string;
let lab: SimLab;

beforeAll(async () => {
  registry = isolateRegistry("usb");
  lab = await startSimLab({ modems: 12, portsPerHub: 4, timeScale: 0.01, seed: 9 });
  await lab.ready();
});

afterAll(async () => {
  await lab?.stop();
  removeRegistry(registry);
});

const read = (p: string) => fs.readFileSync(p, "utf8").trim();

/** What a detector does: slot → tty name → sysfs → USB device and its QMI interface. */
function walk(slot: string) {
  const { deviceDir, sysfsRoot } = lab.info;
  const tty = path.basename(fs.readlinkSync(path.join(deviceDir, slot, "at")));
  const portDir = fs.realpathSync(path.join(sysfsRoot, "class/tty", tty, "device"));
  const ifDir = path.dirname(portDir);
  const usbDir = path.dirname(ifDir);
  const qmiIf = path.join(usbDir, `${path.basename(usbDir)}:1.4`);
  return { tty, portDir, ifDir, usbDir, qmiIf };
}

describe("layout", () => {
  test("slots follow the hub/port topology and name the USB device", () => {
    const slots = lab.list().map((m) => m.slot);
    expect(slots[0]).toBe("pci-0000_00_14_0-usb-0_1_1_1_2");
    expect(slots[5]).toBe("pci-0000_00_14_0-usb-0_2_2_1_2");
    expect(parseSlot(slots[11]!)).toEqual({ hub: 3, port: 4 });
  });

  test("at → ttyUSBn → /dev/pts/N; sysfs leads from the tty to the USB device and interface 1.4", () => {
    const m = lab.list()[5]!;
    const w = walk(m.slot);
    expect(w.tty).toBe(m.tty!);
    expect(fs.realpathSync(path.join(lab.info.deviceDir, m.slot, "at"))).toMatch(/^\/dev\/pts\/\d+$/);
    expect(path.basename(w.portDir)).toBe(w.tty);
    expect(path.basename(w.ifDir)).toBe("1-2.2:1.2");
    expect(read(path.join(w.ifDir, "bInterfaceNumber"))).toBe("02");
    expect(read(path.join(w.usbDir, "idVendor"))).toBe("2c7c");
    expect(read(path.join(w.usbDir, "idProduct"))).toBe("0125");
    expect(read(path.join(w.usbDir, "devpath"))).toBe("2.2");
    expect(read(path.join(w.usbDir, "busnum"))).toBe("1");
    expect(Number(read(path.join(w.usbDir, "devnum")))).toBeGreaterThan(1);
    expect(read(path.join(w.usbDir, "authorized"))).toBe("1");
    expect(fs.existsSync(path.join(w.usbDir, "serial"))).toBe(false); // iSerial 0 [T 14]
    expect(fs.readdirSync(path.join(w.qmiIf, "net"))).toEqual([m.ifname!]);
    const wdm = fs.readdirSync(path.join(w.qmiIf, "usbmisc"));
    expect(wdm).toEqual([path.basename(fs.readlinkSync(m.qmi!))]);
    expect(fs.realpathSync(path.join(lab.info.sysfsRoot, "class/net", m.ifname!, "device"))).toBe(w.qmiIf);
    expect(fs.realpathSync(path.join(lab.info.sysfsRoot, "class/usbmisc", wdm[0]!, "device"))).toBe(w.qmiIf);
    expect(fs.realpathSync(path.join(lab.info.sysfsRoot, "bus/usb/devices", path.basename(w.usbDir)))).toBe(w.usbDir);
    expect(path.basename(fs.readlinkSync(path.join(w.qmiIf, "driver")))).toBe("qmi_wwan");
  });

  test("interfaces 1.0–1.4 carry the classes of the QMI composition [T 14]", () => {
    const { usbDir } = walk(lab.list()[0]!.slot);
    const dev = path.basename(usbDir);
    const classes = [0, 1, 2, 3, 4].map((n) => {
      const d = path.join(usbDir, `${dev}:1.${n}`);
      return `${read(path.join(d, "bInterfaceClass"))}/${read(path.join(d, "bInterfaceSubClass"))}/${read(path.join(d, "bInterfaceProtocol"))}`;
    });
    expect(classes).toEqual(["ff/ff/ff", "ff/00/00", "ff/00/00", "ff/00/00", "ff/ff/ff"]);
    // The modem port is If 3, and its tty is the one DIR/<slot>/modem points to.
    const modemTty = path.basename(fs.readlinkSync(path.join(lab.info.deviceDir, lab.list()[0]!.slot, "modem")));
    expect(fs.existsSync(path.join(usbDir, `${dev}:1.3`, modemTty))).toBe(true);
  });

  test("ttyUSB numbers are handed out 4 per modem in probe order", () => {
    const ttys = lab.list().map((m) => Number(m.tty!.slice(6)));
    expect(new Set(ttys).size).toBe(12);
    expect(ttys.every((n) => n % 4 === 2)).toBe(true);
  });
});

describe("vanishing ports", () => {
  test("unplug removes slot, tty and sysfs device; replug brings them back (maybe renamed) and boots", async () => {
    const m = lab.list()[0]!;
    const { usbDir } = walk(m.slot);
    const p = new HostPort(m.at!);
    await lab.ctl(m.slot, "unplug");
    await p.ended;
    await p.close();
    expect(fs.existsSync(path.join(lab.info.deviceDir, m.slot))).toBe(false);
    expect(fs.existsSync(path.join(lab.info.sysfsRoot, "class/tty", m.tty!))).toBe(false);
    expect(fs.existsSync(usbDir)).toBe(false);
    expect(lab.list()[0]!.state).toBe("unplugged");
    await lab.ctl(m.slot, "replug");
    await lab.waitFor(() => lab.list()[0]!.state === "registered", 3000, "replugged and registered");
    expect(fs.existsSync(usbDir)).toBe(true);
    expect(walk(m.slot).tty).toBe(lab.list()[0]!.tty!);
  });

  test("crash: all ports vanish without an answer and come back after the reboot time", async () => {
    const m = lab.list()[1]!;
    const p = new HostPort(m.at!);
    await lab.ctl("1", "slow", "500");
    p.buf = "";
    p.write("AT+CSQ\r");
    await p.waitFor((b) => b === "AT+CSQ\r", 1000, "echo");
    await lab.ctl("1", "crash");
    await p.ended;
    await p.close();
    expect(p.buf).toBe("AT+CSQ\r"); // echo, then nothing: no OK
    expect(lab.list()[1]!.state).toBe("crashed");
    await lab.waitFor(() => lab.list()[1]!.usb === "attached", 3000, "back after crash");
    await lab.ctl("1", "clear");
  });

  test("hub-fail drops every modem of that hub at once; hub-restore brings them back", async () => {
    const onHub2 = lab.list().filter((m) => m.hub === 2);
    expect(onHub2).toHaveLength(4);
    const r = await lab.ctl("all", "hub-fail", "2");
    expect(r.targets[0]!.detail).toEqual({ modems: 4 });
    for (const m of lab.list().filter((x) => x.hub === 2)) expect(m.state).toBe("hub-failed");
    expect(lab.list().filter((x) => x.hub !== 2).every((x) => x.usb === "attached")).toBe(true);
    expect(fs.existsSync(path.join(lab.info.sysfsRoot, "bus/usb/devices/1-2"))).toBe(false);
    for (const m of onHub2) expect(fs.existsSync(path.join(lab.info.deviceDir, m.slot))).toBe(false);
    await lab.ctl("all", "hub-restore", "2");
    await lab.waitFor(() => lab.list().filter((x) => x.hub === 2).every((x) => x.state === "registered"), 3000, "hub back");
    expect(fs.existsSync(path.join(lab.info.sysfsRoot, "bus/usb/devices/1-2"))).toBe(true);
  });

  test("writing 0 then 1 to sysfs authorized resets the USB device: ports re-enumerate, registration survives", async () => {
    const m = lab.list()[8]!;
    const { usbDir } = walk(m.slot);
    const devnum = read(path.join(usbDir, "devnum"));
    const p = new HostPort(m.at!);
    fs.writeFileSync(path.join(usbDir, "authorized"), "0\n");
    await p.ended;
    await p.close();
    await lab.waitFor(() => lab.list()[8]!.usb === "deauthorized", 2000, "deauthorized");
    expect(fs.existsSync(usbDir)).toBe(true);
    expect(fs.existsSync(path.join(usbDir, `${path.basename(usbDir)}:1.2`))).toBe(false);
    expect(lab.modems[8]!.radio.registered).toBe(true);
    fs.writeFileSync(path.join(usbDir, "authorized"), "1\n");
    await lab.waitFor(() => lab.list()[8]!.usb === "attached", 3000, "re-enumerated");
    expect(read(path.join(usbDir, "devnum"))).not.toBe(devnum);
    const q = new HostPort(lab.list()[8]!.at!);
    try {
      expect(await q.command("AT+CREG?")).toBe("AT+CREG?\r\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    } finally {
      await q.close();
    }
  });
});

describe("data sessions without a lab network", () => {
  test("AT$QCRMCALL up/down; sticky 1 keeps the public IP, sticky 0 changes it (deterministic seed)", async () => {
    const p = new HostPort(lab.list()[10]!.at!);
    try {
      await lab.ctl("10", "sticky", "1");
      expect(await p.command("AT$QCRMCALL=1,1")).toBe("AT$QCRMCALL=1,1\r\r\n$QCRMCALL: 1,V4\r\n\r\nOK\r\n");
      const first = lab.list()[10]!;
      expect(first.public_ip).toMatch(/^198\.1[89]\.\d+\.\d+$/);
      expect(await p.command("AT$QCRMCALL?")).toBe("AT$QCRMCALL?\r\r\n$QCRMCALL: 1,V4\r\n\r\nOK\r\n");
      expect(await p.command("AT+CGPADDR=1")).toBe(`AT+CGPADDR=1\r\r\n+CGPADDR: 1,"${first.private_ip}"\r\n\r\nOK\r\n`);
      expect(await p.command("AT$QCRMCALL=0,1")).toBe("AT$QCRMCALL=0,1\r\r\nOK\r\n");
      expect(lab.list()[10]!.public_ip).toBeNull();
      await p.command("AT$QCRMCALL=1,1");
      expect(lab.list()[10]!.public_ip).toBe(first.public_ip);
      await p.command("AT$QCRMCALL=0,1");
      await lab.ctl("10", "sticky", "0");
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        await p.command("AT$QCRMCALL=1,1");
        seen.add(lab.list()[10]!.public_ip!);
        await p.command("AT$QCRMCALL=0,1");
      }
      expect(seen.size).toBeGreaterThan(1);
      await lab.ctl("10", "no-service");
      expect(await p.command("AT$QCRMCALL=1,1")).toBe("AT$QCRMCALL=1,1\r\r\nERROR\r\n");
      await lab.ctl("10", "service");
    } finally {
      await p.close();
    }
  });
});

describe("compositions and link faults", () => {
  test('AT+QCFG="usbnet",1 takes effect after a reboot: no QMI endpoint; back to 0 brings it again', async () => {
    const idx = 11;
    const m = lab.list()[idx]!;
    const p = new HostPort(m.at!);
    expect(await p.command('AT+QCFG="usbnet",1')).toBe('AT+QCFG="usbnet",1\r\r\nOK\r\n');
    expect(lab.list()[idx]!.qmi).not.toBeNull(); // not before the reboot (ec25.md §1.3)
    expect(await p.command("AT+CFUN=1,1")).toBe("AT+CFUN=1,1\r\r\nOK\r\n");
    await p.ended;
    await p.close();
    await lab.waitFor(() => lab.list()[idx]!.state === "registered", 5000, "rebooted");
    expect(lab.list()[idx]!.qmi).toBeNull();
    expect(fs.existsSync(path.join(lab.info.deviceDir, m.slot, "qmi"))).toBe(false);
    expect(fs.existsSync(path.join(walk(m.slot).qmiIf, "usbmisc"))).toBe(false);
    const q = new HostPort(lab.list()[idx]!.at!);
    expect(await q.command('AT+QCFG="usbnet"')).toBe('AT+QCFG="usbnet"\r\r\n+QCFG: "usbnet",1\r\n\r\nOK\r\n');
    expect(await q.command('AT+QCFG="usbnet",0;+CFUN=1,1')).toBe('AT+QCFG="usbnet",0;+CFUN=1,1\r\r\nOK\r\n');
    await q.ended;
    await q.close();
    await lab.waitFor(() => lab.list()[idx]!.state === "registered", 5000, "rebooted again");
    expect(fs.existsSync(path.join(lab.info.deviceDir, m.slot, "qmi"))).toBe(true);
  });

  test("link-down / link-up are recorded (no lab network: nothing else to do)", async () => {
    await lab.ctl("9", "link-down");
    expect(lab.list()[9]!.faults).toContain("link-down");
    await lab.ctl("9", "link-up");
    expect(lab.list()[9]!.faults).not.toContain("link-down");
  });
});
