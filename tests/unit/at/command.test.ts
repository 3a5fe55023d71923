import { describe, expect, test } from "bun:test";
import { metricsKey, MAX_COMMAND_LENGTH, validateBody, validateCommand } from "../../../src/modem/at/command.ts";
import { hasCode } from "../../../src/lib/errors.ts";
import { isEcho } from "../../../src/modem/at/at-job.ts";

function codeOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return hasCode(e, "AT_INVALID_COMMAND") ? "AT_INVALID_COMMAND" : String(e);
  }
}

describe("validateCommand", () => {
  test.each(["AT", "ATI", "AT+CSQ", 'AT+QENG="servingcell"', "at+cops?", "AT+CSQ;+CREG?"])("accepts %s", (c) => {
    expect(codeOf(() => validateCommand(c))).toBeNull();
  });

  test.each([
    ["", "empty"],
    ["AT+CFUN=1,1\rAT+CFUN=0", "CR injection"],
    ["AT+CSQ\n", "LF"],
    ["AT+CMGS=\"1\"\u001aX", "Ctrl-Z"],
    ["AT\u0000", "NUL"],
    ["AT\u001b", "ESC"],
    ["AT\u007f", "DEL"],
    ["+CSQ", "no AT"],
    ["AT" + "X".repeat(MAX_COMMAND_LENGTH), "too long"],
  ])("rejects %j (%s) with AT_INVALID_COMMAND", (c) => {
    expect(codeOf(() => validateCommand(c))).toBe("AT_INVALID_COMMAND");
  });
});

describe("validateBody", () => {
  test("plain text and LF are fine", () => expect(codeOf(() => validateBody("Hello\nworld äö"))).toBeNull());
  test.each(["a\u001ab", "a\u001b", "a\rb", "a\u0000"])("rejects %j", (b) => {
    expect(codeOf(() => validateBody(b))).toBe("AT_INVALID_COMMAND");
  });
});

describe("metricsKey", () => {
  test.each([
    ["AT", "AT"],
    ["ATI", "ATI"],
    ["ATE0", "ATE"],
    ["AT&W", "AT&W"],
    ["AT+CSQ", "AT+CSQ"],
    ["at+cereg?", "AT+CEREG"],
    ["AT+COPS=?", "AT+COPS"],
    ['AT+QENG="servingcell"', "AT+QENG"],
    ["AT$QCRMCALL=1,1", "AT$QCRMCALL"],
    ["AT+CSQ;+CREG?", "AT+CSQ"],
  ])("%s → %s", (command, key) => {
    expect(metricsKey(command)).toBe(key);
  });
});

describe("isEcho (ec25.md §3.4.2)", () => {
  test.each([
    ["AT+CSQ", "AT+CSQ", true],
    ["at+csq", "AT+CSQ", true],
    ["AT+CMGD=0,4AT+CMGD=0,4", "AT+CMGD=0,4", true], // wedged port [T 38]
    ["\uFFFDxAT+CSQ", "AT+CSQ", true], // garbage in front
    ["+CSQ: 19,99", "AT+CSQ", false],
    ["OK", "AT", false],
    ['+QIND: "act","CAT"', "AT", false],
    ["Quectel", "ATI", false],
  ])("%j echoes %j: %p", (line, command, expected) => {
    expect(isEcho(line, command)).toBe(expected);
  });
});
