import { expect, test } from "bun:test";
import { LAB_TAC, luhnDigit, luhnValid, modemIdentity, NETWORKS } from "../../../src/sim/identity.ts";
import { parseSlot, slotTopology, idPathTag } from "../../../src/sim/topology.ts";
import { Rng } from "../../../src/sim/rng.ts";

test("Luhn: known IMEI from a real EC21 [T 32] passes, a changed digit fails", () => {
  expect(luhnValid("864394041083561")).toBe(true);
  expect(luhnValid("864394041083562")).toBe(false);
  expect(luhnDigit("86439404108356")).toBe(1);
});

test("1000 modems: unique Luhn-valid IMEIs sharing the lab TAC; deterministic per seed", () => {
  const imeis = Array.from({ length: 1000 }, (_, i) => modemIdentity(i, { seed: 42 }).imei);
  expect(new Set(imeis).size).toBe(1000);
  for (const imei of imeis) {
    expect(imei).toMatch(/^\d{15}$/);
    expect(imei.startsWith(LAB_TAC)).toBe(true);
    expect(luhnValid(imei)).toBe(true);
  }
  expect(modemIdentity(7, { seed: 42 })).toEqual(modemIdentity(7, { seed: 42 }));
  expect(modemIdentity(7, { seed: 43 }).imei).not.toBe(imeis[7]);
});

test("SIMs: 20-char F-padded Luhn ICCID [T 27 shape], 15-digit IMSI of the home network; roaming share", () => {
  const ids = Array.from({ length: 200 }, (_, i) => modemIdentity(i, { seed: 1, roamingShare: 0.25 }));
  for (const id of ids) {
    expect(id.sim.iccid).toMatch(/^89\d{17}F$/);
    expect(luhnValid(id.sim.iccid.slice(0, 19))).toBe(true);
    expect(id.sim.imsi).toMatch(/^\d{15}$/);
    expect(id.sim.imsi.startsWith(`${id.sim.homeMcc}${id.sim.homeMnc}`)).toBe(true);
    if (!id.roaming) expect(id.sim.homeMcc).toBe(id.network.mcc);
  }
  const roaming = ids.filter((i) => i.roaming).length;
  expect(roaming).toBeGreaterThan(20);
  expect(roaming).toBeLessThan(90);
  expect(new Set(ids.map((i) => i.sim.iccid)).size).toBe(200);
});

test("band/EARFCN pairs are inside their 3GPP ranges", () => {
  const ranges: Record<number, [number, number]> = { 1: [0, 599], 3: [1200, 1949], 7: [2750, 3449], 8: [3450, 3799], 20: [6150, 6449] };
  for (const n of NETWORKS) for (const b of n.bands) {
    const [lo, hi] = ranges[b.band]!;
    expect(b.earfcn).toBeGreaterThanOrEqual(lo);
    expect(b.earfcn).toBeLessThanOrEqual(hi);
  }
});

test("slots: ID_PATH_TAG of the AT interface, hub derivable", () => {
  expect(idPathTag("pci-0000:00:14.0-usb-0:1.3:1.2")).toBe("pci-0000_00_14_0-usb-0_1_3_1_2");
  expect(slotTopology(2).slot).toBe("pci-0000_00_14_0-usb-0_1_3_1_2");
  const t = slotTopology(39);
  expect(t).toMatchObject({ hub: 4, port: 10, usbDev: "1-4.10", devpath: "4.10" });
  expect(parseSlot(t.slot)).toEqual({ hub: 4, port: 10 });
  expect(parseSlot("platform-xhci-usb-0_1_1_2")).toBeUndefined();
  expect(new Set(Array.from({ length: 100 }, (_, i) => slotTopology(i).slot)).size).toBe(100);
});

test("Rng streams are reproducible and independent", () => {
  const a = Rng.stream(1, "x"), b = Rng.stream(1, "x"), c = Rng.stream(1, "y");
  const seqA = Array.from({ length: 5 }, () => a.int(0, 1000));
  expect(Array.from({ length: 5 }, () => b.int(0, 1000))).toEqual(seqA);
  expect(Array.from({ length: 5 }, () => c.int(0, 1000))).not.toEqual(seqA);
});
