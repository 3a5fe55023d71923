/**
 * Writes the sysfs shape of a simulated EC25 under a root directory, laid out like /sys on a real box (ec25.md §1.2,
 * §1.4, [T 13, T 14]) so that code which walks /sys runs unchanged against `--sysfs-root`:
 *
 *   devices/pci0000:00/0000:00:14.0/usb1/1-H/1-H.P/            USB device (idVendor 2c7c, idProduct 0125, no serial)
 *     1-H.P:1.0/ttyUSBa  1-H.P:1.1/ttyUSBb                     DM, NMEA (sysfs only, no device node)
 *     1-H.P:1.2/ttyUSBc/tty/ttyUSBc                            AT port
 *     1-H.P:1.3/ttyUSBd/tty/ttyUSBd                            AT/PPP "modem" port
 *     1-H.P:1.4/net/<ifname>  1-H.P:1.4/usbmisc/cdc-wdmN       QMI/RmNet
 *   class/tty/ttyUSBc -> ../../devices/…/1-H.P:1.2/ttyUSBc/tty/ttyUSBc    (…/device -> ../../../ttyUSBc)
 *   class/net/<ifname>, class/usbmisc/cdc-wdmN (…/device -> ../../../1-H.P:1.4)
 *   bus/usb/devices/1-H.P, 1-H.P:1.x -> ../../../devices/…
 * All links are relative, as in real sysfs.
 */
import fs from "node:fs";
import path from "node:path";
import { PCI_CONTROLLER } from "../topology.ts";

export const CONTROLLER_DIR = `devices/pci0000:00/${PCI_CONTROLLER}/usb1`;

/** USB interface functions of the default QMI composition (ec25.md §1.2). */
export const EC25_INTERFACES = [
  { num: 0, cls: "ff", sub: "ff", proto: "ff", eps: "02", driver: "option" },
  { num: 1, cls: "ff", sub: "00", proto: "00", eps: "03", driver: "option" },
  { num: 2, cls: "ff", sub: "00", proto: "00", eps: "03", driver: "option" },
  { num: 3, cls: "ff", sub: "00", proto: "00", eps: "03", driver: "option" },
  { num: 4, cls: "ff", sub: "ff", proto: "ff", eps: "03", driver: "qmi_wwan" },
] as const;

export interface SysfsModem {
  usbDev: string;
  hub: number;
  devpath: string;
  busnum: number;
  devnum: number;
  /** ttyUSB numbers of interfaces 0..3. */
  ttys: readonly number[];
  cdcWdm?: number;
  ifname: string;
  /** "Y" when the kernel expects raw-ip on the netdev (qmi/raw_ip). */
  rawIp: boolean;
}

function write(file: string, value: string): void {
  fs.writeFileSync(file, value.endsWith("\n") ? value : `${value}\n`);
}

function link(target: string, at: string): void {
  fs.rmSync(at, { force: true });
  fs.symlinkSync(target, at);
}

function writeAttrs(dir: string, attrs: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(attrs)) write(path.join(dir, k), v);
}

export class SysfsTree {
  constructor(readonly root: string) {}

  hubDir(hub: number): string {
    return path.join(this.root, CONTROLLER_DIR, `1-${hub}`);
  }

  deviceDir(m: { hub: number; usbDev: string }): string {
    return path.join(this.hubDir(m.hub), m.usbDev);
  }

  /** Controller, root hub, driver directories. */
  init(): void {
    const usb1 = path.join(this.root, CONTROLLER_DIR);
    writeAttrs(usb1, { idVendor: "1d6b", idProduct: "0002", devpath: "0", busnum: "1", devnum: "1", bDeviceClass: "09", speed: "480", product: "xHCI Host Controller" });
    for (const d of ["class/tty", "class/net", "class/usbmisc", "bus/usb/devices"]) fs.mkdirSync(path.join(this.root, d), { recursive: true });
    for (const d of ["option", "qmi_wwan", "usb", "hub"]) fs.mkdirSync(path.join(this.root, "bus/usb/drivers", d), { recursive: true });
    link(`../../../${CONTROLLER_DIR}`, path.join(this.root, "bus/usb/devices/usb1"));
  }

  addHub(hub: number, devnum: number): void {
    const dir = this.hubDir(hub);
    writeAttrs(dir, { idVendor: "2109", idProduct: "2817", bDeviceClass: "09", devpath: String(hub), busnum: "1", devnum: String(devnum), speed: "480", product: "USB2.0 Hub", authorized: "1" });
    link(`../../../${CONTROLLER_DIR}/1-${hub}`, path.join(this.root, "bus/usb/devices", `1-${hub}`));
  }

  removeHub(hub: number): void {
    fs.rmSync(path.join(this.root, "bus/usb/devices", `1-${hub}`), { force: true });
    fs.rmSync(this.hubDir(hub), { recursive: true, force: true });
  }

  hasHub(hub: number): boolean {
    return fs.existsSync(this.hubDir(hub));
  }

  /** The USB device directory with its descriptor attributes (no interfaces). */
  addDevice(m: SysfsModem): void {
    const dir = this.deviceDir(m);
    writeAttrs(dir, {
      idVendor: "2c7c", idProduct: "0125", bcdDevice: "0318",
      bDeviceClass: "ef", bDeviceSubClass: "02", bDeviceProtocol: "01",
      bNumConfigurations: "1", bConfigurationValue: "1", bNumInterfaces: " 5", bMaxPower: "500mA",
      manufacturer: "Quectel", product: "EC25-EUX", speed: "480", version: " 2.00",
      busnum: String(m.busnum), devnum: String(m.devnum), devpath: m.devpath, authorized: "1",
      // No "serial": EC25s report iSerial 0 [T 01, T 14, T 15].
      uevent: `MAJOR=189\nMINOR=${(m.busnum - 1) * 128 + m.devnum - 1}\nDEVNAME=bus/usb/${String(m.busnum).padStart(3, "0")}/${String(m.devnum).padStart(3, "0")}\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=2c7c/125/318\nTYPE=239/2/1\nBUSNUM=${String(m.busnum).padStart(3, "0")}\nDEVNUM=${String(m.devnum).padStart(3, "0")}`,
    });
    link("../../../../../../bus/usb/drivers/usb", path.join(dir, "driver"));
    link(`../../../${CONTROLLER_DIR}/1-${m.hub}/${m.usbDev}`, path.join(this.root, "bus/usb/devices", m.usbDev));
  }

  /** Interfaces 1.0–1.4 with their tty, net and usbmisc children, plus the class/ links. */
  addInterfaces(m: SysfsModem): void {
    const dev = this.deviceDir(m);
    const rel = `${CONTROLLER_DIR}/1-${m.hub}/${m.usbDev}`;
    for (const f of EC25_INTERFACES) {
      if (f.num === 4 && m.cdcWdm === undefined && !m.ifname) continue;
      const name = `${m.usbDev}:1.${f.num}`;
      const dir = path.join(dev, name);
      writeAttrs(dir, {
        bInterfaceNumber: String(f.num).padStart(2, "0"), bInterfaceClass: f.cls, bInterfaceSubClass: f.sub,
        bInterfaceProtocol: f.proto, bNumEndpoints: f.eps, bAlternateSetting: " 0",
        uevent: `DEVTYPE=usb_interface\nDRIVER=${f.driver}\nPRODUCT=2c7c/125/318\nINTERFACE=${parseInt(f.cls, 16)}/${parseInt(f.sub, 16)}/${parseInt(f.proto, 16)}`,
      });
      link(`../../../../../../../bus/usb/drivers/${f.driver}`, path.join(dir, "driver"));
      link(`../../../${rel}/${name}`, path.join(this.root, "bus/usb/devices", name));
      if (f.num <= 3) this.addTty(dir, rel, name, m.ttys[f.num]!);
      else this.addQmi(dir, rel, name, m);
    }
  }

  private addTty(ifDir: string, rel: string, ifName: string, n: number): void {
    const tty = `ttyUSB${n}`;
    writeAttrs(path.join(ifDir, tty), { port_number: "0", uevent: "DEVTYPE=usb-serial\nDRIVER=option1" });
    const cls = path.join(ifDir, tty, "tty", tty);
    writeAttrs(cls, { dev: `188:${n}`, uevent: `MAJOR=188\nMINOR=${n}\nDEVNAME=${tty}` });
    link(`../../../${tty}`, path.join(cls, "device"));
    link(`../../${rel}/${ifName}/${tty}/tty/${tty}`, path.join(this.root, "class/tty", tty));
  }

  private addQmi(ifDir: string, rel: string, ifName: string, m: SysfsModem): void {
    const net = path.join(ifDir, "net", m.ifname);
    writeAttrs(net, {
      // raw-ip netdevs are POINTOPOINT/NOARP, link/none (ec25.md §1.4): ARPHRD_NONE = 65534.
      type: m.rawIp ? "65534" : "1", mtu: "1500", addr_len: "6", flags: "0x1090",
      uevent: `DEVTYPE=wwan\nINTERFACE=${m.ifname}`,
    });
    writeAttrs(path.join(net, "qmi"), { raw_ip: m.rawIp ? "Y" : "N", pass_through: "N" });
    link("../../../" + ifName, path.join(net, "device"));
    // With --net loopback every modem's netdev is "lo": class/net/lo then belongs to the first modem that claims it.
    const classNet = path.join(this.root, "class/net", m.ifname);
    if (!fs.existsSync(classNet)) link(`../../${rel}/${ifName}/net/${m.ifname}`, classNet);
    if (m.cdcWdm !== undefined) {
      const wdm = `cdc-wdm${m.cdcWdm}`;
      const dir = path.join(ifDir, "usbmisc", wdm);
      writeAttrs(dir, { dev: `180:${m.cdcWdm}`, uevent: `MAJOR=180\nMINOR=${m.cdcWdm}\nDEVNAME=${wdm}` });
      link("../../../" + ifName, path.join(dir, "device"));
      link(`../../${rel}/${ifName}/usbmisc/${wdm}`, path.join(this.root, "class/usbmisc", wdm));
    }
  }

  /** Removes the interfaces (and their class/ links); with `device`, the USB device directory too. */
  remove(m: SysfsModem, { device }: { device: boolean }): void {
    for (const n of m.ttys) fs.rmSync(path.join(this.root, "class/tty", `ttyUSB${n}`), { force: true });
    const classNet = path.join(this.root, "class/net", m.ifname);
    try {
      if (fs.readlinkSync(classNet).includes(`/${m.usbDev}/`)) fs.rmSync(classNet, { force: true });
    } catch { /* not there */ }
    if (m.cdcWdm !== undefined) fs.rmSync(path.join(this.root, "class/usbmisc", `cdc-wdm${m.cdcWdm}`), { force: true });
    for (const f of EC25_INTERFACES) {
      const name = `${m.usbDev}:1.${f.num}`;
      fs.rmSync(path.join(this.root, "bus/usb/devices", name), { force: true });
      fs.rmSync(path.join(this.deviceDir(m), name), { recursive: true, force: true });
    }
    if (device) {
      fs.rmSync(path.join(this.root, "bus/usb/devices", m.usbDev), { force: true });
      fs.rmSync(this.deviceDir(m), { recursive: true, force: true });
    }
  }

  setDevnum(m: SysfsModem): void {
    const dir = this.deviceDir(m);
    if (fs.existsSync(dir)) write(path.join(dir, "devnum"), String(m.devnum));
  }

  setRawIp(m: SysfsModem): void {
    const file = path.join(this.deviceDir(m), `${m.usbDev}:1.4`, "net", m.ifname, "qmi", "raw_ip");
    if (fs.existsSync(path.dirname(file))) write(file, m.rawIp ? "Y" : "N");
    const type = path.join(this.deviceDir(m), `${m.usbDev}:1.4`, "net", m.ifname, "type");
    if (fs.existsSync(type)) write(type, m.rawIp ? "65534" : "1");
  }
}
