import { describe, expect, test } from "bun:test";
import {
  accessTechnologyName,
  csqToDbm,
  parseCeregRead,
  parseCeregUrc,
  parseCgregRead,
  parseCgregUrc,
  parseCpinRead,
  parseCpinUrc,
  parseCregRead,
  parseCregUrc,
  parseCsqExec,
  parseQsimstatRead,
  parseQsimstatUrc,
  registrationStatusName,
} from "../../../src/modem/parsers/index.ts";
import { okValue } from "./expect-ok.ts";
import { quote } from "./transcript-lines.ts";

const T05 = "05_jeffgeerling_ec25a_qmi_and_ecm_session.txt";
const T07 = "07_sixfab_1414_ec25a_ecm_not_registered.txt";
const T20 = "20_cms_documents_ec25e_quecopen_smd9_session.txt";
const T37 = "37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt";

describe("CPIN", () => {
  test.each([
    // 07_sixfab_1414_ec25a_ecm_not_registered.txt
    [quote(T07, "+CPIN: READY"), "READY", true],
    ["+CPIN: SIM PIN", "PIN_REQUIRED", false],
    ["+CPIN: SIM PUK", "PUK_REQUIRED", false],
    ["+CPIN: PH-SIM PIN", "PH_SIM_PIN_REQUIRED", false],
    ["+CPIN: NOT READY", "NOT_READY", false],
    ["+CPIN: something new", "UNKNOWN", false],
  ] as const)("%p → %p", (line, state, ready) => {
    const r = parseCpinRead([line]);
    expect(r.ok && r.value.state).toBe(state);
    expect(r.ok && r.value.ready).toBe(ready);
  });
  test("URC form [T 37]", () => {
    // 37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt
    expect(parseCpinUrc(quote(T37, "+CPIN: READY"))).toEqual({ ok: true, value: { state: "READY", raw: "READY", ready: true } });
  });
  test("garbage", () => {
    expect(parseCpinRead([]).ok).toBe(false);
    expect(parseCpinRead(["+CPIN:"]).ok).toBe(false);
    expect(parseCpinRead(["READY"]).ok).toBe(false);
  });
});

describe("QSIMSTAT", () => {
  test("read and URC (ec25.md §4.2)", () => {
    expect(parseQsimstatRead(["+QSIMSTAT: 0,1"])).toEqual({ ok: true, value: { reportEnabled: false, inserted: "inserted", insertedRaw: 1 } });
    expect(parseQsimstatUrc("+QSIMSTAT: 1,0")).toEqual({ ok: true, value: { reportEnabled: true, inserted: "removed", insertedRaw: 0 } });
    expect(parseQsimstatRead(["+QSIMSTAT: 1,2"])).toEqual({ ok: true, value: { reportEnabled: true, inserted: "unknown", insertedRaw: 2 } });
  });
  test("partial", () => {
    expect(parseQsimstatRead(["+QSIMSTAT: 1"]).ok).toBe(false);
    expect(parseQsimstatUrc("+QSIMSTAT: ,").ok).toBe(false);
  });
});

describe("CSQ", () => {
  test.each([
    // 05_jeffgeerling_ec25a_qmi_and_ecm_session.txt
    [quote(T05, "+CSQ: 20,99"), 20, -73],
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt
    [quote(T20, "+CSQ: 25,99"), 25, -63],
    [quote(T20, "+CSQ: 17,99"), 17, -79],
    // not registered (ec25.md §4.3 [T 09])
    ["+CSQ: 99,99", 99, null],
    ["+CSQ: 0,99", 0, -113],
    ["+CSQ: 31,0", 31, -51],
  ] as const)("%p", (line, rssi, dbm) => {
    const r = parseCsqExec([line]);
    expect(r.ok && r.value.rssi).toBe(rssi);
    expect(r.ok && r.value.dbm).toBe(dbm);
  });
  test("ber class", () => {
    expect(parseCsqExec(["+CSQ: 20,3"])).toEqual({ ok: true, value: { rssi: 20, ber: 3, dbm: -73, berClass: 3 } });
    expect(parseCsqExec(["+CSQ: 20,99"])).toEqual({ ok: true, value: { rssi: 20, ber: 99, dbm: -73, berClass: null } });
  });
  test("csqToDbm edges", () => {
    expect(csqToDbm(1)).toBe(-111);
    expect(csqToDbm(32)).toBeNull();
    expect(csqToDbm(100)).toBe(-116);
    expect(csqToDbm(191)).toBe(-25);
    expect(csqToDbm(199)).toBeNull();
    expect(csqToDbm(1.5)).toBeNull();
  });
  test("garbage and partial", () => {
    expect(parseCsqExec(["+CSQ: 20"]).ok).toBe(false);
    expect(parseCsqExec(["+CSQ: -,-"]).ok).toBe(false);
    expect(parseCsqExec(["+CSQ: x,y"]).ok).toBe(false);
    expect(parseCsqExec(["CSQ 20,99"]).ok).toBe(false);
    expect(parseCsqExec([]).ok).toBe(false);
  });
});

describe("CREG / CGREG / CEREG read", () => {
  test("not registered [T 07]", () => {
    // 07_sixfab_1414_ec25a_ecm_not_registered.txt
    const r = parseCregRead([quote(T07, "+CREG: 0,0")]);
    expect(r).toEqual({
      ok: true,
      value: {
        n: 0,
        stat: 0,
        status: "not_registered",
        registered: false,
        roaming: false,
        area: null,
        areaValue: null,
        cellId: null,
        cellIdValue: null,
        act: null,
        actName: null,
      },
    });
  });
  test("registered home [T 20]", () => {
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt
    const r = parseCregRead([quote(T20, "+CREG: 0,1"), ""]);
    expect(r.ok && r.value.status).toBe("home");
    expect(r.ok && r.value.registered).toBe(true);
  });
  test("n=2 with location (ec25.md §4.3, EC200A syntax)", () => {
    const r = parseCregRead(['+CREG: 2,1,"00A8","5355E8D",7']);
    expect(r.ok && r.value).toMatchObject({ n: 2, stat: 1, area: "00A8", areaValue: 0xa8, cellId: "5355E8D", cellIdValue: 0x5355e8d, act: 7, actName: "E-UTRAN" });
  });
  test("CEREG roaming, CGREG with rac", () => {
    const r = parseCeregRead(['+CEREG: 2,5,"61ea","a1a9566",7']);
    expect(r.ok && r.value).toMatchObject({ status: "roaming", roaming: true, registered: true, area: "61EA", cellId: "A1A9566" });
    const g = parseCgregRead(['+CGREG: 2,1,"00A8","5355E8D",2,"01"']);
    expect(g.ok && g.value.actName).toBe("UTRAN");
  });
  test("searching and denied", () => {
    expect(okValue(parseCeregRead(["+CEREG: 0,2"])).status).toBe("searching");
    const d = parseCeregRead(["+CEREG: 0,3"]);
    expect(d.ok && d.value.status).toBe("denied");
  });
  test("a URC-shaped line is refused by the read parser", () => {
    expect(parseCeregRead(['+CEREG: 1,"61EA","A1A9566",7']).ok).toBe(false);
    expect(parseCeregRead(["+CEREG: 1"]).ok).toBe(false);
  });
  test("garbage", () => {
    expect(parseCregRead(["+CREG:"]).ok).toBe(false);
    expect(parseCregRead(["+CEREG: 0,1"]).ok).toBe(false);
    // malformed hex location fields become null instead of failing the whole answer
    expect(okValue(parseCregRead(['+CREG: 2,1,"zz","-",7'])).area).toBeNull();
  });
});

describe("CREG / CGREG / CEREG URC", () => {
  test.each([
    ["+CEREG: 1", 1, null, null],
    ['+CEREG: 1,"61EA","A1A9566",7', 1, "61EA", 7],
    ['+CEREG: 5,"61EA","A1A9566"', 5, "61EA", null],
    ["+CEREG: 2", 2, null, null],
  ] as const)("%p", (line, stat, area, act) => {
    const r = parseCeregUrc(line);
    expect(r.ok && r.value.n).toBeNull();
    expect(r.ok && r.value.stat).toBe(stat);
    expect(r.ok && r.value.area).toBe(area);
    expect(r.ok && r.value.act).toBe(act);
  });
  test("CREG / CGREG URC", () => {
    const r = parseCregUrc('+CREG: 1,"00A8","5355E8D",7');
    expect(r.ok && r.value.area).toBe("00A8");
    const g = parseCgregUrc("+CGREG: 0");
    expect(g.ok && g.value.status).toBe("not_registered");
  });
  test("a read-shaped line is refused by the URC parser", () => {
    expect(parseCeregUrc("+CEREG: 0,1").ok).toBe(false);
    expect(parseCeregUrc('+CEREG: 2,1,"61EA","A1A9566",7').ok).toBe(false);
  });
  test("names", () => {
    expect(registrationStatusName(5)).toBe("roaming");
    expect(registrationStatusName(42)).toBe("unknown");
    expect(accessTechnologyName(7)).toBe("E-UTRAN");
    expect(accessTechnologyName(99)).toBeNull();
    expect(accessTechnologyName(null)).toBeNull();
  });
});
