/**
 * USB reset through sysfs: writing 0 then 1 to `<sysfs>/bus/usb/devices/<dev>/authorized` unbinds every interface
 * of the device and re-enumerates it, like a replug without touching power (docs/lab.md "USB reset"; the lab
 * models the same file). For a modem `<dev>` is its USB device ("1-1.3", modems.usb_device); for a hub it is the
 * hub ("1-1", modems.hub), which resets every device behind it at once.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../lib/errors.ts";

/** Kernel USB device names: "usb1", "1-1", "1-1.3", "2-1.4.2". Anything else never reaches a path. */
const USB_NAME = /^(usb\d{1,3}|\d{1,3}-\d{1,3}(\.\d{1,3}){0,6})$/;

export function authorizedPath(sysfsRoot: string, device: string): string {
  if (!USB_NAME.test(device)) throw new AppError("HEAL_BAD_USB_DEVICE", `not a USB device name: ${JSON.stringify(device)}`);
  return join(sysfsRoot, "bus/usb/devices", device, "authorized");
}

export type UsbResetResult = "ok" | "no-device";

/**
 * Deauthorizes `device`, waits `holdMs`, authorizes it again. "no-device" when sysfs has no such device (a hub
 * that lost power, a modem already gone); write errors (EACCES without root) throw HEAL_USB_RESET_FAILED.
 */
export async function usbReset(sysfsRoot: string, device: string, holdMs = 1000, sleep: (ms: number) => Promise<void> = Bun.sleep): Promise<UsbResetResult> {
  const file = authorizedPath(sysfsRoot, device);
  if (!existsSync(file)) return "no-device";
  try {
    writeFileSync(file, "0\n");
    await sleep(holdMs);
    writeFileSync(file, "1\n");
  } catch (e) {
    // Never leave a device deauthorized: that is a modem switched off until someone replugs it.
    try {
      if (existsSync(file)) writeFileSync(file, "1\n");
    } catch { /* reported below */ }
    throw new AppError("HEAL_USB_RESET_FAILED", `USB reset of ${device} failed: ${(e as Error).message}`, { device });
  }
  return "ok";
}
