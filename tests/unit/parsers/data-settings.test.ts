import { describe, expect, test } from "bun:test";
import {
  dottedToIpv6,
  parseCfunRead,
  parseCfunUrc,
  parseCgdcontRead,
  parseCgpaddrExec,
  parseCgpaddrWrite,
  parseCmeeRead,
  parseQcfgUsbnetWrite,
  parseQcfgWrite,
  parseQcrmcallRead,
  parseQcrmcallTest,
  parseQcrmcallWrite,
  parseQgdcntRead,
  parseQtempExec,
} from "../../../src/modem/parsers/index.ts";
import { okValue } from "./expect-ok.ts";
import { quote } from "./transcript-lines.ts";

const T07 = "07_sixfab_1414_ec25a_ecm_not_registered.txt";
const T11 = "11_quectel_forum_ec25_fc20_usbnet_gobinet.txt";
const T20 = "20_cms_documents_ec25e_quecopen_smd9_session.txt";
const T24 = "24_lukejenkins_cwd_eg25g_ati_qgmr_qcfg_list.txt";
const T28 = "28_3ginfo43_ec200t_qtemp_qnwinfo_qeng_variant.txt";
const T37 = "37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt";

describe("QTEMP", () => {
  test("EC25 3-value form (ec25.md §4.3 [T 02])", () => {
    expect(okValue(parseQtempExec(["+QTEMP: 42,38,38"]))).toEqual({
      pmic: 42,
      xo: 38,
      pa: 38,
      sensors: [
        { name: "pmic", celsius: 42 },
        { name: "xo", celsius: 38 },
        { name: "pa", celsius: 38 },
      ],
      max: 42,
    });
  });
  test("255 = sensor n/a [T 28]", () => {
    // 28_3ginfo43_ec200t_qtemp_qnwinfo_qeng_variant.txt
    const v = okValue(parseQtempExec([quote(T28, "+QTEMP: 38,255,255")]));
    expect(v).toMatchObject({ pmic: 38, xo: null, pa: null, max: 38 });
  });
  test("per-sensor form", () => {
    const v = okValue(parseQtempExec(['+QTEMP:"modem-lte-sub6-pa1","33"', '+QTEMP:"aoss-0-usr","35"', '+QTEMP:"sdr0","255"']));
    expect(v).toEqual({
      pmic: null,
      xo: null,
      pa: null,
      sensors: [
        { name: "modem-lte-sub6-pa1", celsius: 33 },
        { name: "aoss-0-usr", celsius: 35 },
        { name: "sdr0", celsius: null },
      ],
      max: 35,
    });
  });
  test("all n/a and garbage", () => {
    expect(okValue(parseQtempExec(["+QTEMP: 255,255,255"])).max).toBeNull();
    expect(parseQtempExec(["+QTEMP: a,b,c"]).ok).toBe(false);
    expect(parseQtempExec(["+QTEMP: 42"]).ok).toBe(false);
    expect(parseQtempExec([]).ok).toBe(false);
  });
});

describe("CGDCONT read", () => {
  test("three contexts incl. the 16-octet IPv6 zero address [T 20]", () => {
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt
    const lines = [
      quote(T20, '+CGDCONT: 1,"IP","internet","0.0.0.0",0,0,0,0'),
      quote(T20, '+CGDCONT: 2,"IP","uninet","0.0.0.0",0,0,0,0'),
      quote(T20, '+CGDCONT: 3,"IPV4V6","3gpp","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0'),
    ];
    const v = okValue(parseCgdcontRead(lines));
    expect(v).toHaveLength(3);
    expect(v[0]).toEqual({ cid: 1, pdpType: "IP", apn: "internet", address: "0.0.0.0", dataCompression: 0, headerCompression: 0, extra: ["0", "0"] });
    expect(v[2]).toMatchObject({ cid: 3, pdpType: "IPV4V6", apn: "3gpp" });
  });
  test("variable field counts (5G firmwares append empty fields) and short lines", () => {
    const v = okValue(parseCgdcontRead(['+CGDCONT: 1,"IPV4V6","ims","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0,,,,,,,,,"",,,,0', '+CGDCONT: 2,"IP",""', "+CGDCONT: 3"]));
    expect(v[0].extra).toHaveLength(15);
    expect(v[1]).toEqual({ cid: 2, pdpType: "IP", apn: "", address: null, dataCompression: null, headerCompression: null, extra: [] });
    expect(v[2]).toMatchObject({ cid: 3, pdpType: null, apn: null });
  });
  test("empty answer and garbage", () => {
    expect(okValue(parseCgdcontRead([]))).toEqual([]);
    expect(parseCgdcontRead(["+CGDCONT: x,\"IP\""]).ok).toBe(false);
  });
});

describe("CGPADDR", () => {
  test.each([
    ['+CGPADDR: 1,"10.76.51.180"', { cid: 1, ipv4: "10.76.51.180", ipv6: null }],
    ["+CGPADDR: 1,10.64.12.34", { cid: 1, ipv4: "10.64.12.34", ipv6: null }],
    ["+CGPADDR: 1", { cid: 1, ipv4: null, ipv6: null }],
    ['+CGPADDR: 1,"0.0.0.0"', { cid: 1, ipv4: null, ipv6: null }],
    ['+CGPADDR: 1,"0.0.0.0","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"', { cid: 1, ipv4: null, ipv6: null }],
    ['+CGPADDR: 1,"10.1.2.3","32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1"', { cid: 1, ipv4: "10.1.2.3", ipv6: "2001:db8:0:0:0:0:0:1" }],
    ['+CGPADDR: 1,"32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1"', { cid: 1, ipv4: null, ipv6: "2001:db8:0:0:0:0:0:1" }],
    ['+CGPADDR: 1,"2001:db8::1"', { cid: 1, ipv4: null, ipv6: "2001:db8::1" }],
    ['+CGPADDR: 1,"999.1.1"', { cid: 1, ipv4: null, ipv6: null }],
  ] as const)("%p", (line, want) => {
    expect(okValue(parseCgpaddrWrite([line]))).toEqual([want]);
  });
  test("exec lists every context", () => {
    expect(okValue(parseCgpaddrExec(['+CGPADDR: 1,"10.0.0.1"', "+CGPADDR: 2", ""]))).toEqual([
      { cid: 1, ipv4: "10.0.0.1", ipv6: null },
      { cid: 2, ipv4: null, ipv6: null },
    ]);
  });
  test("garbage", () => {
    expect(parseCgpaddrWrite(["+CGPADDR: ,"]).ok).toBe(false);
    expect(parseCgpaddrWrite(["hello"]).ok).toBe(false);
    expect(dottedToIpv6("1.2.3.4")).toBe("1.2.3.4");
  });
});

describe("$QCRMCALL", () => {
  test("start answer, text form (ec25.md §4.5)", () => {
    expect(okValue(parseQcrmcallWrite(["$QCRMCALL: 1,V4"]))).toEqual({
      calls: [{ instance: 1, family: "ipv4", typeRaw: "V4" }],
      connected: true,
      ipv4: true,
      ipv6: false,
    });
  });
  test("read, dual stack and numeric forms", () => {
    const v = okValue(parseQcrmcallRead(["$QCRMCALL: 1,V4", "$QCRMCALL: 1,V6"]));
    expect(v).toMatchObject({ connected: true, ipv4: true, ipv6: true });
    expect(okValue(parseQcrmcallRead(["$QCRMCALL: 1,4"])).calls[0].family).toBe("ipv4");
    expect(okValue(parseQcrmcallRead(["$qcrmcall: 1,6"])).calls[0].family).toBe("ipv6");
    expect(okValue(parseQcrmcallRead(["$QCRMCALL: 1,X9"])).calls[0].family).toBeNull();
  });
  test("no call: just OK", () => {
    expect(okValue(parseQcrmcallRead([]))).toEqual({ calls: [], connected: false, ipv4: false, ipv6: false });
    expect(okValue(parseQcrmcallWrite([]))).toMatchObject({ connected: false });
  });
  test("test form", () => {
    expect(okValue(parseQcrmcallTest(["$QCRMCALL: (0,1),(1,2,3,4,5,6,7,8),(1-3),(1-2),(1-24,100-179),,"]))).toEqual({
      ranges: ["0,1", "1,2,3,4,5,6,7,8", "1-3", "1-2", "1-24,100-179"],
    });
  });
  test("garbage", () => {
    expect(parseQcrmcallRead(["$QCRMCALL: 1"]).ok).toBe(false);
    expect(parseQcrmcallRead(["junk"]).ok).toBe(false);
    expect(parseQcrmcallTest(["$QCRMCALL: 1,V4"]).ok).toBe(false);
  });
});

describe("QGDCNT", () => {
  test("ec25.md §4.5 [MAN example]", () => {
    expect(okValue(parseQgdcntRead(["+QGDCNT: 3832,4618"]))).toEqual({ bytesSent: 3832, bytesReceived: 4618 });
    expect(okValue(parseQgdcntRead(["+QGDCNT: 123456789012,0"]))).toEqual({ bytesSent: 123456789012, bytesReceived: 0 });
  });
  test("garbage", () => {
    expect(parseQgdcntRead(["+QGDCNT: 1"]).ok).toBe(false);
    expect(parseQgdcntRead(["+QGDCNT: -1,2"]).ok).toBe(false);
  });
});

describe("QCFG", () => {
  test("usbnet QMI [T 11] and ECM with forum curly quotes [T 07]", () => {
    // 11_quectel_forum_ec25_fc20_usbnet_gobinet.txt
    expect(okValue(parseQcfgUsbnetWrite([quote(T11, '+QCFG: "usbnet",0')]))).toEqual({ mode: 0, modeName: "qmi" });
    // 07_sixfab_1414_ec25a_ecm_not_registered.txt
    expect(okValue(parseQcfgUsbnetWrite([quote(T07, "+QCFG: \u201cusbnet\u201d,1")]))).toEqual({ mode: 1, modeName: "ecm" });
    expect(okValue(parseQcfgUsbnetWrite(['+QCFG: "usbnet",3']))).toEqual({ mode: 3, modeName: "rndis" });
    expect(okValue(parseQcfgUsbnetWrite(['+QCFG: "usbnet",7']))).toEqual({ mode: 7, modeName: null });
  });
  test("generic entries [T 24, T 37]", () => {
    // 24_lukejenkins_cwd_eg25g_ati_qgmr_qcfg_list.txt
    expect(okValue(parseQcfgWrite([quote(T24, '+QCFG: "band",0xbff,0x1e00b0e18df,0x0')]))).toEqual([
      { name: "band", values: ["0xbff", "0x1e00b0e18df", "0x0"] },
    ]);
    // 37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt
    expect(okValue(parseQcfgWrite([quote(T37, '+QCFG: "urc/cache",0')]))).toEqual([{ name: "urc/cache", values: ["0"] }]);
    expect(okValue(parseQcfgWrite([quote(T37, '+QCFG: "urc/ri/pin",uart_ri')]))).toEqual([{ name: "urc/ri/pin", values: ["uart_ri"] }]);
  });
  test("garbage", () => {
    expect(parseQcfgUsbnetWrite(['+QCFG: "band",0xbff']).ok).toBe(false);
    expect(parseQcfgUsbnetWrite(['+QCFG: "usbnet",x']).ok).toBe(false);
    expect(parseQcfgWrite(["nothing"]).ok).toBe(false);
  });
});

describe("CFUN / CMEE", () => {
  test("CFUN read and URC [T 37]", () => {
    expect(okValue(parseCfunRead(["+CFUN: 1"]))).toEqual({ fun: 1, mode: "full" });
    expect(okValue(parseCfunRead(["+CFUN: 0"]))).toEqual({ fun: 0, mode: "minimum" });
    // 37_pinephone_sdk130_eg25_manager_boot_urcs_and_cfg_queries.txt
    expect(okValue(parseCfunUrc(quote(T37, "+CFUN: 4")))).toEqual({ fun: 4, mode: "airplane" });
    expect(okValue(parseCfunRead(["+CFUN: 7"]))).toEqual({ fun: 7, mode: "other" });
    expect(parseCfunRead(["+CFUN:"]).ok).toBe(false);
  });
  test("CMEE read", () => {
    expect(okValue(parseCmeeRead(["+CMEE: 1"]))).toEqual({ mode: 1, modeName: "numeric" });
    expect(okValue(parseCmeeRead(["+CMEE: 2"]))).toEqual({ mode: 2, modeName: "verbose" });
    expect(okValue(parseCmeeRead(["+CMEE: 0"]))).toEqual({ mode: 0, modeName: "disabled" });
    expect(parseCmeeRead(["+CMEE: x"]).ok).toBe(false);
  });
});
