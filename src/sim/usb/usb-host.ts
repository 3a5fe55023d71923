/**
 * The lab's "USB host": hands out kernel names when a modem enumerates, and lays out what udev and the kernel would:
 * the sysfs tree (sysfs-tree.ts), device nodes in the lab's dev root, and the udev-style slot links
 *   DIR/<slot>/at    -> <devRoot>/ttyUSBc -> /dev/pts/N      (If 2, primary AT port)
 *   DIR/<slot>/modem -> <devRoot>/ttyUSBd -> /dev/pts/M      (If 3, AT/PPP port)
 *   DIR/<slot>/qmi   -> <devRoot>/cdc-wdmK                   (unix socket that the lab qmicli talks to)
 * so basename(readlink(DIR/<slot>/at)) is "ttyUSBc", as with udev's link to /dev/ttyUSB2, and names
 * <sysfsRoot>/class/tty/ttyUSBc. Links appear last on enumeration and go first on removal, as udev orders them.
 */
import fs from "node:fs";
import path from "node:path";
import type { SlotTopology } from "../topology.ts";
import { DevnumCounter, LowestFree } from "./numbering.ts";
import { SysfsTree, type SysfsModem } from "./sysfs-tree.ts";

export interface UsbLayout {
  deviceDir: string;
  sysfsRoot: string;
  devRoot: string;
}

/** The kernel names one enumeration of one modem got. */
export interface Enumeration extends SysfsModem {
  slot: string;
  atPath: string;
  modemPath: string;
  /** DIR/<slot>/qmi, when the composition has QMI. */
  qmiPath?: string;
  /** The socket file in the dev root (DIR/<slot>/qmi points here). */
  qmiSocket?: string;
  /** True when `ifname` is a made-up wwanN from our pool (no lab network). */
  ifPooled: boolean;
}

export interface UsbHostOptions {
  /** Box-side netdev name of modem i from the lab network; undefined → a made-up wwanN. */
  ifname?: (index: number) => string | undefined;
}

export class UsbHost {
  readonly sysfs: SysfsTree;
  private readonly ttys = new LowestFree();
  private readonly wdms = new LowestFree();
  private readonly wwans = new LowestFree();
  private readonly devnums = new DevnumCounter([1]);
  private readonly hubDevnums = new Map<number, number>();
  private readonly failedHubs = new Set<number>();

  constructor(readonly layout: UsbLayout, private readonly opts: UsbHostOptions = {}) {
    this.sysfs = new SysfsTree(layout.sysfsRoot);
  }

  init(): void {
    for (const d of [this.layout.deviceDir, this.layout.devRoot, this.layout.sysfsRoot]) fs.mkdirSync(d, { recursive: true });
    this.sysfs.init();
  }

  hubFailed(hub: number): boolean {
    return this.failedHubs.has(hub);
  }

  failHub(hub: number): void {
    this.failedHubs.add(hub);
    this.sysfs.removeHub(hub);
    const devnum = this.hubDevnums.get(hub);
    if (devnum !== undefined) this.devnums.release(devnum);
    this.hubDevnums.delete(hub);
  }

  restoreHub(hub: number): void {
    this.failedHubs.delete(hub);
    this.ensureHub(hub);
  }

  private ensureHub(hub: number): void {
    if (this.hubDevnums.has(hub) && this.sysfs.hasHub(hub)) return;
    const devnum = this.devnums.take();
    this.hubDevnums.set(hub, devnum);
    this.sysfs.addHub(hub, devnum);
  }

  /** Takes kernel names for one enumeration (lowest free, like the usb-serial core and cdc-wdm). */
  allocate(topo: SlotTopology, { qmi, rawIp }: { qmi: boolean; rawIp: boolean }): Enumeration {
    this.ensureHub(topo.hub);
    const ttys = [this.ttys.take(), this.ttys.take(), this.ttys.take(), this.ttys.take()];
    const cdcWdm = qmi ? this.wdms.take() : undefined;
    const labIf = this.opts.ifname?.(topo.index);
    const ifname = labIf ?? `wwan${this.wwans.take()}`;
    const slotDir = path.join(this.layout.deviceDir, topo.slot);
    return {
      usbDev: topo.usbDev, hub: topo.hub, devpath: topo.devpath, busnum: topo.busnum,
      devnum: this.devnums.take(), ttys, cdcWdm, ifname, ifPooled: labIf === undefined, rawIp, slot: topo.slot,
      atPath: path.join(slotDir, "at"),
      modemPath: path.join(slotDir, "modem"),
      qmiPath: qmi ? path.join(slotDir, "qmi") : undefined,
      qmiSocket: cdcWdm === undefined ? undefined : path.join(this.layout.devRoot, `cdc-wdm${cdcWdm}`),
    };
  }

  release(en: Enumeration): void {
    for (const n of en.ttys) this.ttys.release(n);
    this.wdms.release(en.cdcWdm);
    const m = /^wwan(\d+)$/.exec(en.ifname);
    if (m && en.ifPooled) this.wwans.release(Number(m[1]));
    this.devnums.release(en.devnum);
  }

  /** sysfs + device nodes + slot links. `withDevice` false when the USB device dir already exists (USB reset). */
  publish(en: Enumeration, slaves: { at: string; modem: string }, { withDevice = true } = {}): void {
    // After a USB reset the device dir stays (the host wrote authorized itself); only devnum changes.
    if (withDevice) this.sysfs.addDevice(en);
    else this.sysfs.setDevnum(en);
    this.sysfs.addInterfaces(en);
    const atNode = path.join(this.layout.devRoot, `ttyUSB${en.ttys[2]}`);
    const modemNode = path.join(this.layout.devRoot, `ttyUSB${en.ttys[3]}`);
    relink(slaves.at, atNode);
    relink(slaves.modem, modemNode);
    const slotDir = path.dirname(en.atPath);
    fs.mkdirSync(slotDir, { recursive: true });
    if (en.qmiPath && en.qmiSocket) relink(en.qmiSocket, en.qmiPath);
    relink(modemNode, en.modemPath);
    relink(atNode, en.atPath);
  }

  /** Slot links, device nodes, then sysfs. `keepDevice` leaves the USB device dir (authorized=0). */
  unpublish(en: Enumeration, { keepDevice = false } = {}): void {
    fs.rmSync(path.dirname(en.atPath), { recursive: true, force: true });
    for (const n of [en.ttys[2], en.ttys[3]]) fs.rmSync(path.join(this.layout.devRoot, `ttyUSB${n}`), { force: true });
    if (en.qmiSocket) fs.rmSync(en.qmiSocket, { force: true });
    this.sysfs.remove(en, { device: !keepDevice });
  }

  /** Calls `onWrite` with the new content when someone writes the device's `authorized` attribute. */
  watchAuthorized(en: Enumeration, onWrite: (value: string) => void): () => void {
    const file = path.join(this.sysfs.deviceDir(en), "authorized");
    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = fs.watch(file, () => {
        let value = "";
        try { value = fs.readFileSync(file, "utf8").trim(); } catch { return; }
        if (value !== "") onWrite(value);
      });
      watcher.on("error", () => {});
    } catch { /* device dir already gone */ }
    return () => watcher?.close();
  }

  /** Removes everything this host created (lab stop). */
  destroy(): void {
    for (const d of [this.layout.deviceDir, this.layout.devRoot, this.layout.sysfsRoot]) fs.rmSync(d, { recursive: true, force: true });
  }
}

function relink(target: string, at: string): void {
  fs.rmSync(at, { force: true });
  fs.symlinkSync(target, at);
}
