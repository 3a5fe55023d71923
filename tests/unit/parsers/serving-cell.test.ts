import { describe, expect, test } from "bun:test";
import { lteBandwidthMhz, parseQengWrite, sinrDb } from "../../../src/modem/parsers/index.ts";
import { okValue } from "./expect-ok.ts";
import { quote } from "./transcript-lines.ts";

const T28 = "28_3ginfo43_ec200t_qtemp_qnwinfo_qeng_variant.txt";

describe("QENG servingcell LTE", () => {
  test("EC200T [T 28] (numeric srxlev)", () => {
    // 28_3ginfo43_ec200t_qtemp_qnwinfo_qeng_variant.txt
    const line = quote(T28, '+QENG: "servingcell","NOCONN","LTE","FDD",123,01,43300C,348,1802,3,5,5,5443,-87,-16,-69,5,34');
    const v = okValue(parseQengWrite([line]));
    expect(v).toMatchObject({
      state: "NOCONN",
      rat: "LTE",
      duplex: "FDD",
      mcc: "123",
      mnc: "01",
      cellId: "43300C",
      cellIdValue: 0x43300c,
      enodebId: 0x4330,
      pcid: 348,
      earfcn: 1802,
      band: 3,
      ulBandwidthMhz: 20,
      dlBandwidthMhz: 20,
      tac: "5443",
      tacValue: 0x5443,
      rsrp: -87,
      rsrq: -16,
      rssi: -69,
      sinrRaw: 5,
      cqi: null,
      txPower: null,
      srxlev: 34,
    });
  });

  // ec25.md §4.3 real examples: [T 02] EC25, [T 36] EC25-AU, [T 34] EG25-G, [T 27] EP06
  test.each([
    ['+QENG: "servingcell","NOCONN","LTE","FDD",250,99,A1A9566,113,550,1,3,3,61EA,-84,-11,-56,2,-', { mcc: "250", mnc: "99", band: 1, sinrRaw: 2, srxlev: null, tac: "61EA" }],
    ['+QENG: "servingcell","NOCONN","LTE","FDD",460,01,19A358C,366,100,1,5,5,774E,-108,-5,-83,9,13', { mnc: "01", rsrp: -108, sinrRaw: 9, srxlev: 13 }],
    ['+QENG: "servingcell","NOCONN","LTE","FDD",214,01,7676A09,188,6300,20,3,3,603,-104,-9,-78,11,23', { band: 20, earfcn: 6300, tac: "603" }],
    ['+QENG: "servingcell","NOCONN","LTE","FDD",222,88,243800E,20,3350,7,5,5,3AC9,-86,-13,-52,15,-', { pcid: 20, sinrRaw: 15, srxlev: null }],
  ] as const)("%p", (line, want) => {
    expect(okValue(parseQengWrite([line]))).toMatchObject(want);
  });

  test("CONNECT state, TDD, and the 20-field layout with CQI/tx_power", () => {
    const v = okValue(parseQengWrite(['+QENG: "servingcell","CONNECT","LTE","TDD",460,00,5F1EA15,12,38950,41,5,5,DE10,-99,-12,-67,11,9,230,-']));
    expect(v).toMatchObject({ state: "CONNECT", duplex: "TDD", cqi: 9, txPower: 230, srxlev: null, sinrRaw: 11 });
  });

  test("split layout of newer firmwares", () => {
    const v = okValue(parseQengWrite(['+QENG: "servingcell","NOCONN"', '+QENG: "LTE","FDD",460,01,5F1EA15,12,1650,3,5,5,DE10,-99,-12,-67,11,9,230,-']));
    expect(v).toMatchObject({ rat: "LTE", earfcn: 1650, tac: "DE10", cqi: 9 });
  });

  test("'-' placeholders become null", () => {
    const v = okValue(parseQengWrite(['+QENG: "servingcell","LIMSRV","LTE","FDD",262,03,-,187,6200,20,-,-,2AFB,-,-,-,-,-']));
    expect(v).toMatchObject({ state: "LIMSRV", rat: "LTE", cellId: null, enodebId: null, ulBandwidthMhz: null, rsrp: null, sinrRaw: null, tac: "2AFB" });
  });
});

describe("QENG servingcell other states and RATs", () => {
  test("SEARCH with no RAT", () => {
    expect(okValue(parseQengWrite(['+QENG: "servingcell","SEARCH"']))).toEqual({ state: "SEARCH", rat: "NONE", ratName: null, fields: [] });
  });
  test("WCDMA", () => {
    const v = okValue(parseQengWrite(['+QENG: "servingcell","NOCONN","WCDMA",515,03,3AB2,B55EEFF,3037,352,1,-94,-15,-,-,-,-,-']));
    expect(v).toMatchObject({ rat: "WCDMA", mcc: "515", mnc: "03", lac: "3AB2", cellId: "B55EEFF", uarfcn: 3037, psc: 352, rac: 1, rscp: -94, ecio: -15 });
  });
  test("GSM", () => {
    const v = okValue(parseQengWrite(['+QENG: "servingcell","NOCONN","GSM",460,00,247C,1327,35,82,-,-52,255,255,0,53,179,1,-,-,-,-,-,-,-,-,-,"-"']));
    expect(v).toMatchObject({ rat: "GSM", mcc: "460", lac: "247C", cellId: "1327", bsic: 35, arfcn: 82, band: null, rxlev: -52, timingAdvance: null });
  });
  test("LIMSRV GSM without space after the colon", () => {
    const v = okValue(parseQengWrite(['+QENG:"servingcell","LIMSRV","GSM",460,01,5504,2B55,52,123,0,-67,5,14,64,30,28,0,-,-,-,-,-,-,-,-,-,"-"']));
    expect(v).toMatchObject({ state: "LIMSRV", rat: "GSM", bsic: 52, rxlev: -67 });
  });
  test("truncated LTE line is kept as OTHER with its fields", () => {
    const v = okValue(parseQengWrite(['+QENG: "servingcell","NOCONN","LTE","FDD",250']));
    expect(v).toEqual({ state: "NOCONN", rat: "OTHER", ratName: "LTE", fields: ["LTE", "FDD", "250"] });
  });
  test("garbage", () => {
    expect(parseQengWrite([]).ok).toBe(false);
    expect(parseQengWrite(['+QENG: "neighbourcell intra","LTE",38950,401,-7,-90,-62,-20,37,6,22,6,46']).ok).toBe(false);
    expect(parseQengWrite(['+QENG: "servingcell"']).ok).toBe(false);
    expect(parseQengWrite(["+QENG: servingcell,"]).ok).toBe(false);
  });
});

describe("sinrDb and bandwidth", () => {
  test("both scales", () => {
    expect(sinrDb(15, "db")).toBe(15);
    expect(sinrDb(150, "fifth-db-minus-20")).toBe(10);
    expect(sinrDb(0, "fifth-db-minus-20")).toBe(-20);
    expect(sinrDb(250, "fifth-db-minus-20")).toBe(30);
    expect(sinrDb(null, "db")).toBeNull();
    expect(sinrDb(Number.NaN, "db")).toBeNull();
  });
  test("bandwidth index", () => {
    expect([0, 1, 2, 3, 4, 5].map(lteBandwidthMhz)).toEqual([1.4, 3, 5, 10, 15, 20]);
    expect(lteBandwidthMhz(6)).toBeNull();
    expect(lteBandwidthMhz(null)).toBeNull();
  });
});
