import { describe, expect, test } from "bun:test";
import { checkConsoleCommand } from "../../../src/modem/console-policy.ts";

function codeOf(command: unknown, opts: Parameters<typeof checkConsoleCommand>[1] = {}): string {
  try {
    checkConsoleCommand(command, opts);
    return "allowed";
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe("console policy", () => {
  test.each([
    ["AT+CSQ"], ["at+csq"], ["  AT+CEREG?  "], ['AT+QENG="servingcell"'], ['AT+QENG="SERVINGCELL"'], ["ATI"], ["AT+QCCID"],
    ["AT+CGSN"], ["AT+GSN"], ["AT+CIMI"], ["AT+CGDCONT?"], ["AT+CGPADDR"], ["AT+CGPADDR=1"], ["AT+QGDCNT?"], ["AT+CFUN?"],
    ['AT+QCFG="usbnet"'], ['AT+QCFG="band"'], ["AT+QSPN"], ["AT+QTEMP"], ["AT+QNWINFO"], ["AT+COPS?"], ["AT+CPIN?"],
  ])("allows the read %s", (cmd) => {
    expect(codeOf(cmd)).toBe("allowed");
  });

  test.each([
    ["AT+CFUN=1,1;+CFUN=0", "CONSOLE_CHAINING"],
    ["AT+CSQ;+CREG?", "CONSOLE_CHAINING"],
    ['AT+QENG="servingcell;"', "CONSOLE_CHAINING"],
    ["ATD*99#", "CONSOLE_DIAL"],
    ["ATD+15551230000;", "CONSOLE_CHAINING"],
    ["atd123", "CONSOLE_DIAL"],
    ["ATA", "CONSOLE_DIAL"],
    ["ATH", "CONSOLE_DIAL"],
    ["ATO", "CONSOLE_DIAL"],
    ["AT D5", "CONSOLE_DIAL"],
    ["AT+CSQ\r\nAT+CFUN=0", "CONSOLE_INJECTION"],
    ["AT+CSQ\nAT+CFUN=0", "CONSOLE_INJECTION"],
    ["AT+CSQ\r", "CONSOLE_INJECTION"],
    ["AT+CMGS=\"1\"\u001a", "CONSOLE_INJECTION"],
    ["AT+CSQ\u0000", "CONSOLE_INJECTION"],
    ["", "CONSOLE_INVALID"],
    ["   ", "CONSOLE_INVALID"],
    ["+CSQ", "CONSOLE_INVALID"],
    [42, "CONSOLE_INVALID"],
    [`AT+${"X".repeat(300)}`, "CONSOLE_INVALID"],
    ["AT+CFUN=1,1", "CONSOLE_NOT_ALLOWED"],
    ["AT+CFUN=0", "CONSOLE_NOT_ALLOWED"],
    ['AT+QCFG="usbnet",1', "CONSOLE_NOT_ALLOWED"],
    ["AT+CGPADDR=1,2", "CONSOLE_NOT_ALLOWED"],
    ["AT+EGMR=1,7,\"123456789012345\"", "CONSOLE_NOT_ALLOWED"],
    ["AT&W", "CONSOLE_NOT_ALLOWED"],
    ["ATZ", "CONSOLE_NOT_ALLOWED"],
    ["AT+CSQ AT+CFUN=0", "CONSOLE_NOT_ALLOWED"],
  ])("refuses %p with %s", (cmd, code) => {
    expect(codeOf(cmd)).toBe(code);
  });

  test("refusals say why in words", () => {
    expect(() => checkConsoleCommand("AT+CFUN=1,1;+CFUN=0")).toThrow(/chains several commands/);
    expect(() => checkConsoleCommand("ATD*99#")).toThrow(/dial/);
    expect(() => checkConsoleCommand("AT+CSQ\nATD1")).toThrow(/CR, LF/);
    expect(() => checkConsoleCommand("AT+CFUN=0")).toThrow(/allow-list.*console\.allow/);
  });

  test("control adds the radio and data-call controls, never chaining or dial", () => {
    for (const c of ["AT+CFUN=1,1", "AT+CFUN=4", "AT+CFUN=1", "AT+CFUN=0", "AT+COPS=2", "AT$QCRMCALL=1,1"]) {
      expect(codeOf(c, { control: true })).toBe("allowed");
    }
    expect(codeOf("AT+CFUN=1,1;+CFUN=0", { control: true })).toBe("CONSOLE_CHAINING");
    expect(codeOf("ATD*99#", { control: true })).toBe("CONSOLE_DIAL");
    expect(codeOf("AT+CFUN=5", { control: true })).toBe("CONSOLE_NOT_ALLOWED");
  });

  test("admin patterns widen the list; * is one simple parameter", () => {
    const extra = ["AT+CGDCONT=*", 'AT+QCFG="nat"', "AT+QICSGP=*"];
    expect(codeOf("AT+CGDCONT=1", { extra })).toBe("allowed");
    expect(codeOf('AT+CGDCONT=1,"IP","internet"', { extra })).toBe("CONSOLE_NOT_ALLOWED");
    expect(codeOf("AT+QICSGP=1", { extra })).toBe("allowed");
    // a pattern can never admit what the structural checks refuse
    expect(codeOf("ATD*99#", { extra: ["ATD*"] })).toBe("CONSOLE_DIAL");
    expect(codeOf("AT+CSQ;+CFUN=0", { extra: ["AT+CSQ;+CFUN=0"] })).toBe("CONSOLE_CHAINING");
  });

  test("returns the trimmed command to send", () => {
    expect(checkConsoleCommand("  AT+CSQ ")).toBe("AT+CSQ");
  });
});
