import { describe, expect, test } from "bun:test";
import {
  classifyFinal,
  commandVerbs,
  isUrc,
  parseCpinRead,
  parseCregRead,
  parseCsqExec,
  parseCopsRead,
  urcFollowLines,
  urcSpec,
  type FinalResult,
} from "../../../src/modem/parsers/index.ts";
import { quote, transcriptLines } from "./transcript-lines.ts";

const T20 = "20_cms_documents_ec25e_quecopen_smd9_session.txt";
const T37 = "37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt";

describe("isUrc without a pending command", () => {
  const urcs = [
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt: SIM burst after at+cfun=1
    quote(T20, "+CPIN: READY"),
    quote(T20, "+QUSIM: 1"),
    quote(T20, "+QIND: SMS DONE"),
    quote(T20, "+QIND: PB DONE"),
    quote(T20, '+QPING: 0,"8.8.8.8",32,59,255'),
    quote(T20, "+QPING: 0,4,4,0,39,63,52"),
    // 37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt (inside eg25-manager's "Response: [...]")
    quote(T37, "RDY"),
    quote(T37, "+CFUN: 4"),
    '+CMTI: "SM",3',
    "+CEREG: 1",
    '+CEREG: 1,"61EA","A1A9566",7',
    "+CREG: 0,1",
    "+QSIMSTAT: 1,0",
    '+CUSD: 0,"Balance 5.00",15',
    "+CGEV: NW PDN DEACT 1",
    "NO CARRIER",
    "RING",
    "POWERED DOWN",
  ];
  test.each(urcs)("%p is a URC", (line) => {
    expect(isUrc(line)).toBe(true);
  });

  const notUrcs = ["OK", "ERROR", "+CSQ: 20,99", "+COPS: 0", "Quectel", "", "+CME ERROR: 10", "> "];
  test.each(notUrcs)("%p is not a URC", (line) => {
    expect(isUrc(line)).toBe(false);
  });
});

describe("isUrc with dual prefixes (answer or URC)", () => {
  const cases: [line: string, pending: string, urc: boolean][] = [
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt: at+creg? → +CREG: 0,1 (read form, <n> first)
    [quote(T20, "+CREG: 0,1"), "at+creg?", false],
    ["+CREG: 2,1,\"00A8\",\"5355E8D\",7", "AT+CREG?", false],
    // URC forms while the read is pending: no <n>, quoted LAC in 2nd place, or a single <stat>
    ["+CREG: 1,\"00A8\",\"5355E8D\",7", "AT+CREG?", true],
    ["+CREG: 5", "AT+CREG?", true],
    ["+CEREG: 0,1", "AT+CEREG?", false],
    ["+CEREG: 2,1,\"61EA\",\"A1A9566\",7", "AT+CEREG?", false],
    ["+CEREG: 1,\"61EA\",\"A1A9566\",7", "AT+CEREG?", true],
    ["+CEREG: (0-2,4)", "AT+CEREG=?", false],
    ["+CGREG: 0,1", "AT+CGREG?", false],
    ["+CGREG: 1", "AT+CGREG?", true],
    // a registration line while another command is pending is always a URC
    ["+CEREG: 0,1", "AT+CSQ", true],
    ["+CREG: 0,1", "AT+CEREG?", true],
    // +CPIN: the read answer vs the URC that follows AT+CPIN=<pin>
    [quote(T20, "+CPIN: READY"), "AT+CPIN?", false],
    [quote(T20, "+CPIN: READY"), "AT+CPIN=1234", true],
    [quote(T20, "+CPIN: READY"), "at+cfun=1", true],
    ["+QSIMSTAT: 0,1", "AT+QSIMSTAT?", false],
    ["+QSIMSTAT: 1,0", "AT+QSIMSTAT=1", true],
    ["+QNETDEVSTATUS: 0,1,4,1", "AT+QNETDEVSTATUS?", false],
    ["+QNETDEVSTATUS: 0,1,4,1", "AT+CSQ", true],
    ["+CFUN: 1", "AT+CFUN?", false],
    ["+CFUN: 1", "AT+CFUN=1", true],
    ['+CUSD: 0,"Balance",15', 'AT+CUSD=1,"*100#",15', false],
    ['+CUSD: 0,"Balance",15', "AT+CSQ", true],
    // URC-only prefixes stay URCs whatever is pending
    ["+QIND: PB DONE", "AT+CREG?", true],
    ['+CMTI: "SM",1', "AT+CMGL=4", true],
    // chained commands: any verb of the chain counts
    ["+CREG: 0,1", "AT+CSQ;+CREG?", false],
    // NO CARRIER is the final result of a dial command, a URC otherwise
    ["NO CARRIER", "ATD*99#", false],
    ["NO CARRIER", "ATA", false],
    ["NO CARRIER", "AT+CSQ", true],
    // unknown lines are never URCs
    [quote(T20, "+CSQ: 25,99"), "at+csq", false],
    ["garbage \x00\xff", "AT+CSQ", false],
  ];
  test.each(cases)("%p while %p pending → urc=%p", (line, pending, want) => {
    expect(isUrc(line, pending)).toBe(want);
  });
});

describe("commandVerbs", () => {
  test("forms and chains", () => {
    expect(commandVerbs("AT+CEREG?")).toEqual([{ verb: "+CEREG", form: "read" }]);
    expect(commandVerbs("at+cops=?")).toEqual([{ verb: "+COPS", form: "test" }]);
    expect(commandVerbs('AT+QENG="servingcell"')).toEqual([{ verb: "+QENG", form: "write" }]);
    expect(commandVerbs("AT$QCRMCALL=1,1")).toEqual([{ verb: "$QCRMCALL", form: "write" }]);
    expect(commandVerbs("ATI")).toEqual([{ verb: "I", form: "exec" }]);
    expect(commandVerbs("ATE0")).toEqual([{ verb: "E", form: "exec" }]);
    expect(commandVerbs("ATD*99#")).toEqual([{ verb: "D", form: "exec" }]);
    expect(commandVerbs("AT+CSUB;+CVERSION")).toEqual([
      { verb: "+CSUB", form: "exec" },
      { verb: "+CVERSION", form: "exec" },
    ]);
    expect(commandVerbs('AT+CUSD=1,"*1;2#"')).toEqual([{ verb: "+CUSD", form: "write" }]);
    expect(commandVerbs("")).toEqual([]);
    expect(commandVerbs(null as unknown as string)).toEqual([]);
  });
  test("multi-line URCs", () => {
    expect(urcFollowLines('+CMT: "+15551230000",,"21/05/12,10:37:39+08"')).toBe(1);
    expect(urcFollowLines("+CMT: ,24")).toBe(1);
    expect(urcFollowLines('+CMTI: "SM",3')).toBe(0);
    expect(urcFollowLines("OK")).toBe(0);
  });
  test("urcSpec names the table entry", () => {
    expect(urcSpec("+QIND: SMS DONE")?.prefix).toBe("+QIND");
    expect(urcSpec("RDY")?.whole).toBe(true);
    expect(urcSpec("+CSQ: 1,2")).toBeNull();
  });
});

/** A minimal response demultiplexer, the way the AT engine uses isUrc + classifyFinal. */
function demux(received: string[], pending: string): { info: string[]; urcs: string[]; final: FinalResult | null } {
  const info: string[] = [];
  const urcs: string[] = [];
  for (const raw of received) {
    const line = raw.trim();
    if (line === "" || line.toUpperCase() === pending.toUpperCase()) continue; // blank or echo
    if (isUrc(line, pending)) {
      urcs.push(line);
      continue;
    }
    const final = classifyFinal(line);
    if (final) return { info, urcs, final };
    info.push(line);
  }
  return { info, urcs, final: null };
}

describe("interleaved URCs in real sessions", () => {
  test("T 20: SIM URC burst after at+cfun=1 and the next at+creg? answer", () => {
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt, second section ("ping at cmnds"): from the last at+cfun=1
    const all = transcriptLines(T20);
    const start = all ? all.lastIndexOf("at+cfun=1") : -1;
    const lines = (all && start >= 0 ? all.slice(start, start + 15) : null) ?? [
      "at+cfun=1", "OK", "", "+CPIN: READY", "", "+QUSIM: 1", "", "+QIND: SMS DONE", "", "+QIND: PB DONE",
      "at+creg?", "+CREG: 0,1", "", "OK",
    ];
    expect(lines[0]).toBe("at+cfun=1");
    const cfun = demux(lines, "at+cfun=1");
    expect(cfun.final).toEqual({ kind: "OK" });
    const rest = lines.slice(lines.indexOf("OK") + 1);
    const creg = demux(rest, "at+creg?");
    expect(creg.urcs).toEqual(["+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"]);
    expect(creg.final).toEqual({ kind: "OK" });
    expect(creg.info).toEqual(["+CREG: 0,1"]);
    const parsed = parseCregRead(creg.info);
    expect(parsed.ok && parsed.value.registered).toBe(true);
  });

  test("a URC in the middle of a response is removed before parsing [ec25.md §3.4 item 4]", () => {
    const r = demux(["+CREG: 0,1", "+QIND: PB DONE", "", "OK"], "AT+CREG?");
    expect(r.urcs).toEqual(["+QIND: PB DONE"]);
    expect(r.info).toEqual(["+CREG: 0,1"]);
    const r2 = demux(['+CEREG: 1,"61EA","A1A9566",7', "+CEREG: 2,1,\"61EA\",\"A1A9566\",7", "OK"], "AT+CEREG?");
    expect(r2.urcs).toHaveLength(1);
    expect(r2.info).toEqual(['+CEREG: 2,1,"61EA","A1A9566",7']);
    const r3 = demux(["+CPIN: NOT READY", "+CSQ: 14,99", "OK"], "AT+CSQ");
    expect(r3.urcs).toEqual(["+CPIN: NOT READY"]);
    const csq = parseCsqExec(r3.info);
    expect(csq.ok && csq.value.dbm).toBe(-85);
  });

  test("T 20: at+cops? polls until the operator appears", () => {
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt
    const first = demux([quote(T20, "+COPS: 0"), "", "OK"], "at+cops?");
    const later = demux([quote(T20, '+COPS: 0,0,"IND airtel airtel",7'), "", "OK"], "at+cops?");
    const a = parseCopsRead(first.info);
    const b = parseCopsRead(later.info);
    expect(a.ok && a.value.operator).toBeNull();
    expect(b.ok && b.value.operator).toBe("IND airtel airtel");
  });

  test("the +CPIN read answer is kept as information", () => {
    const r = demux(["+CPIN: READY", "", "OK"], "AT+CPIN?");
    expect(r.info).toEqual(["+CPIN: READY"]);
    const p = parseCpinRead(r.info);
    expect(p.ok && p.value.state).toBe("READY");
  });
});
