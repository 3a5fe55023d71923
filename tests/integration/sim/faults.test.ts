/**
 * AT-level behaviour and faults on real ptys: garbage / hang / slow / wedge, injected CME errors, URCs between and
 * inside answers and their routing, SMS (+CMTI, lists, the "> " prompt), USSD, registration URCs, CFUN, settings.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimLab, type SimLab } from "../../../src/sim/lab.ts";
import { HostPort } from "./host-port.ts";
import { isolateRegistry, removeRegistry } from "./lab-env.ts";

let registry: string;
let lab: SimLab;
const ports: HostPort[] = [];

beforeAll(async () => {
  registry = isolateRegistry("faults");
  // Drift (and its rare handover URCs) off: these tests compare whole answers byte for byte.
  lab = await startSimLab({ modems: 8, timeScale: 0.01, seed: 5, roamingShare: 0, timings: { driftMs: 3_600_000 } });
  await lab.ready();
});

afterAll(async () => {
  for (const p of ports) await p.close();
  await lab?.stop();
  removeRegistry(registry);
});

const byPath = new Map<string, HostPort>();

/** One host handle per port: two readers on one tty would steal each other's bytes. */
function open(i: number, which: "at" | "modem" = "at"): HostPort {
  const m = lab.list()[i]!;
  const file = which === "at" ? m.at! : m.at!.replace(/\/at$/, "/modem");
  const known = byPath.get(file);
  if (known) return known;
  const p = new HostPort(file);
  byPath.set(file, p);
  ports.push(p);
  return p;
}

describe("faults", () => {
  test("garbage: noise bytes arrive, answers still end in OK; clear stops it", async () => {
    const p = open(0);
    expect(await p.command("AT")).toBe("AT\r\r\nOK\r\n");
    p.buf = "";
    await lab.ctl("0", "garbage");
    const burst = await p.waitFor((b) => b.length >= 16, 1000, "garbage burst");
    expect(burst.length).toBeGreaterThanOrEqual(16);
    const noisy = await p.command("AT+CSQ");
    expect(noisy).toStartWith("AT+CSQ\r");
    expect(noisy).toMatch(/\r\n\+CSQ: \d+,99\r\n\r\nOK\r\n$/);
    expect(noisy.length).toBeGreaterThan("AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n".length);
    await lab.ctl("0", "clear");
    expect(await p.command("AT+CSQ")).toMatch(/^AT\+CSQ\r\r\n\+CSQ: \d+,99\r\n\r\nOK\r\n$/);
  });

  test("hang: no echo, no answer; clear: answers again", async () => {
    const p = open(1);
    await lab.ctl(lab.list()[1]!.imei, "hang");
    p.buf = "";
    p.write("AT\r");
    await Bun.sleep(300);
    expect(p.buf).toBe("");
    expect(lab.list()[1]!.faults).toContain("hang");
    await lab.ctl("1", "clear");
    expect(await p.command("AT")).toBe("AT\r\r\nOK\r\n");
  });

  test("wedge: echoes but never answers [T 38]", async () => {
    const p = open(1);
    await lab.ctl("1", "wedge");
    p.buf = "";
    p.write("AT+CMGD=0,4\r");
    await Bun.sleep(200);
    expect(p.buf).toBe("AT+CMGD=0,4\r");
    await lab.ctl("1", "clear");
    expect(await p.command("AT")).toBe("AT\r\r\nOK\r\n");
  });

  test("slow <ms>: every answer takes at least that long", async () => {
    const p = open(2);
    await lab.ctl("2", "slow", "250");
    const t0 = performance.now();
    expect(await p.command("AT", 5000)).toBe("AT\r\r\nOK\r\n");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(245);
    await lab.ctl("2", "slow", "0");
    expect(lab.list()[2]!.faults).not.toContain("slow 250");
  });

  test("cme <command> <code>: the command fails with that error per CMEE, others still work", async () => {
    const p = open(2);
    await lab.ctl("2", "cme", "AT+COPS?", "30");
    expect(await p.command("AT+COPS?")).toBe("AT+COPS?\r\r\n+CME ERROR: 30\r\n");
    expect(await p.command("AT+CMEE=2")).toContain("OK");
    expect(await p.command("AT+COPS?")).toBe("AT+COPS?\r\r\n+CME ERROR: no network service\r\n");
    expect(await p.command("AT+CMEE=0")).toContain("OK");
    expect(await p.command("AT+COPS?")).toBe("AT+COPS?\r\r\nERROR\r\n");
    expect(await p.command("AT+CSQ")).toContain("OK");
    await lab.ctl("2", "cme", "+COPS?", "off");
    expect(await p.command("AT+COPS?")).toMatch(/\+COPS: 0,0,"[^"]+",7\r\n\r\nOK\r\n$/);
  });

  test("bad actions are rejected with codes", async () => {
    await expect(lab.ctl("0", "explode")).rejects.toMatchObject({ code: "SIM_UNKNOWN_ACTION" });
    await expect(lab.ctl("nope", "hang")).rejects.toMatchObject({ code: "SIM_UNKNOWN_TARGET" });
    await expect(lab.ctl("0", "slow", "soon")).rejects.toMatchObject({ code: "SIM_BAD_ARGS" });
    await expect(lab.ctl("0", "sticky", "2")).rejects.toMatchObject({ code: "SIM_BAD_ARGS" });
  });
});

describe("URCs", () => {
  test("between answers on the URC port only; AT+QURCCFG moves them", async () => {
    const at = open(3);
    const modem = open(3, "modem");
    expect(await modem.command("AT")).toBe("AT\r\r\nOK\r\n");
    at.buf = ""; modem.buf = "";
    await lab.ctl("3", "urc", "+QIND: \"csq\",20,99");
    expect(await at.waitFor((b) => b.length > 0, 1000, "urc")).toBe('\r\n+QIND: "csq",20,99\r\n');
    await Bun.sleep(30);
    expect(modem.buf).toBe("");
    expect(await at.command('AT+QURCCFG="urcport","usbmodem"')).toContain("OK");
    expect(await at.command('AT+QURCCFG="urcport"')).toBe('AT+QURCCFG="urcport"\r\r\n+QURCCFG: "urcport","usbmodem"\r\n\r\nOK\r\n');
    at.buf = ""; modem.buf = "";
    await lab.ctl("3", "urc", "RING");
    expect(await modem.waitFor((b) => b.length > 0, 1000, "urc on modem port")).toBe("\r\nRING\r\n");
    expect(at.buf).toBe("");
    expect(await at.command('AT+QURCCFG="urcport","usbat"')).toContain("OK");
  });

  test("inside an answer: a URC raised while a command runs lands before its final OK", async () => {
    const p = open(3);
    await lab.ctl("3", "slow", "150");
    p.buf = "";
    p.write("AT+CSQ\r");
    await Bun.sleep(40);
    await lab.ctl("3", "urc", "+QIND: SMS DONE");
    const answer = await p.waitFor((b) => /\r\nOK\r\n$/.test(b), 3000, "answer");
    expect(answer).toMatch(/^AT\+CSQ\r\r\n\+CSQ: \d+,99\r\n\r\n\+QIND: SMS DONE\r\n\r\nOK\r\n$/);
    await lab.ctl("3", "slow", "0");
  });

  test("registration URCs with AT+CEREG=2 / AT+CREG=1 on service loss and return", async () => {
    const p = open(4);
    expect(await p.command("AT+CEREG=2;+CREG=1")).toBe("AT+CEREG=2;+CREG=1\r\r\nOK\r\n");
    expect(await p.command("AT+CEREG?")).toMatch(/^AT\+CEREG\?\r\r\n\+CEREG: 2,1,"[0-9A-F]{4}","[0-9A-F]+",7\r\n\r\nOK\r\n$/);
    p.buf = "";
    await lab.ctl("4", "no-service");
    await p.waitFor((b) => b.includes("+CREG: 2\r\n"), 1000, "searching URCs");
    expect(p.buf).toContain("\r\n+CEREG: 2\r\n");
    expect(await p.command("AT+QNWINFO")).toBe("AT+QNWINFO\r\r\n+QNWINFO: No Service\r\n\r\nOK\r\n");
    expect(await p.command('AT+QENG="servingcell"')).toBe('AT+QENG="servingcell"\r\r\n+QENG: "servingcell","SEARCH"\r\n\r\nOK\r\n');
    expect(await p.command("AT+CSQ")).toBe("AT+CSQ\r\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    p.buf = "";
    await lab.ctl("4", "service");
    const back = await p.waitFor((b) => /\+CEREG: 1,"[0-9A-F]{4}","[0-9A-F]+",7\r\n/.test(b), 2000, "registered URC");
    expect(back).toContain("\r\n+CREG: 1\r\n");
  });

  test("AT+CFUN=4 drops registration, AT+CFUN=1 re-registers after the configured delay", async () => {
    const p = open(4);
    // CREG=1/CEREG=2 are still on from the test before: the URCs land inside the answer, before OK.
    expect(await p.command("AT+CFUN=4")).toBe("AT+CFUN=4\r\r\n+CREG: 0\r\n\r\n+CEREG: 0\r\n\r\nOK\r\n");
    expect(await p.command("AT+CFUN?;+COPS?")).toBe("AT+CFUN?;+COPS?\r\r\n+CFUN: 4\r\n\r\n+COPS: 0\r\n\r\nOK\r\n");
    expect(lab.list()[4]!.state).toBe("radio-off");
    expect(await p.command("AT+CFUN=1")).toMatch(/^AT\+CFUN=1\r\r\n(\+CREG: 2\r\n\r\n\+CEREG: 2\r\n\r\n)?OK\r\n$/);
    await lab.waitFor(() => lab.list()[4]!.state === "registered", 2000, "re-registered");
  });
});

describe("SMS and USSD", () => {
  test("an incoming SMS is announced with +CMTI and listed, read and deleted in text mode", async () => {
    const p = open(5);
    expect(await p.command("AT+CMGF=1")).toContain("OK");
    p.buf = "";
    const r = await lab.ctl("5", "sms", "+491701234567", "Code 4711 for you");
    expect(r.targets[0]!.detail).toEqual({ index: 0 });
    expect(await p.waitFor((b) => b.includes("+CMTI"), 1000, "+CMTI")).toBe('\r\n+CMTI: "SM",0\r\n');
    const list = await p.command('AT+CMGL="ALL"');
    expect(list).toMatch(/^AT\+CMGL="ALL"\r\r\n\+CMGL: 0,"REC UNREAD","\+491701234567",,"\d\d\/\d\d\/\d\d,\d\d:\d\d:\d\d\+00"\r\nCode 4711 for you\r\n\r\nOK\r\n$/);
    expect(await p.command("AT+CMGR=0")).toMatch(/^AT\+CMGR=0\r\r\n\+CMGR: "REC READ","\+491701234567",,"[^"]+"\r\nCode 4711 for you\r\n\r\nOK\r\n$/);
    expect(await p.command("AT+CMGD=0")).toContain("OK");
    expect(await p.command('AT+CMGL="ALL"')).toBe('AT+CMGL="ALL"\r\r\nOK\r\n');
    expect(await p.command("AT+CMGR=99")).toBe("AT+CMGR=99\r\r\n+CMS ERROR: 321\r\n");
  });

  test("PDU mode lists an SMS-DELIVER PDU with its TPDU length", async () => {
    const p = open(5);
    expect(await p.command("AT+CMGF=0")).toContain("OK");
    await lab.ctl("5", "sms", "+491701234567", "hellohello");
    const list = await p.command("AT+CMGL=4");
    const m = /\+CMGL: (\d+),0,,(\d+)\r\n([0-9A-F]+)\r\n/.exec(list)!;
    expect(m).not.toBeNull();
    const pdu = m[3]!;
    expect(pdu.length / 2 - (parseInt(pdu.slice(0, 2), 16) + 1)).toBe(Number(m[2]));
    expect(pdu).toEndWith("0AE8329BFD4697D9EC37"); // UDL 10 + "hellohello" packed (3GPP 23.038 example)
    expect(await p.command("AT+CMGD=0,4")).toContain("OK");
  });

  test('AT+CMGS: "\\r\\n> " prompt, text, Ctrl-Z → +CMGS: <mr>; ESC aborts', async () => {
    const p = open(6);
    expect(await p.command("AT+CMGF=1")).toContain("OK");
    expect(await p.command('AT+CMGS="+491709999999"')).toBe('AT+CMGS="+491709999999"\r\r\n> ');
    p.buf = "";
    p.write("line one\rline two\x1a");
    const sent = await p.waitFor((b) => /\r\nOK\r\n$/.test(b), 2000, "+CMGS");
    expect(sent).toMatch(/^line one\r\n> line two\r\n\+CMGS: \d+\r\n\r\nOK\r\n$/);
    expect(await p.command('AT+CMGS="+491709999999"')).toEndWith("\r\n> ");
    p.buf = "";
    p.write("never mind\x1b");
    expect(await p.waitFor((b) => b.endsWith("\r\nOK\r\n"), 1000, "abort")).toBe("never mind\r\nOK\r\n");
    expect(await p.command("AT")).toBe("AT\r\r\nOK\r\n");
  });

  test("AT+CUSD: OK first, then the +CUSD URC with the configured reply", async () => {
    const p = open(6);
    await lab.ctl("6", "ussd-reply", "Balance: 9.99 EUR");
    expect(await p.command('AT+CUSD=1,"*100#",15')).toBe('AT+CUSD=1,"*100#",15\r\r\nOK\r\n');
    expect(await p.waitFor((b) => b.includes("+CUSD:"), 2000, "+CUSD")).toEndWith('\r\n+CUSD: 0,"Balance: 9.99 EUR",15\r\n');
  });
});

describe("settings", () => {
  test("ATE0, ATV0, ATQ1, AT&W and a reboot restores the saved profile", async () => {
    const p = open(7);
    expect(await p.command("ATE0")).toBe("ATE0\r\r\nOK\r\n");
    p.buf = "";
    p.write("ATV0\r");
    expect(await p.waitFor((b) => b === "0\r", 1000, "numeric OK")).toBe("0\r");
    p.buf = "";
    p.write("AT+CSQ\r");
    expect(await p.waitFor((b) => b.endsWith("0\r"), 1000, "V0 answer")).toMatch(/^\+CSQ: \d+,99\r\n0\r$/);
    p.buf = "";
    p.write("ATV1Q1\r");
    await Bun.sleep(60);
    expect(p.buf).toBe("");
    expect(await p.command("ATQ0")).toBe("\r\nOK\r\n");
    expect(await p.command("AT+CMEE=2;&W")).toBe("\r\nOK\r\n");
    // Echo is decided when the characters arrive: ATE1 itself is not echoed.
    expect(await p.command("ATE1")).toBe("\r\nOK\r\n");
    const m = lab.list()[7]!;
    expect(await p.command("AT+CFUN=1,1")).toBe("AT+CFUN=1,1\r\r\nOK\r\n");
    await p.ended;
    byPath.delete(m.at!);
    // Boot URCs (RDY, SIM burst) would interleave with our commands: wait until the modem settled.
    await lab.waitFor(() => lab.list()[7]!.state === "registered", 5000, "back and registered");
    const q = new HostPort(m.at!);
    ports.push(q);
    // Saved with echo off and CMEE=2: the reboot restores exactly that.
    expect(await q.command("AT+CMEE?")).toBe("\r\n+CMEE: 2\r\n\r\nOK\r\n");
    expect(await q.command("AT&F")).toBe("\r\nOK\r\n");
    expect(await q.command("AT")).toBe("AT\r\r\nOK\r\n");
  });
});
