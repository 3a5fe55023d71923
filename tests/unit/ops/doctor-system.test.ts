/**
 * Doctor's box checks over a temp device dir with real symlinks and fake systemctl/udevadm/qmicli runners:
 * each check must be able to say ok, warn and fail.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../../src/config.ts";
import { checkClock, checkModemManager, checkQmicli, checkSlots, checkUdevRules, readSlots, type Runner } from "../../../src/cli/ops/doctor-system.ts";

const dir = mkdtempSync(join(tmpdir(), "ltp-doctor-"));
const dev = join(dir, "dev");
const modems = join(dir, "modems");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = (over: Record<string, Record<string, unknown>> = {}): Config =>
  loadConfig({ env: {}, overrides: { paths: { device_dir: modems, data_dir: dir, runtime_dir: dir }, ...over } });
const reply = (stdout: string, code = 0): Runner => async () => ({ code, stdout, stderr: "" });

mkdirSync(dev);
for (const n of ["ttyUSB2", "ttyUSB3", "cdc-wdm0", "ttyUSB6", "ttyUSB7"]) writeFileSync(join(dev, n), "");
const slotA = "pci-0000_00_14_0-usb-0_1_1";
const slotB = "pci-0000_00_14_0-usb-0_1_2";
mkdirSync(join(modems, slotA), { recursive: true });
mkdirSync(join(modems, slotB), { recursive: true });
symlinkSync(join(dev, "ttyUSB2"), join(modems, slotA, "at"));
symlinkSync(join(dev, "ttyUSB3"), join(modems, slotA, "modem"));
symlinkSync(join(dev, "cdc-wdm0"), join(modems, slotA, "qmi"));
symlinkSync(join(dev, "ttyUSB6"), join(modems, slotB, "at"));
symlinkSync(join(dev, "ttyUSB7"), join(modems, slotB, "modem"));
symlinkSync(join(dev, "cdc-wdm9"), join(modems, slotB, "qmi")); // dangling: re-enumerating, or ECM mode

describe("udev rules", () => {
  test("found, missing where udev names the modems (fail), missing in a lab dir (warn)", () => {
    const rules = join(dir, "99-lteproxy-ec25.rules");
    writeFileSync(rules, "#");
    expect(checkUdevRules(cfg(), [join(dir, "nope"), rules])).toMatchObject({ level: "ok", detail: rules });
    expect(checkUdevRules(cfg({ paths: { device_dir: "/dev/modems" } }), [join(dir, "nope")]).level).toBe("fail");
    expect(checkUdevRules(cfg(), [join(dir, "nope")]).level).toBe("warn");
  });
});

describe("modems per slot", () => {
  test("reads each slot's links and tells dangling ones apart", () => {
    expect(readSlots(modems)).toEqual([
      { slot: slotA, present: ["at", "modem", "qmi"], dangling: [] },
      { slot: slotB, present: ["at", "modem"], dangling: ["qmi"] },
    ]);
  });

  test("an incomplete slot and a database slot that is not visible are warnings; an empty dir too", () => {
    const r = checkSlots(cfg(), { slots: [slotA, "pci-0000_00_14_0-usb-0_2_9"] });
    expect(r.level).toBe("warn");
    expect(r.detail).toContain("2 slot(s), 1 complete");
    expect(r.detail).toContain(`${slotB}: no qmi (dangling qmi)`);
    expect(r.detail).toContain("not visible: pci-0000_00_14_0-usb-0_2_9");
    expect(checkSlots(cfg({ paths: { device_dir: join(dir, "empty") } })).level).toBe("warn");
    rmSync(join(modems, slotB, "qmi"));
    symlinkSync(join(dev, "cdc-wdm0"), join(modems, slotB, "qmi"));
    expect(checkSlots(cfg(), { slots: [slotA, slotB] }).level).toBe("ok");
  });
});

describe("ModemManager", () => {
  test("not running: ok; running with every AT port ignored: ok; running and one port not ignored: fail", async () => {
    expect((await checkModemManager(cfg(), { systemctl: reply("inactive\n", 3) })).level).toBe("ok");
    const asked: string[] = [];
    const udevadm: Runner = async (argv) => {
      asked.push(argv.at(-1)!);
      return { code: 0, stdout: argv.at(-1)!.includes(slotB) ? "ID_VENDOR_ID=2c7c\n" : "ID_VENDOR_ID=2c7c\nID_MM_DEVICE_IGNORE=1\n", stderr: "" };
    };
    const r = await checkModemManager(cfg(), { systemctl: reply("active\n"), udevadm });
    expect(asked).toEqual([join(modems, slotA, "at"), join(modems, slotB, "at")]);
    expect(r.level).toBe("fail");
    expect(r.detail).toContain(join(modems, slotB, "at"));
    const ok = await checkModemManager(cfg(), { systemctl: reply("active\n"), udevadm: reply("ID_MM_DEVICE_IGNORE=1\n") });
    expect(ok).toMatchObject({ level: "ok", detail: "running, but all 2 AT port(s) carry ID_MM_DEVICE_IGNORE=1" });
  });
});

describe("qmicli", () => {
  test("version shown; missing fails for the qmi driver and warns for others", async () => {
    expect(await checkQmicli(cfg(), reply("qmicli 1.32.2\nCopyright (C) 2012-2023 Aleksander Morgado\n"))).toMatchObject({ level: "ok", detail: "qmicli 1.32.2" });
    const missing: Runner = async () => ({ code: 127, stdout: "", stderr: "cannot run qmicli: not found" });
    expect((await checkQmicli(cfg(), missing)).level).toBe("fail");
    expect((await checkQmicli(cfg({ net: { driver: "at-rmnet" } }), missing)).level).toBe("warn");
    const args: string[][] = [];
    await checkQmicli(cfg({ net: { qmicli: "lteproxy sim qmicli" } }), async (a) => (args.push(a), { code: 0, stdout: "qmicli 1.30.0", stderr: "" }));
    expect(args).toEqual([["lteproxy", "sim", "qmicli", "--version"]]);
  });
});

describe("clock", () => {
  test("before the build: fail; skew to PostgreSQL or no NTP: warn; fine: ok", async () => {
    const now = new Date("2026-11-25T12:00:00Z");
    expect((await checkClock({ now: new Date("2020-01-01T00:00:00Z"), buildDate: "2026-11-01T00:00:00Z" })).level).toBe("fail");
    const skew = await checkClock({ now, dbNow: new Date(now.getTime() + 30_000) });
    expect(skew).toMatchObject({ level: "warn" });
    expect(skew.detail).toContain("30.0 s");
    expect((await checkClock({ now, timedatectl: reply("no\n") })).detail).toContain("NTPSynchronized=no");
    expect(await checkClock({ now, dbNow: now, timedatectl: reply("yes\n") })).toMatchObject({ level: "ok", detail: `${now.toISOString()}, NTP synchronised` });
  });
});
