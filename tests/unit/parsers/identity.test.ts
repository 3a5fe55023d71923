import { describe, expect, test } from "bun:test";
import {
  isValidImei,
  luhnCheckDigit,
  luhnValid,
  parseAtiExec,
  parseCgmiExec,
  parseCgmmExec,
  parseCgmrExec,
  parseCgsnExec,
  parseCimiExec,
  parseGsnExec,
  parseQccidExec,
  parseQgmrExec,
} from "../../../src/modem/parsers/index.ts";
import { quote } from "./transcript-lines.ts";

const T01 = "01_elixirforum_ec25af_ati_and_enumeration.txt";
const T03 = "03_gammu492_ec25ef_cgmr_hexdump_with_echo.txt";
const T24 = "24_lukejenkins_cwd_eg25g_ati_qgmr_qcfg_list.txt";
const T32 = "32_quectel_forum_ec21_mmcli_modem_info_ports.txt";

describe("ATI", () => {
  test("EC25-AF [T 01]", () => {
    // 01_elixirforum_ec25af_ati_and_enumeration.txt
    const lines = [quote(T01, "Quectel"), quote(T01, "EC25"), quote(T01, "Revision: EC25AUFAR02A04M4G"), ""];
    expect(parseAtiExec(lines)).toEqual({ ok: true, value: { manufacturer: "Quectel", model: "EC25", revision: "EC25AUFAR02A04M4G" } });
  });
  test("EG25-G [T 24]", () => {
    // 24_lukejenkins_cwd_eg25g_ati_qgmr_qcfg_list.txt
    const lines = [quote(T24, "Quectel"), quote(T24, "EG25"), quote(T24, "Revision: EG25GGBR07A08M2G")];
    const r = parseAtiExec(lines);
    expect(r.ok && r.value.model).toBe("EG25");
    expect(r.ok && r.value.revision).toBe("EG25GGBR07A08M2G");
  });
  test("echo line and CR are ignored", () => {
    expect(parseAtiExec(["ATI\r", "Quectel\r", "EC25\r", "Revision: X1\r"])).toEqual({
      ok: true,
      value: { manufacturer: "Quectel", model: "EC25", revision: "X1" },
    });
  });
  test("partial and empty", () => {
    expect(parseAtiExec(["Quectel"])).toEqual({ ok: true, value: { manufacturer: "Quectel", model: null, revision: null } });
    expect(parseAtiExec([]).ok).toBe(false);
    expect(parseAtiExec(["", "  "]).ok).toBe(false);
  });
});

describe("IMEI (GSN/CGSN) and Luhn", () => {
  // 32_quectel_forum_ec21_mmcli_modem_info_ports.txt: "| equipment id: 864394041083561"
  const imei = quote(T32, "864394041083561");
  test.each([
    [[imei]],
    [[`+CGSN: "${imei}"`]],
    [[`+CGSN: ${imei}`]],
    [["", imei, ""]],
  ])("%p", (lines) => {
    expect(parseGsnExec(lines)).toEqual({ ok: true, value: { imei, checksumValid: true } });
    expect(parseCgsnExec(lines)).toEqual({ ok: true, value: { imei, checksumValid: true } });
  });
  test("bad check digit is reported, not hidden", () => {
    expect(parseGsnExec(["864394041083562"])).toEqual({ ok: true, value: { imei: "864394041083562", checksumValid: false } });
  });
  test("garbage and partial IMEIs fail", () => {
    expect(parseGsnExec(["86439404108356"]).ok).toBe(false);
    expect(parseGsnExec(["8643940410835612"]).ok).toBe(false);
    expect(parseGsnExec(["ERROR"]).ok).toBe(false);
    expect(parseGsnExec([]).ok).toBe(false);
  });
  test("luhn helpers", () => {
    expect(luhnValid("79927398713")).toBe(true);
    expect(luhnValid("79927398710")).toBe(false);
    expect(luhnValid("")).toBe(false);
    expect(luhnValid("12a4")).toBe(false);
    expect(luhnCheckDigit("86439404108356")).toBe(1);
    expect(luhnCheckDigit("x")).toBeNull();
    expect(isValidImei(imei)).toBe(true);
    expect(isValidImei("490154203237518")).toBe(true);
    expect(isValidImei("490154203237519")).toBe(false);
  });
});

describe("CIMI", () => {
  test("bare IMSI (ec25.md §4.1 [T 10])", () => {
    expect(parseCimiExec(["295050902070619"])).toEqual({ ok: true, value: { imsi: "295050902070619", mcc: "295" } });
  });
  test("garbage", () => {
    expect(parseCimiExec(["+CME ERROR: 10"]).ok).toBe(false);
    expect(parseCimiExec(["abc"]).ok).toBe(false);
  });
});

describe("QCCID", () => {
  test("F-padded 19-digit ICCID (ec25.md §4.1 [T 27])", () => {
    expect(parseQccidExec(["+QCCID: 8939560000000806706F"])).toEqual({
      ok: true,
      value: { iccid: "8939560000000806706", raw: "8939560000000806706F", checksumValid: true },
    });
  });
  test("20-digit ICCID and lower-case f", () => {
    const r = parseQccidExec(["+QCCID: 89014103211118510720"]);
    expect(r.ok && r.value.iccid).toBe("89014103211118510720");
    const f = parseQccidExec(["+QCCID: 8939560000000806706f"]);
    expect(f.ok && f.value.iccid).toBe("8939560000000806706");
  });
  test("garbage", () => {
    expect(parseQccidExec(["+QCCID: hello"]).ok).toBe(false);
    expect(parseQccidExec(["+QCCID: 8939"]).ok).toBe(false);
    expect(parseQccidExec(["8939560000000806706F"]).ok).toBe(false);
  });
});

describe("CGMR / QGMR / CGMI / CGMM", () => {
  test("CGMR from the raw bytes of [T 03], echo included", () => {
    // 03_gammu492_ec25ef_cgmr_hexdump_with_echo.txt, "# note: bytes decode to ..."
    quote(T03, "AT+CGMR\\r\\r\\nEC25EFAR06A04M4G\\r\\n\\r\\nOK\\r\\n");
    const lines = "AT+CGMR\r\r\nEC25EFAR06A04M4G\r\n\r\nOK\r\n".split(/\r\n|\r|\n/).filter((l) => l !== "OK");
    expect(parseCgmrExec(lines)).toEqual({ ok: true, value: { revision: "EC25EFAR06A04M4G" } });
  });
  test("QGMR [T 24]", () => {
    // 24_lukejenkins_cwd_eg25g_ati_qgmr_qcfg_list.txt
    expect(parseQgmrExec([quote(T24, "EG25GGBR07A08M2G_30.203.30.203")])).toEqual({
      ok: true,
      value: { revision: "EG25GGBR07A08M2G_30.203.30.203" },
    });
  });
  test("prefixed variants and garbage", () => {
    expect(parseCgmrExec(["+CGMR: EC25EFAR06A04M4G"])).toEqual({ ok: true, value: { revision: "EC25EFAR06A04M4G" } });
    expect(parseCgmrExec(["Revision: EC25EFAR06A04M4G"])).toEqual({ ok: true, value: { revision: "EC25EFAR06A04M4G" } });
    expect(parseCgmrExec([]).ok).toBe(false);
    expect(parseCgmrExec(["\u0000\u0001"]).ok).toBe(false);
  });
  test("CGMI / CGMM [T 03]", () => {
    // 03_gammu492_ec25ef_cgmr_hexdump_with_echo.txt: "[Manufacturer: Quectel]"
    quote(T03, "[Manufacturer: Quectel]");
    expect(parseCgmiExec(["Quectel"])).toEqual({ ok: true, value: { manufacturer: "Quectel" } });
    expect(parseCgmmExec(["EC25"])).toEqual({ ok: true, value: { model: "EC25" } });
  });
});
