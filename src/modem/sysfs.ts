/**
 * From a slot directory (udev's `DIR/<slot>/{at,modem,qmi}` links, udev/99-lteproxy-ec25.rules) to the kernel
 * objects behind it, by walking sysfs the way the kernel lays it out (ec25.md §1.4, §2.4):
 *   DIR/<slot>/at → ttyUSB2 → <sysfs>/class/tty/ttyUSB2/device → …/1-1.3/1-1.3:1.2/ttyUSB2
 *   interface 1-1.3:1.2 → USB device 1-1.3 → 1-1.3:1.4/net/<ifname> and 1-1.3:1.4/usbmisc/cdc-wdmN
 *   parent of 1-1.3 → the hub (1-1), for telling "a hub dropped 8 modems" from 8 separate failures.
 * The lab's sysfs tree (src/sim/usb/sysfs-tree.ts) has the same shape under LTEPROXY_SYSFS_ROOT.
 * Everything is best effort: a missing link gives nulls, never an exception.
 */
import fs from "node:fs";
import path from "node:path";

export interface SlotPaths {
  /** Directory name under the device dir (udev ID_PATH_TAG). */
  slot: string;
  atPath: string;
  modemPath: string | null;
  /** DIR/<slot>/qmi, or /dev/cdc-wdmN found through sysfs. */
  qmiPath: string | null;
  /** Kernel name of the AT tty ("ttyUSB2"). */
  tty: string | null;
  /** "1-1.3:1.2" */
  usbInterface: string | null;
  /** "1-1.3": what the panel shows and what a USB reset targets. */
  usbDevice: string | null;
  /** Absolute sysfs directory of the USB device (its `authorized` file resets it). */
  usbDevicePath: string | null;
  /** Kernel name of the parent hub ("1-1", or "usb1" for a root port). */
  hub: string | null;
  hubPath: string | null;
  ifname: string | null;
  cdcWdm: string | null;
  /** What DIR/<slot>/at pointed at when resolved: a different value later means the port was renamed. */
  atTarget: string;
}

export interface SysfsLayout {
  deviceDir: string;
  sysfsRoot: string;
  /** Where cdc-wdm nodes live when the slot has no qmi link (default /dev). */
  devRoot?: string;
}

function readlink(p: string): string | null {
  try {
    return fs.readlinkSync(p);
  } catch {
    return null;
  }
}

function realpath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

function exists(p: string): boolean {
  try {
    fs.statSync(p); // follows links: a dangling link means the node is gone
    return true;
  } catch {
    return false;
  }
}

function firstEntry(dir: string, pattern: RegExp): string | null {
  try {
    return fs.readdirSync(dir).filter((n) => pattern.test(n)).sort()[0] ?? null;
  } catch {
    return null;
  }
}

/** The tty kernel name behind an `at` link: udev links to ../../ttyUSB2; the lab links to <devRoot>/ttyUSB2 → /dev/pts/N. */
function ttyName(atPath: string): string | null {
  const first = readlink(atPath);
  if (first && /^tty[A-Za-z]+\d+$/.test(path.basename(first))) return path.basename(first);
  const real = realpath(atPath);
  return real && /^tty[A-Za-z]+\d+$/.test(path.basename(real)) ? path.basename(real) : null;
}

/**
 * Resolves one slot. Returns null when the slot has no usable `at` port (absent, dangling, or still being created).
 */
export function resolveSlot(slot: string, layout: SysfsLayout): SlotPaths | null {
  const dir = path.join(layout.deviceDir, slot);
  const atPath = path.join(dir, "at");
  const atTarget = readlink(atPath) ?? realpath(atPath);
  if (atTarget === null || !exists(atPath)) return null;
  const modemPath = exists(path.join(dir, "modem")) ? path.join(dir, "modem") : null;
  const qmiLink = exists(path.join(dir, "qmi")) ? path.join(dir, "qmi") : null;
  const out: SlotPaths = {
    slot, atPath, modemPath, qmiPath: qmiLink, tty: ttyName(atPath), usbInterface: null, usbDevice: null,
    usbDevicePath: null, hub: null, hubPath: null, ifname: null, cdcWdm: null, atTarget,
  };
  if (!out.tty) return out;
  // class/tty/<tty>/device → …/<dev>:<cfg>.<if>/<tty>; its parent is the interface, whose parent is the device.
  const ttyDevice = realpath(path.join(layout.sysfsRoot, "class/tty", out.tty, "device"));
  if (!ttyDevice) return out;
  const ifDir = path.dirname(ttyDevice);
  const ifName = path.basename(ifDir);
  const m = /^(.+):(\d+)\.(\d+)$/.exec(ifName);
  if (!m) return out;
  out.usbInterface = ifName;
  out.usbDevicePath = path.dirname(ifDir);
  out.usbDevice = path.basename(out.usbDevicePath);
  out.hubPath = path.dirname(out.usbDevicePath);
  out.hub = path.basename(out.hubPath);
  // QMI/RmNet is interface 4 of the default composition (ec25.md §1.2); the config number is the same as the AT's.
  const qmiIf = path.join(out.usbDevicePath, `${out.usbDevice}:${m[2]}.4`);
  out.ifname = firstEntry(path.join(qmiIf, "net"), /^[^.]/);
  out.cdcWdm = firstEntry(path.join(qmiIf, "usbmisc"), /^cdc-wdm\d+$/);
  if (!out.qmiPath && out.cdcWdm) out.qmiPath = path.join(layout.devRoot ?? "/dev", out.cdcWdm);
  return out;
}

/** Slot directory names that currently hold an `at` entry (cheap: no sysfs walk). */
export function listSlots(deviceDir: string): string[] {
  try {
    return fs.readdirSync(deviceDir).filter((n) => !n.startsWith(".") && exists(path.join(deviceDir, n, "at")));
  } catch {
    return [];
  }
}
