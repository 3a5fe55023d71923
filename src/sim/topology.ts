/**
 * Where each modem sits on the lab's USB tree (pure). One xHCI controller (PCI 0000:00:14.0, bus 1); hub h hangs on
 * root port h and modem p on hub port p, so modem (h, p) is USB device "1-h.p". The slot name is the ID_PATH_TAG that
 * udev gives the modem's AT interface (If 2), e.g. "pci-0000_00_14_0-usb-0_1_3_1_2" for device 1-1.3 (ec25.md §2.3).
 */
import { AppError } from "../lib/errors.ts";

export const PCI_CONTROLLER = "0000:00:14.0";
export const USB_BUS = 1;
export const DEFAULT_PORTS_PER_HUB = 10;

export interface SlotTopology {
  index: number;
  /** 1-based hub number (the root-hub port the hub is plugged into). */
  hub: number;
  /** 1-based port on that hub. */
  port: number;
  busnum: number;
  /** Kernel name of the USB device: "1-2.7". */
  usbDev: string;
  /** sysfs devpath attribute: "2.7". */
  devpath: string;
  /** udev ID_PATH of the AT interface: "pci-0000:00:14.0-usb-0:2.7:1.2". */
  idPath: string;
  /** ID_PATH_TAG of the AT interface: the slot directory name. */
  slot: string;
}

/** udev's ID_PATH_TAG: every character other than [A-Za-z0-9-] becomes "_". */
export function idPathTag(idPath: string): string {
  return idPath.replace(/[^A-Za-z0-9-]/g, "_");
}

export function slotTopology(index: number, portsPerHub = DEFAULT_PORTS_PER_HUB): SlotTopology {
  if (!Number.isInteger(index) || index < 0) throw new AppError("SIM_BAD_INDEX", `bad modem index ${index}`);
  const hub = Math.floor(index / portsPerHub) + 1;
  const port = (index % portsPerHub) + 1;
  const devpath = `${hub}.${port}`;
  const idPath = `pci-${PCI_CONTROLLER}-usb-0:${devpath}:1.2`;
  return { index, hub, port, busnum: USB_BUS, usbDev: `${USB_BUS}-${devpath}`, devpath, idPath, slot: idPathTag(idPath) };
}

/** Hub and port of a lab slot name, or undefined when the name is not one of ours. */
export function parseSlot(slot: string): { hub: number; port: number } | undefined {
  const m = /^pci-0000_00_14_0-usb-0_(\d+)_(\d+)_1_2$/.exec(slot);
  return m ? { hub: Number(m[1]), port: Number(m[2]) } : undefined;
}
