/**
 * A /dev + /sys replica in a temp dir with the kernel's layout (ec25.md §1.4) and udev's relative slot links
 * (`/dev/modems/<slot>/at -> ../../ttyUSB2`), for the sysfs and detector tests.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const USB1 = "devices/pci0000:00/0000:00:14.0/usb1";

export interface FakeModem {
  slot: string;
  /** "1-1.3": hub 1-1, port 3. */
  usbDev: string;
  /** ttyUSB numbers of interfaces 2 and 3. */
  at: number;
  modem: number;
  cdcWdm?: number;
  ifname?: string;
}

export class FakeBox {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "lteproxy-sysfs-"));
  readonly sysfsRoot = path.join(this.root, "sys");
  readonly devRoot = path.join(this.root, "dev");
  readonly deviceDir = path.join(this.root, "dev", "modems");

  constructor() {
    for (const d of ["class/tty", "class/net", "class/usbmisc"]) fs.mkdirSync(path.join(this.sysfsRoot, d), { recursive: true });
    fs.mkdirSync(this.deviceDir, { recursive: true });
  }

  private devDir(m: FakeModem): string {
    const hub = m.usbDev.split(".")[0]!;
    return path.join(this.sysfsRoot, USB1, hub, m.usbDev);
  }

  /** Kernel side only (sysfs + device nodes), no slot links yet. */
  addKernel(m: FakeModem): void {
    const hub = m.usbDev.split(".")[0]!;
    const dev = this.devDir(m);
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(dev, "idVendor"), "2c7c\n");
    for (const [n, ifnum] of [[m.at, 2], [m.modem, 3]] as const) {
      const tty = `ttyUSB${n}`;
      const cls = path.join(dev, `${m.usbDev}:1.${ifnum}`, tty, "tty", tty);
      fs.mkdirSync(cls, { recursive: true });
      fs.symlinkSync(`../../../${tty}`, path.join(cls, "device"));
      fs.symlinkSync(`../../${USB1}/${hub}/${m.usbDev}/${m.usbDev}:1.${ifnum}/${tty}/tty/${tty}`, path.join(this.sysfsRoot, "class/tty", tty));
      fs.writeFileSync(path.join(this.devRoot, tty), "");
    }
    const qmiIf = path.join(dev, `${m.usbDev}:1.4`);
    if (m.ifname) fs.mkdirSync(path.join(qmiIf, "net", m.ifname), { recursive: true });
    if (m.cdcWdm !== undefined) {
      fs.mkdirSync(path.join(qmiIf, "usbmisc", `cdc-wdm${m.cdcWdm}`), { recursive: true });
      fs.writeFileSync(path.join(this.devRoot, `cdc-wdm${m.cdcWdm}`), "");
    }
  }

  /** udev's links: /dev/modems/<slot>/{at,modem[,qmi]} relative to the slot dir. */
  addLinks(m: FakeModem, { qmi = true } = {}): void {
    const dir = path.join(this.deviceDir, m.slot);
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(`../../ttyUSB${m.modem}`, path.join(dir, "modem"));
    if (qmi && m.cdcWdm !== undefined) fs.symlinkSync(`../../cdc-wdm${m.cdcWdm}`, path.join(dir, "qmi"));
    fs.symlinkSync(`../../ttyUSB${m.at}`, path.join(dir, "at"));
  }

  add(m: FakeModem, opts: { qmi?: boolean } = {}): void {
    this.addKernel(m);
    this.addLinks(m, opts);
  }

  /** Links first, then sysfs and nodes, as udev/kernel remove them. */
  remove(m: FakeModem): void {
    fs.rmSync(path.join(this.deviceDir, m.slot), { recursive: true, force: true });
    for (const n of [m.at, m.modem]) {
      fs.rmSync(path.join(this.sysfsRoot, "class/tty", `ttyUSB${n}`), { force: true });
      fs.rmSync(path.join(this.devRoot, `ttyUSB${n}`), { force: true });
    }
    if (m.cdcWdm !== undefined) fs.rmSync(path.join(this.devRoot, `cdc-wdm${m.cdcWdm}`), { force: true });
    fs.rmSync(this.devDir(m), { recursive: true, force: true });
  }

  destroy(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
