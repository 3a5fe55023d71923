/** USB reset through a sysfs-shaped directory: 0 then 1 written to `authorized`, refusals for anything else. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authorizedPath, usbReset } from "../../../src/health/usb-reset.ts";

const root = mkdtempSync(join(tmpdir(), "health-sysfs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function device(name: string): string {
  const dir = join(root, "devices/pci0000:00/0000:00:14.0/usb1", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "authorized"), "1\n");
  mkdirSync(join(root, "bus/usb/devices"), { recursive: true });
  symlinkSync(dir, join(root, "bus/usb/devices", name));
  return join(dir, "authorized");
}

describe("usbReset", () => {
  test("writes 0, holds, writes 1 (through the bus/usb/devices link)", async () => {
    const file = device("1-2.3");
    const seen: string[] = [];
    const w = watch(file, () => seen.push(readFileSync(file, "utf8").trim()));
    expect(await usbReset(root, "1-2.3", 50)).toBe("ok");
    await Bun.sleep(50);
    w.close();
    expect(seen).toContain("0");
    expect(seen.at(-1)).toBe("1");
    expect(readFileSync(file, "utf8").trim()).toBe("1");
  });

  test("a device sysfs does not have: no-device, nothing created", async () => {
    expect(await usbReset(root, "1-9.9", 1)).toBe("no-device");
  });

  test("names that are not USB devices never reach a path", () => {
    for (const bad of ["../../etc", "1-1/../x", "", "1-1.3:1.2", "eth0"]) expect(() => authorizedPath(root, bad)).toThrow(/not a USB device/);
    expect(authorizedPath(root, "usb1")).toBe(join(root, "bus/usb/devices/usb1/authorized"));
  });
});
