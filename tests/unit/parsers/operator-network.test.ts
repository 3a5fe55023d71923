import { describe, expect, test } from "bun:test";
import { parseCopsRead, parseCopsTest, parseQnwinfoExec, parseQspnExec, ratFamily, type CopsTestInfo } from "../../../src/modem/parsers/index.ts";
import { okValue } from "./expect-ok.ts";
import { quote } from "./transcript-lines.ts";

const T05 = "05_jeffgeerling_ec25a_qmi_and_ecm_session.txt";
const T20 = "20_cms_documents_ec25e_quecopen_smd9_session.txt";
const T28 = "28_3ginfo43_ec200t_qtemp_qnwinfo_qeng_variant.txt";

describe("COPS read", () => {
  test.each([
    // 05_jeffgeerling_ec25a_qmi_and_ecm_session.txt
    [quote(T05, '+COPS: 0,0,"AT&T Twilio",7'), { mode: 0, modeName: "automatic", format: 0, formatName: "long", operator: "AT&T Twilio", numeric: null, act: 7, actName: "E-UTRAN" }],
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt
    [quote(T20, '+COPS: 0,0,"IND airtel airtel",7'), { operator: "IND airtel airtel", act: 7 }],
    [quote(T20, "+COPS: 0"), { mode: 0, format: null, operator: null, numeric: null, act: null, actName: null }],
    // ec25.md §4.3 [T 02], [T 36]
    ['+COPS: 0,2,"25099",7', { format: 2, formatName: "numeric", operator: "25099", numeric: "25099" }],
    ['+COPS: 1,0,"CHN-UNICOM",7', { mode: 1, modeName: "manual", operator: "CHN-UNICOM" }],
    ['+COPS: 0,0,"Op, with comma",2', { operator: "Op, with comma", act: 2, actName: "UTRAN" }],
  ] as const)("%p", (line, want) => {
    expect(okValue(parseCopsRead([line]))).toMatchObject(want);
  });
  test("garbage", () => {
    expect(parseCopsRead(["+COPS: x"]).ok).toBe(false);
    expect(parseCopsRead(["+COPS: (1,\"A\",\"B\",\"1\",7)"]).ok).toBe(false);
    expect(parseCopsRead([]).ok).toBe(false);
  });
});

describe("COPS test (list)", () => {
  // ec25.md §4.3 [T 10, EC25-AF; the forum rendered the quotes as curly quotes]
  const ec25 = '+COPS: (1,"Telstra Mobile","Telstra","50501",2),(1,"vodafone AU","voda AU","50503",7),(0-4),(0-2)';
  const curly = ec25.replace(/"([^"]*)"/g, "\u201c$1\u201d");
  const std = '+COPS: (2,"Telstra Mobile","Telstra","50501",7),(3,"Forbidden","F","50599",0),,(0-4),(0-2)';
  const expected: CopsTestInfo = {
    networks: [
      { stat: 1, statName: "available", longName: "Telstra Mobile", shortName: "Telstra", numeric: "50501", act: 2, actName: "UTRAN" },
      { stat: 1, statName: "available", longName: "vodafone AU", shortName: "voda AU", numeric: "50503", act: 7, actName: "E-UTRAN" },
    ],
    modes: "0-4",
    formats: "0-2",
  };
  test("EC25 layout without the empty field", () => {
    expect(okValue(parseCopsTest([ec25]))).toEqual(expected);
  });
  test("curly quotes are tolerated", () => {
    expect(okValue(parseCopsTest([curly]))).toEqual(expected);
  });
  test("27.007 layout with the empty field", () => {
    const v = okValue(parseCopsTest([std]));
    expect(v.networks.map((n) => n.statName)).toEqual(["current", "forbidden"]);
    expect(v.modes).toBe("0-4");
    expect(v.formats).toBe("0-2");
  });
  test("no networks found", () => {
    expect(okValue(parseCopsTest(["+COPS: ,,(0-4),(0-2)"]))).toEqual({ networks: [], modes: "0-4", formats: "0-2" });
  });
  test("truncated and garbage", () => {
    const t = parseCopsTest(['+COPS: (1,"Telstra Mobile","Tel']);
    expect(t.ok).toBe(true); // an unterminated entry still yields what is there
    expect(parseCopsTest(["+COPS: 1,2,3"]).ok).toBe(false);
    expect(parseCopsTest(['+COPS: (x,"a","b","c",1)']).ok).toBe(false);
  });
});

describe("QSPN", () => {
  test("ec25.md §4.3 [T 27]", () => {
    expect(okValue(parseQspnExec(['+QSPN: "spusu","spusu","spusu",0,"22288"']))).toEqual({
      fullName: "spusu",
      shortName: "spusu",
      spn: "spusu",
      alphabet: 0,
      rplmn: "22288",
    });
  });
  test("empty names become null; garbage fails", () => {
    expect(okValue(parseQspnExec(['+QSPN: "","","",0,"22288"'])).fullName).toBeNull();
    expect(parseQspnExec(["+QSPN: x"]).ok).toBe(false);
  });
});

describe("QNWINFO", () => {
  test("EC200T [T 28]", () => {
    // 28_3ginfo43_ec200t_qtemp_qnwinfo_qeng_variant.txt
    expect(okValue(parseQnwinfoExec([quote(T28, '+QNWINFO: "FDD LTE","12301","LTE BAND 3",1802')]))).toEqual({
      noService: false,
      act: "FDD LTE",
      family: "LTE",
      operator: "12301",
      band: "LTE BAND 3",
      bandNumber: 3,
      channel: 1802,
    });
  });
  test("ec25.md §4.3 [T 27] and other RATs", () => {
    expect(okValue(parseQnwinfoExec(['+QNWINFO: "FDD LTE","22288","LTE BAND 7",3350'])).bandNumber).toBe(7);
    expect(okValue(parseQnwinfoExec(['+QNWINFO: "HSPA+","50501","WCDMA 850",4436'])).family).toBe("WCDMA");
    expect(okValue(parseQnwinfoExec(['+QNWINFO: "EDGE","26201","GSM 1800",698'])).family).toBe("GSM");
  });
  test.each(["+QNWINFO: No Service", '+QNWINFO: "No Service"', "+QNWINFO: NO SERVICE"])("no service: %p", (line) => {
    const v = okValue(parseQnwinfoExec([line]));
    expect(v.noService).toBe(true);
    expect(v.act).toBeNull();
    expect(v.channel).toBeNull();
  });
  test("partial and garbage", () => {
    expect(okValue(parseQnwinfoExec(['+QNWINFO: "FDD LTE","12301"']))).toMatchObject({ band: null, channel: null });
    expect(parseQnwinfoExec(["+QNWINFO: "]).ok).toBe(false);
    expect(parseQnwinfoExec(["QNWINFO"]).ok).toBe(false);
  });
  test("ratFamily", () => {
    expect(ratFamily("TDD LTE")).toBe("LTE");
    expect(ratFamily("TD-SCDMA")).toBe("TDSCDMA");
    expect(ratFamily("CDMA1X")).toBe("CDMA");
    expect(ratFamily("NR5G-NSA")).toBe("NR");
    expect(ratFamily("???")).toBeNull();
    expect(ratFamily(null)).toBeNull();
  });
});
