/**
 * Issue 3 acceptance, modem part: 30 slots within 5 s; ATI framed byte-exact with echo; distinct Luhn IMEIs;
 * AT+QENG="servingcell" field count; AT+BOGUS → ERROR; CMEE=1 + no SIM → +CME ERROR: 10; AT+CFUN=1,1 → OK, the
 * port vanishes and comes back with echo on again.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { luhnValid } from "../../../src/sim/identity.ts";
import { startSimLab, type SimLab } from "../../../src/sim/lab.ts";
import { splitParams } from "../../../src/sim/modem/at-parse.ts";
import { HostPort } from "./host-port.ts";
import { isolateRegistry, removeRegistry } from "./lab-env.ts";

let registry: string;
let lab: SimLab;
let startMs = 0;
const open: HostPort[] = [];

beforeAll(async () => {
  registry = isolateRegistry("accept");
  const t0 = performance.now();
  lab = await startSimLab({ modems: 30, timeScale: 0.01, seed: 7, timings: { driftMs: 3_600_000 } });
  startMs = performance.now() - t0;
  await lab.ready();
});

afterAll(async () => {
  for (const p of open) await p.close();
  await lab?.stop();
  removeRegistry(registry);
});

function port(slotIndex: number): HostPort {
  const p = new HostPort(lab.list()[slotIndex]!.at!);
  open.push(p);
  return p;
}

test("30 slots appear within 5 s, each with at, modem and qmi", () => {
  expect(startMs).toBeLessThan(5000);
  const slots = fs.readdirSync(lab.info.deviceDir).sort();
  expect(slots).toHaveLength(30);
  for (const slot of slots) {
    expect(slot).toMatch(/^pci-0000_00_14_0-usb-0_\d+_\d+_1_2$/);
    for (const entry of ["at", "modem", "qmi"]) expect(fs.lstatSync(path.join(lab.info.deviceDir, slot, entry)).isSymbolicLink()).toBe(true);
    expect(fs.realpathSync(path.join(lab.info.deviceDir, slot, "at"))).toMatch(/^\/dev\/pts\/\d+$/);
  }
});

test("ATI answers with echo, Quectel, EC25 and the revision, framed as the reference", async () => {
  const p = port(0);
  const answer = await p.command("ATI");
  expect(answer).toBe(`ATI\r\r\nQuectel\r\nEC25\r\nRevision: ${lab.modems[0]!.firmware}\r\n\r\nOK\r\n`);
  expect(answer).toMatch(/\r\nRevision: EC25EUXGAR08A0\dM1G\r\n/);
});

test("IMEIs are distinct, 15 digits and pass Luhn; AT+GSN agrees", async () => {
  const imeis = lab.list().map((m) => m.imei);
  expect(new Set(imeis).size).toBe(30);
  for (const imei of imeis) {
    expect(imei).toMatch(/^\d{15}$/);
    expect(luhnValid(imei)).toBe(true);
  }
  const p = port(3);
  expect(await p.command("AT+GSN")).toBe(`AT+GSN\r\r\n${imeis[3]}\r\n\r\nOK\r\n`);
});

test('AT+QENG="servingcell" gives an LTE line with 18 fields (the reference\'s count)', async () => {
  const p = port(1);
  const answer = await p.command('AT+QENG="servingcell"');
  const line = answer.split("\r\n").find((l) => l.startsWith("+QENG:"))!;
  const fields = splitParams(line.slice("+QENG: ".length))!;
  // [T 02]: +QENG: "servingcell","NOCONN","LTE","FDD",250,99,A1A9566,113,550,1,3,3,61EA,-84,-11,-56,2,-
  const reference = splitParams('"servingcell","NOCONN","LTE","FDD",250,99,A1A9566,113,550,1,3,3,61EA,-84,-11,-56,2,-')!;
  expect(fields).toHaveLength(reference.length);
  expect(fields.slice(0, 4)).toEqual(['"servingcell"', '"NOCONN"', '"LTE"', '"FDD"']);
});

test("AT+BOGUS gives ERROR", async () => {
  expect(await port(2).command("AT+BOGUS")).toBe("AT+BOGUS\r\r\nERROR\r\n");
});

test("AT+CMEE=1 and the SIM removed: AT+CPIN? gives +CME ERROR: 10", async () => {
  const p = port(4);
  expect(await p.command("AT+CMEE=1")).toBe("AT+CMEE=1\r\r\nOK\r\n");
  p.buf = "";
  const r = await lab.ctl(lab.list()[4]!.slot, "no-sim");
  expect(r.targets[0]!.ok).toBe(true);
  // Removal is announced as a URC (ec25.md §3.6) before we ask.
  expect(await p.waitFor((b) => b.includes("\r\n+CPIN: NOT READY\r\n"), 1000, "removal URC")).toBe("\r\n+CPIN: NOT READY\r\n");
  expect(await p.command("AT+CPIN?")).toBe("AT+CPIN?\r\r\n+CME ERROR: 10\r\n");
  expect(await p.command("AT+CMEE=2")).toContain("OK");
  expect(await p.command("AT+CPIN?")).toBe("AT+CPIN?\r\r\n+CME ERROR: SIM not inserted\r\n");
  await lab.ctl(lab.list()[4]!.slot, "sim");
  await p.waitFor((b) => b.includes("+QIND: PB DONE"), 2000, "SIM burst");
  expect(await p.command("AT+CPIN?")).toBe("AT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n");
});

test("AT+CFUN=1,1: OK, the at link disappears and returns, echo is on again", async () => {
  const m = lab.list()[5]!;
  const before = fs.readlinkSync(m.at!);
  const p = port(5);
  expect(await p.command("ATE0")).toBe("ATE0\r\r\nOK\r\n");
  expect(await p.command("AT")).toBe("\r\nOK\r\n");
  expect(await p.command("AT+CFUN=1,1")).toBe("\r\nOK\r\n");
  await p.ended; // the host's read ends: the device is gone
  await lab.waitFor(() => !fs.existsSync(m.at!), 2000, "at link gone");
  await lab.waitFor(() => fs.existsSync(m.at!), 5000, "at link back");
  await lab.waitFor(() => lab.list()[5]!.state === "registered", 5000, "booted"); // boot URCs done
  expect(fs.readlinkSync(m.at!)).toMatch(/\/ttyUSB\d+$/);
  expect(typeof before).toBe("string");
  const again = port(5);
  expect(await again.command("AT")).toBe("AT\r\r\nOK\r\n");
});
