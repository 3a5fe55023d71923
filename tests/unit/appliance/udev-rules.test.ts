/**
 * udev/99-lteproxy-ec25.rules: every rule keeps to one parent level (ec25.md §2.2), every symlink fits the detector's
 * layout (<device_dir>/<slot>/{at,modem,qmi}), and simulated EC25 events in each USB composition produce the names,
 * tags and permissions the rest of lteproxy relies on. The real udev parser checks the syntax where it can run.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config.ts";
import { evaluate, parentLevels, parseRules, type SimDevice } from "./udev-rules.ts";

const RULES_FILE = join(import.meta.dir, "../../../udev/99-lteproxy-ec25.rules");
const text = readFileSync(RULES_FILE, "utf8");
const rules = parseRules(text);

/** The detector's device dir, from the config default, relative to /dev as udev SYMLINKs are. */
function deviceDirUnderDev(): string {
  const dir = mkdtempSync(join(tmpdir(), "ltp-udev-cfg-"));
  try {
    const file = join(dir, "empty.toml");
    writeFileSync(file, "");
    const devDir = loadConfig({ file, env: {} }).paths.device_dir;
    expect(devDir.startsWith("/dev/")).toBe(true);
    return devDir.slice("/dev/".length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const QMI_IFACES = ":ffffff:ff0000:ff0000:ff0000:ffffff:";
const ECM_IFACES = ":ffffff:ff0000:ff0000:ff0000:020600:0a0000:";
const RNDIS_IFACES = ":e00103:0a0000:ffffff:ff0000:ff0000:ff0000:";

/** ID_PATH and its tag the way path_id builds them for USB device `port` (e.g. "1.3") behind a PCI controller. */
function pathOf(port: string, iface?: number): { ID_PATH: string; ID_PATH_TAG: string } {
  const id = `pci-0000:00:14.0-usb-0:${port}${iface === undefined ? "" : `:1.${iface}`}`;
  return { ID_PATH: id, ID_PATH_TAG: id.replace(/[^A-Za-z0-9-]+/g, "_") };
}

interface ModemSpec { port: string; vendor?: string; product?: string; interfaces?: string }

function usbProps(m: ModemSpec, iface: number, driver: string): Record<string, string> {
  return {
    ID_BUS: "usb", ID_VENDOR_ID: m.vendor ?? "2c7c", ID_MODEL_ID: m.product ?? "0125", ID_SERIAL: "Quectel_EC25-EUX",
    ID_USB_INTERFACES: m.interfaces ?? QMI_IFACES, ID_USB_INTERFACE_NUM: `0${iface}`, ID_USB_DRIVER: driver,
  };
}

const devpathOf = (m: ModemSpec, iface: number, tail: string) => `/devices/pci0000:00/0000:00:14.0/usb1/1-${m.port}/1-${m.port}:1.${iface}/${tail}`;

/** A tty as 60-serial.rules leaves it (usb_id and path_id already imported). */
function tty(m: ModemSpec, iface: number, n: number, action = "add"): SimDevice {
  return {
    action, subsystem: "tty", kernel: `ttyUSB${n}`, devpath: devpathOf(m, iface, `ttyUSB${n}/tty/ttyUSB${n}`),
    parentSubsystems: ["usb-serial", "usb", "usb"], env: { ...usbProps(m, iface, "option"), ...pathOf(m.port, iface) },
  };
}
/** cdc-wdm: nothing imported yet; our rules import usb_id and path_id. */
function cdcWdm(m: ModemSpec, n: number, driver = "qmi_wwan"): SimDevice {
  return {
    action: "add", subsystem: "usbmisc", kernel: `cdc-wdm${n}`, devpath: devpathOf(m, 4, `usbmisc/cdc-wdm${n}`),
    parentSubsystems: ["usb", "usb"], env: {},
    builtins: { usb_id: usbProps(m, 4, driver), path_id: pathOf(m.port, 4) },
  };
}
/** A net device as 80-net-setup-link leaves it (path_id imported, usb_id not). */
function net(m: ModemSpec, name: string, driver: string, action = "add"): SimDevice {
  return {
    action, subsystem: "net", kernel: name, devpath: devpathOf(m, 4, `net/${name}`), parentSubsystems: ["usb", "usb"],
    env: { ...pathOf(m.port, 4), INTERFACE: name }, builtins: { usb_id: usbProps(m, 4, driver) },
  };
}
function usbDevice(m: ModemSpec): SimDevice {
  return {
    action: "add", subsystem: "usb", kernel: `1-${m.port}`, devpath: `/devices/pci0000:00/0000:00:14.0/usb1/1-${m.port}`,
    parentSubsystems: ["usb"], attrs: { idVendor: m.vendor ?? "2c7c", idProduct: m.product ?? "0125" },
    env: { DEVTYPE: "usb_device", ID_VENDOR_ID: m.vendor ?? "2c7c", ID_MODEL_ID: m.product ?? "0125",
      ID_USB_INTERFACES: m.interfaces ?? QMI_IFACES, ...pathOf(m.port) },
  };
}

describe("rules file structure", () => {
  test("parses, and every rule uses parent-matching keys from at most one parent level", () => {
    expect(rules.length).toBeGreaterThan(10);
    for (const rule of rules) {
      const levels = [...parentLevels(rule)];
      if (levels.length > 1) throw new Error(`line ${rule.line} mixes parents ${levels.join(" + ")}: ${rule.text}`);
    }
  });

  test("the single-parent check catches the classic mistake and accepts ModemManager's two-step form", () => {
    const [bad] = parseRules('SUBSYSTEM=="tty", ATTRS{idVendor}=="2c7c", ATTRS{bInterfaceNumber}=="02", SYMLINK+="x"');
    expect([...parentLevels(bad!)].sort()).toEqual(["usb_device", "usb_interface"]);
    const [badKernels] = parseRules('KERNELS=="1-1.3", ATTRS{bInterfaceNumber}=="02", SYMLINK+="x"');
    expect(parentLevels(badKernels!).size).toBe(2);
    const twoStep = parseRules([
      'SUBSYSTEMS=="usb", ATTRS{bInterfaceNumber}=="?*", ENV{.MM_USBIFNUM}="$attr{bInterfaceNumber}"',
      'ATTRS{idVendor}=="2c7c", ATTRS{idProduct}=="0125", ENV{.MM_USBIFNUM}=="02", SYMLINK+="x"',
      'KERNELS=="1-1.3:1.2", DRIVERS=="option", SYMLINK+="y"',
    ].join("\n"));
    for (const r of twoStep) expect(parentLevels(r).size).toBeLessThanOrEqual(1);
  });

  test("every SYMLINK is <device_dir>/$env{LTEPROXY_SLOT}/{at,modem,qmi}, each name made once", () => {
    const dir = deviceDirUnderDev();
    const links = rules.flatMap((r) => r.tokens.filter((t) => t.key === "SYMLINK").map((t) => ({ op: t.op, value: t.value })));
    expect(links.map((l) => l.op)).toEqual(["+=", "+=", "+="]);
    const names = links.map((l) => {
      const m = new RegExp(`^${dir}/\\$env\\{LTEPROXY_SLOT\\}/(at|modem|qmi)$`).exec(l.value);
      if (!m) throw new Error(`symlink ${l.value} does not fit ${dir}/<slot>/{at,modem,qmi}`);
      return m[1];
    });
    expect(names.sort()).toEqual(["at", "modem", "qmi"]);
  });

  test("no NAME= renames (the detector finds the net device by tag and sysfs) and no ATTRS on vendor ids", () => {
    const keys = rules.flatMap((r) => r.tokens.map((t) => `${t.key}${t.attr ? `{${t.attr}}` : ""}`));
    expect(keys).not.toContain("NAME");
    expect(keys.filter((k) => k.startsWith("ATTRS{"))).toEqual([]);
  });
});

describe("simulated EC25 events", () => {
  const slot = pathOf("1.3").ID_PATH_TAG;
  const m: ModemSpec = { port: "1.3" };

  test("QMI composition: at, modem and qmi in one slot directory; DM and NMEA unnamed", () => {
    expect(slot).toBe("pci-0000_00_14_0-usb-0_1_3");
    const at = evaluate(rules, tty(m, 2, 6));
    expect(at.symlinks).toEqual([`modems/${slot}/at`]);
    expect(at.env.LTEPROXY_SLOT).toBe(slot);
    expect(at.env.LTEPROXY_ROLE).toBe("at");
    expect(at.env.ID_MM_DEVICE_IGNORE).toBe("1");
    expect(at.tags).toContain("lteproxy");
    expect(evaluate(rules, tty(m, 3, 7)).symlinks).toEqual([`modems/${slot}/modem`]);
    for (const iface of [0, 1]) {
      const r = evaluate(rules, tty(m, iface, 4 + iface));
      expect(r.symlinks).toEqual([]);
      expect(r.env.ID_MM_DEVICE_IGNORE).toBe("1");
    }
    const qmi = evaluate(rules, cdcWdm(m, 1));
    expect(qmi.symlinks).toEqual([`modems/${slot}/qmi`]);
    expect([qmi.group, qmi.mode]).toEqual(["dialout", "0660"]);
  });

  test("QMI net device: tagged for the detector, raw-ip set at add, dialout may change it", () => {
    const add = evaluate(rules, net(m, "wwan0", "qmi_wwan"));
    expect(add.tags).toContain("lteproxy");
    expect(add.env).toMatchObject({ LTEPROXY_SLOT: slot, LTEPROXY_ROLE: "net", LTEPROXY_NET_MODE: "qmi", ID_MM_DEVICE_IGNORE: "1" });
    expect(add.symlinks).toEqual([]);
    expect(add.attrWrites).toEqual({ "qmi/raw_ip": "Y" });
    const sysfs = `/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1.3/1-1.3:1.4/net/wwan0/qmi/raw_ip`;
    expect(add.run).toEqual([`/bin/chgrp dialout ${sysfs}`, `/bin/chmod g+w ${sysfs}`]);
    const change = evaluate(rules, net(m, "wwan0", "qmi_wwan", "change"));
    expect(change.env.LTEPROXY_NET_MODE).toBe("qmi");
    expect(change.attrWrites).toEqual({});
  });

  test("the USB device carries the slot and the ModemManager opt-out", () => {
    const r = evaluate(rules, usbDevice(m));
    expect(r.env).toMatchObject({ LTEPROXY_SLOT: slot, ID_MM_DEVICE_IGNORE: "1" });
    expect(r.symlinks).toEqual([]);
  });

  test("ECM composition: at and modem appear, the cdc_ether device is tagged ecm, no raw-ip", () => {
    const ecm: ModemSpec = { port: "1.3", interfaces: ECM_IFACES };
    expect(evaluate(rules, tty(ecm, 2, 2)).symlinks).toEqual([`modems/${slot}/at`]);
    expect(evaluate(rules, tty(ecm, 3, 3)).symlinks).toEqual([`modems/${slot}/modem`]);
    const usb0 = evaluate(rules, net(ecm, "usb0", "cdc_ether"));
    expect(usb0.env).toMatchObject({ LTEPROXY_NET_MODE: "ecm", LTEPROXY_SLOT: slot, LTEPROXY_ROLE: "net" });
    expect(usb0.attrWrites).toEqual({});
  });

  test("MBIM composition: no qmi link on a cdc_mbim control device", () => {
    const r = evaluate(rules, cdcWdm(m, 0, "cdc_mbim"));
    expect(r.symlinks).toEqual([]);
    expect(r.env.ID_MM_DEVICE_IGNORE).toBe("1");
  });

  test("RNDIS composition: interface 02 is the DM port there, so nothing is named", () => {
    const rndis: ModemSpec = { port: "1.3", interfaces: RNDIS_IFACES };
    for (const iface of [2, 3]) {
      const r = evaluate(rules, tty(rndis, iface, iface));
      expect(r.symlinks).toEqual([]);
      expect(r.env.ID_MM_DEVICE_IGNORE).toBe("1");
    }
  });

  test("other devices are left alone: EC21 (2c7c:0121), a Sierra modem, remove events", () => {
    for (const other of [{ port: "1.3", product: "0121" }, { port: "1.3", vendor: "1199", product: "9071" }]) {
      for (const dev of [tty(other, 2, 0), cdcWdm(other, 0), net(other, "wwan0", "qmi_wwan"), usbDevice(other)]) {
        const r = evaluate(rules, dev);
        expect(r.symlinks).toEqual([]);
        expect(r.env.ID_MM_DEVICE_IGNORE).toBeUndefined();
        expect(r.env.LTEPROXY_SLOT).toBeUndefined();
        expect(r.tags).toEqual([]);
      }
    }
    const removed = evaluate(rules, tty(m, 2, 6, "remove"));
    expect(removed.symlinks).toEqual([]);
    expect(removed.env.ID_MM_DEVICE_IGNORE).toBeUndefined();
  });

  test("slot = the USB device's own ID_PATH_TAG for any hub depth; modems in different ports never share a directory", () => {
    const seen = new Map<string, string>();
    for (const port of ["1", "1.3", "1.3.4", "2.1.4.2", "10.7"]) {
      const spec = { port };
      const want = pathOf(port).ID_PATH_TAG;
      expect(evaluate(rules, usbDevice(spec)).env.LTEPROXY_SLOT).toBe(want);
      const links = [tty(spec, 2, 0), tty(spec, 3, 1), cdcWdm(spec, 0)].flatMap((d) => evaluate(rules, d).symlinks);
      expect(links).toEqual([`modems/${want}/at`, `modems/${want}/modem`, `modems/${want}/qmi`]);
      expect(evaluate(rules, net(spec, "wwan0", "qmi_wwan")).env.LTEPROXY_SLOT).toBe(want);
      expect(seen.has(want)).toBe(false);
      seen.set(want, port);
    }
  });
});

/** udevadm test in a private mount namespace with a tmpfs on /run, so the host's udev state is untouched. */
function udevadmTestWith(rulesText: string): { ran: boolean; why?: string; lines: string[] } {
  if (process.getuid?.() !== 0) return { ran: false, why: "needs root for a mount namespace", lines: [] };
  for (const tool of ["unshare", "udevadm"]) if (!Bun.which(tool)) return { ran: false, why: `${tool} not installed`, lines: [] };
  if (!existsSync("/sys/class/net/lo")) return { ran: false, why: "no /sys/class/net/lo", lines: [] };
  const dir = mkdtempSync(join(tmpdir(), "ltp-udevadm-"));
  try {
    writeFileSync(join(dir, "99-lteproxy-ec25.rules"), rulesText);
    const script = `mount -t tmpfs tmpfs /run && mkdir -p /run/udev/rules.d && cp "${dir}/99-lteproxy-ec25.rules" /run/udev/rules.d/ && exec udevadm test --action=add /sys/class/net/lo`;
    const r = spawnSync("unshare", ["-m", "sh", "-c", script], { encoding: "utf8", timeout: 30_000 });
    const lines = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.includes("99-lteproxy-ec25.rules"));
    if (!lines.some((l) => l.includes("Reading rules file"))) {
      return { ran: false, why: `udevadm test did not read the rules (${(r.stderr || r.stdout).trim().slice(0, 200)})`, lines };
    }
    return { ran: true, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the real udev parser", () => {
  test("accepts every line (udevadm test in a private mount namespace)", () => {
    const good = udevadmTestWith(text);
    if (!good.ran) {
      console.warn(`SKIPPED udev syntax check: ${good.why}`);
      return;
    }
    const complaints = good.lines.filter((l) => !l.includes("Reading rules file") && /invalid|ignor|error|fail|unknown|warn/i.test(l));
    expect(complaints).toEqual([]);
    // The same check on a broken copy must complain, or the check above proves nothing.
    const broken = udevadmTestWith(`${text}\nSUBSYSTEM=="tty", SYMLINK+="modems/$env{LTEPROXY_SLOT/at"\n`);
    expect(broken.lines.some((l) => /invalid/i.test(l))).toBe(true);
  });
});
