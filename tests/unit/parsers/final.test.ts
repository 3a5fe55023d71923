import { describe, expect, test } from "bun:test";
import {
  allModemErrorCodes,
  classifyFinal,
  finalErrorCode,
  isPrompt,
  isSuccessFinal,
  lookupCmeError,
  lookupCmsError,
} from "../../../src/modem/parsers/index.ts";
import { quote } from "./transcript-lines.ts";

describe("classifyFinal", () => {
  const cases: [string, ReturnType<typeof classifyFinal>][] = [
    // 01_elixirforum_ec25af_ati_and_enumeration.txt
    [quote("01_elixirforum_ec25af_ati_and_enumeration.txt", "OK"), { kind: "OK" }],
    // 20_cms_documents_ec25e_quecopen_smd9_session.txt: typo'd command
    [quote("20_cms_documents_ec25e_quecopen_smd9_session.txt", "ERROR"), { kind: "ERROR" }],
    ["+CME ERROR: 10", { kind: "CME_ERROR", code: 10, text: "SIM not inserted" }],
    ["+CME ERROR: 13", { kind: "CME_ERROR", code: 13, text: "SIM failure" }],
    ["+CME ERROR: SIM not inserted", { kind: "CME_ERROR", code: 10, text: "SIM not inserted" }],
    ["+CME ERROR: sim NOT inserted", { kind: "CME_ERROR", code: 10, text: "sim NOT inserted" }],
    ["+CME ERROR:14", { kind: "CME_ERROR", code: 14, text: "SIM busy" }],
    ["+CME ERROR: 9999", { kind: "CME_ERROR", code: 9999 }],
    ["+CME ERROR: something odd", { kind: "CME_ERROR", text: "something odd" }],
    ["+CME ERROR:", { kind: "CME_ERROR" }],
    ["+CMS ERROR: 350", { kind: "CMS_ERROR", code: 350 }],
    ["+CMS ERROR: 310", { kind: "CMS_ERROR", code: 310, text: "SIM not inserted" }],
    ["+CMS ERROR: 500", { kind: "CMS_ERROR", code: 500, text: "unknown error" }],
    ["NO CARRIER", { kind: "NO_CARRIER" }],
    ["CONNECT", { kind: "CONNECT" }],
    ["CONNECT 150000000", { kind: "CONNECT", code: 150000000, text: "150000000" }],
    ["BUSY", { kind: "BUSY" }],
    ["NO ANSWER", { kind: "NO_ANSWER" }],
    ["NO DIALTONE", { kind: "NO_DIALTONE" }],
    ["OK\r", { kind: "OK" }],
    ["  OK  ", { kind: "OK" }],
  ];
  test.each(cases)("%p", (line, want) => {
    expect(classifyFinal(line)).toEqual(want);
  });

  const notFinal = [
    // 05_jeffgeerling_ec25a_qmi_and_ecm_session.txt
    quote("05_jeffgeerling_ec25a_qmi_and_ecm_session.txt", "+CSQ: 20,99"),
    // 01_elixirforum_ec25af_ati_and_enumeration.txt
    quote("01_elixirforum_ec25af_ati_and_enumeration.txt", "Revision: EC25AUFAR02A04M4G"),
    "",
    "OKAY",
    "ok",
    "CONNECTED",
    "ERRORS",
    "+CME ERRORS: 3",
    "> ",
    "RING",
  ];
  test.each(notFinal)("not final: %p", (line) => {
    expect(classifyFinal(line)).toBeNull();
  });

  test("non-string input returns null", () => {
    expect(classifyFinal(undefined as unknown as string)).toBeNull();
    expect(classifyFinal(42 as unknown as string)).toBeNull();
  });
});

describe("error tables", () => {
  test("numeric and verbose CME map to the same stable code", () => {
    expect(lookupCmeError(10).code).toBe("SIM_NOT_INSERTED");
    expect(lookupCmeError("10").code).toBe("SIM_NOT_INSERTED");
    expect(lookupCmeError("SIM not inserted").code).toBe("SIM_NOT_INSERTED");
    expect(lookupCmeError("SIM PIN required")).toEqual({ code: "SIM_PIN_REQUIRED", number: 11, message: "SIM PIN required", known: true });
    expect(lookupCmeError(3).code).toBe("OPERATION_NOT_ALLOWED");
    expect(lookupCmeError(14).code).toBe("SIM_BUSY");
    expect(lookupCmeError(30).code).toBe("NO_NETWORK_SERVICE");
    expect(lookupCmeError("incorrect parameters").number).toBe(50);
    expect(lookupCmeError(100).code).toBe("UNKNOWN_ERROR");
  });
  test("CMS shares codes for the same condition", () => {
    expect(lookupCmsError(310).code).toBe(lookupCmeError(10).code);
    expect(lookupCmsError(313).code).toBe(lookupCmeError(13).code);
    expect(lookupCmsError(330).code).toBe("SMSC_ADDRESS_UNKNOWN");
    expect(lookupCmsError(321).code).toBe("INVALID_INDEX");
    expect(lookupCmsError("SMSC address unknown").number).toBe(330);
  });
  test("unknown entries keep the number and get a generic code", () => {
    // 350 is seen when sending SMS [T 23] but is not in 27.005's named list (ec25.md §3.3).
    expect(lookupCmsError(350)).toEqual({ code: "CMS_UNKNOWN", number: 350, message: "error 350", known: false });
    expect(lookupCmeError("weird text")).toEqual({ code: "CME_UNKNOWN", number: null, message: "weird text", known: false });
  });
  test("codes are SCREAMING_SNAKE and unique per table entry", () => {
    const codes = allModemErrorCodes();
    expect(codes.length).toBeGreaterThan(60);
    for (const c of codes) expect(c).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
  test("finalErrorCode", () => {
    expect(finalErrorCode(classifyFinal("+CME ERROR: 10")!)).toBe("SIM_NOT_INSERTED");
    expect(finalErrorCode(classifyFinal("+CME ERROR: SIM failure")!)).toBe("SIM_FAILURE");
    expect(finalErrorCode(classifyFinal("+CMS ERROR: 330")!)).toBe("SMSC_ADDRESS_UNKNOWN");
    expect(finalErrorCode(classifyFinal("ERROR")!)).toBe("AT_ERROR");
    expect(finalErrorCode(classifyFinal("NO CARRIER")!)).toBe("NO_CARRIER");
    expect(finalErrorCode(classifyFinal("OK")!)).toBeNull();
    expect(finalErrorCode(classifyFinal("CONNECT 150000000")!)).toBeNull();
    expect(finalErrorCode({ kind: "CME_ERROR" })).toBe("CME_UNKNOWN");
  });
  test("isSuccessFinal / isPrompt", () => {
    expect(isSuccessFinal("OK")).toBe(true);
    expect(isSuccessFinal("CME_ERROR")).toBe(false);
    expect(isPrompt("> ")).toBe(true);
    expect(isPrompt("\r\n> ")).toBe(true);
    expect(isPrompt(">")).toBe(true);
    expect(isPrompt("> hello")).toBe(false);
    expect(isPrompt("OK")).toBe(false);
  });
});
