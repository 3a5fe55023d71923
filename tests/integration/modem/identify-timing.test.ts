/**
 * Appearance → identification with the lab's realistic timings (timeScale 1: 10–50 ms per command). The target is
 * "well under 1 s"; the bound here is generous for a loaded 2-core box, bench/modem-identify.ts reports the numbers.
 */
import { afterAll, expect, test } from "bun:test";
import path from "node:path";
import { startRig, until, type Rig } from "./helpers.ts";

let rig: Rig;
afterAll(async () => rig?.stop());

test("modems plugged in while the manager runs are identified within a second or so", async () => {
  rig = await startRig();
  const dirs = { deviceDir: path.join(rig.tmp, "devices"), sysfsRoot: path.join(rig.tmp, "sys"), devRoot: path.join(rig.tmp, "dev") };
  const manager = rig.newManager(dirs);
  const appeared = new Map<string, number>();
  const took: number[] = [];
  manager.on("appeared", (slot) => appeared.set(slot, performance.now()));
  manager.on("identified", (m) => {
    const t = appeared.get(m.slot!);
    if (t !== undefined && m.identity?.imei) took.push(performance.now() - t);
  });
  await manager.start();
  const lab = await rig.startLab({ modems: 3, timeScale: 1, ...dirs });
  await until(() => took.length >= 3, "3 modems identified", 10_000);
  expect(Math.max(...took)).toBeLessThan(1500);
  // identified means the full identity, read from the modem (ICCID may still be null while the SIM initialises)
  for (const m of lab.modems) expect(manager.get(m.identity.imei)!.identity!.model).toBe("EC25");
}, 30_000);
