import { describe, expect, test } from "bun:test";
import { Ec25Driver } from "../../../src/modem/ec25.ts";
import { Generic3gppDriver } from "../../../src/modem/generic-3gpp.ts";
import { ec25Rules, FakeChannel } from "./fake-channel.ts";

function rig(overrides: ConstructorParameters<typeof FakeChannel>[0] = {}) {
  const ch = new FakeChannel({ ...ec25Rules(), ...overrides });
  return { ch, d: new Ec25Driver(ch) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => "resolved", (e: { code?: string }) => e.code ?? String(e));
}

describe("identify", () => {
  test("reads IMEI, ICCID (F padding dropped), IMSI and ATI's manufacturer/model/revision", async () => {
    const { d, ch } = rig();
    expect(await d.identify()).toEqual({
      imei: "864394041083561", iccid: "8939560000000806706", imsi: "295050902070619",
      manufacturer: "Quectel", model: "EC25", firmware: "EC25AUFAR02A04M4G",
    });
    // EC25 quirks: AT+QCCID, one ATI instead of CGMI/CGMM/CGMR.
    expect(ch.commands()).toEqual(["AT+CGSN", "ATI", "AT+QCCID", "AT+CIMI"]);
  });

  test("no SIM: +CME ERROR 10 leaves ICCID and IMSI null, identity still complete", async () => {
    const { d } = rig({ "AT+QCCID": { final: "+CME ERROR: 10" }, "AT+CIMI": { final: "+CME ERROR: 10" } });
    const id = await d.identify();
    expect(id.iccid).toBeNull();
    expect(id.imsi).toBeNull();
    expect(id.imei).toBe("864394041083561");
  });

  test("falls back to AT+GSN, and fails with MODEM_NO_IMEI when neither answers an IMEI", async () => {
    const { d } = rig({ "AT+CGSN": { final: "ERROR" } });
    expect(await d.readImei()).toBe("864394041083561");
    const { d: d2 } = rig({ "AT+CGSN": { final: "ERROR" }, "AT+GSN": { lines: ["garbage"] } });
    expect(await codeOf(d2.readImei())).toBe("MODEM_NO_IMEI");
  });

  test("a timeout is not an answer: it propagates", async () => {
    const { d } = rig({ "AT+CGSN": { error: "AT_TIMEOUT" } });
    expect(await codeOf(d.identify())).toBe("AT_TIMEOUT");
  });

  test("the generic layer uses 27.007 CGMI/CGMM/CGMR and +CCID", async () => {
    const ch = new FakeChannel({
      ...ec25Rules(), "AT+CGMI": { lines: ["Quectel"] }, "AT+CGMM": { lines: ["EC25"] }, "AT+CGMR": { lines: ["EC25EFAR06A04M4G"] },
      "AT+CCID": { lines: ["+CCID: 89441000303037123456"] },
    });
    const id = await new Generic3gppDriver(ch).identify();
    expect(id).toMatchObject({ manufacturer: "Quectel", model: "EC25", firmware: "EC25EFAR06A04M4G", iccid: "89441000303037123456" });
    expect(ch.commands()).not.toContain("ATI");
  });
});

describe("status", () => {
  test("registered LTE modem: registration, operator names, band, signal, raw SINR and temperature", async () => {
    const { d } = rig();
    const s = await d.status();
    expect(s).toMatchObject({
      sim: "READY", radio: "on",
      registration: { stat: 1, status: "home", registered: true, roaming: false, tac: "61EA", ci: "A1A9566", act: 7, source: "CEREG" },
      operator: { name: "IND airtel airtel", numeric: "22288" },
      rat: "LTE", band: "LTE BAND 7", earfcn: 3350, cellId: "19A358C",
      csq: 19, rssi: -83, rsrp: -108, rsrq: -5, sinrRaw: 9, temperature: 42,
    });
  });

  test("not registered [T 09]: No Service, CSQ 99, COPS without operator", async () => {
    const { d } = rig({
      "AT+CEREG?": { lines: ["+CEREG: 0,2"] }, "AT+CREG?": { lines: ["+CREG: 0,0"] }, "AT+COPS?": { lines: ["+COPS: 0"] },
      "AT+CSQ": { lines: ["+CSQ: 99,99"] }, "AT+QNWINFO": { lines: ["+QNWINFO: No Service"] },
      'AT+QENG="SERVINGCELL"': { lines: ['+QENG: "servingcell","SEARCH"'] },
    });
    const s = await d.status();
    expect(s.registration).toMatchObject({ status: "searching", registered: false });
    expect(s.operator).toBeNull();
    expect([s.csq, s.rssi, s.rsrp, s.band]).toEqual([null, null, null, null]);
  });

  test("SIM states from +CME errors of AT+CPIN? (10 absent, 13 failure, 14 busy)", async () => {
    for (const [err, sim] of [["+CME ERROR: 10", "NOT_INSERTED"], ["+CME ERROR: 13", "FAILURE"], ["+CME ERROR: 14", "BUSY"], ["ERROR", "UNKNOWN"]]) {
      const { d } = rig({ "AT+CPIN?": { final: err! } });
      expect((await d.status()).sim).toBe(sim as never);
    }
  });

  test("3G fallback: CS registration is used when EPS is not registered", async () => {
    const { d } = rig({ "AT+CEREG?": { lines: ["+CEREG: 0,0"] }, "AT+CREG?": { lines: ['+CREG: 2,5,"00A8","5355E8D",2'] } });
    expect((await d.status()).registration).toMatchObject({ source: "CREG", roaming: true, registered: true, tac: "00A8" });
  });

  test("optional commands that fail leave fields null; a hung modem rejects", async () => {
    const { d } = rig({ "AT+QTEMP": { final: "ERROR" }, 'AT+QENG="SERVINGCELL"': { final: "+CME ERROR: 4" } });
    const s = await d.status();
    expect(s.temperature).toBeNull();
    expect(s.rsrp).toBeNull();
    expect(s.rssi).toBe(-75); // from CSQ 19
    const { d: hung } = rig({ "AT+CSQ": { error: "AT_TIMEOUT" } });
    expect(await codeOf(hung.status())).toBe("AT_TIMEOUT");
  });
});

describe("power and data", () => {
  test("setRadio maps to CFUN 1/4/0 and refuses anything else", async () => {
    const { d, ch } = rig({ "AT+CFUN=1": {}, "AT+CFUN=4": {}, "AT+CFUN=0": {} });
    await d.setRadio("airplane");
    await d.setRadio("on");
    await d.setRadio("off");
    expect(ch.commands()).toEqual(["AT+CFUN=4", "AT+CFUN=1", "AT+CFUN=0"]);
    expect(await codeOf(d.setRadio("sleep" as never))).toBe("MODEM_BAD_ARGUMENT");
  });

  test("a refused CFUN is AT_COMMAND_FAILED with the modem's code", async () => {
    const { d } = rig({ "AT+CFUN=0": { final: "+CME ERROR: 3" } });
    const e = await d.setRadio("off").catch((x) => x);
    expect(e.code).toBe("AT_COMMAND_FAILED");
    expect(e.details.modemCode).toBe("OPERATION_NOT_ALLOWED");
  });

  test("reboot: OK then the port vanishes is success; vanishing before the OK too", async () => {
    const { d, ch } = rig({ "AT+CFUN=1,1": { vanishAfter: true } });
    await d.reboot();
    expect(ch.commands()).toEqual(["AT+CFUN=1,1"]);
    const { d: d2 } = rig({ "AT+CFUN=1,1": { error: "AT_UNPLUGGED" } });
    await d2.reboot();
    const { d: d3 } = rig({ "AT+CFUN=1,1": { final: "ERROR" } });
    expect(await codeOf(d3.reboot())).toBe("AT_COMMAND_FAILED");
  });

  test("data call through AT$QCRMCALL (ec25.md §4.5)", async () => {
    const { d, ch } = rig({ "AT$QCRMCALL=1,1": { lines: ["$QCRMCALL: 1,V4"] }, "AT$QCRMCALL=0,1": {} });
    expect(await d.dataCall("start")).toEqual({ connected: true, ipv4: true, ipv6: false });
    expect(await d.dataCall("stop")).toEqual({ connected: false, ipv4: false, ipv6: false });
    expect(ch.commands()).toEqual(["AT$QCRMCALL=1,1", "AT$QCRMCALL=0,1"]);
  });
});

describe("SMS (text mode)", () => {
  test("send: text mode, CMGS with the body, message reference", async () => {
    const { d, ch } = rig({ "AT+CMGF=1": {}, 'AT+CMGS="+15551230000"': { lines: ["+CMGS: 13"] } });
    expect(await d.sendSms("+15551230000", "Hello")).toEqual({ messageReference: 13 });
    expect(ch.sent.at(-1)).toEqual({ command: 'AT+CMGS="+15551230000"', body: "Hello" });
  });

  test("send refuses a recipient that would break out of the quotes", async () => {
    const { d, ch } = rig();
    expect(await codeOf(d.sendSms('123",1;+CFUN=0', "x"))).toBe("MODEM_BAD_ARGUMENT");
    expect(ch.sent).toEqual([]);
  });

  test("list, read, delete", async () => {
    const { d, ch } = rig({
      "AT+CMGF=1": {},
      'AT+CMGL="ALL"': { lines: ['+CMGL: 1,"REC UNREAD","+15551230000",,"21/05/12,10:37:39+08"', "Hello"] },
      "AT+CMGR=1": { lines: ['+CMGR: "REC READ","+15551230000",,"21/05/12,10:37:39+08"', "Hello"] },
      "AT+CMGR=2": {},
      "AT+CMGD=1": {}, "AT+CMGD=0,4": {},
    });
    const list = await d.listSms();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ index: 1, status: "REC UNREAD", sender: "+15551230000", text: "Hello" });
    expect(await d.readSms(1)).toMatchObject({ index: 1, status: "REC READ", text: "Hello" });
    expect(await d.readSms(2)).toBeNull();
    await d.deleteSms(1);
    await d.deleteSms("all");
    expect(ch.commands().filter((c) => c.startsWith("AT+CMGD"))).toEqual(["AT+CMGD=1", "AT+CMGD=0,4"]);
  });
});

describe("USSD", () => {
  test("OK first, then the +CUSD URC", async () => {
    const { d } = rig({ 'AT+CUSD=1,"*100#",15': { urcsAfter: ['+CUSD: 0,"Your balance is 5.00",15'] } });
    expect(await d.ussd("*100#")).toMatchObject({ status: "done", text: "Your balance is 5.00" });
  });

  test("the answer inside the response, before OK", async () => {
    const { d } = rig({ 'AT+CUSD=1,"*100#",15': { lines: ['+CUSD: 0,"Balance 3.21",15'] } });
    expect(await d.ussd("*100#")).toMatchObject({ text: "Balance 3.21" });
  });

  test("unrelated URCs are skipped; no answer is USSD_TIMEOUT and the session is cancelled", async () => {
    const { d, ch } = rig({ 'AT+CUSD=1,"*101#",15': { urcsAfter: ["+QIND: SMS DONE"] }, "AT+CUSD=2": {} });
    expect(await codeOf(d.ussd("*101#", { timeoutMs: 50 }))).toBe("USSD_TIMEOUT");
    await Bun.sleep(5);
    expect(ch.commands()).toContain("AT+CUSD=2");
  });

  test("codes with quotes or letters are refused before sending", async () => {
    const { d, ch } = rig();
    expect(await codeOf(d.ussd('*100#",15;+CFUN=0'))).toBe("MODEM_BAD_ARGUMENT");
    expect(ch.sent).toEqual([]);
  });
});
