import { describe, expect, test } from "bun:test";
import { intParam, splitCommandLine, splitParams, unquote } from "../../../src/sim/modem/at-parse.ts";

describe("splitCommandLine", () => {
  const cases: [string, [string, string, string][] | undefined][] = [
    ["AT", []],
    ["at", []],
    ["ATI", [["I", "exec", ""]]],
    ["ATE0Q0V1", [["E", "exec", "0"], ["Q", "exec", "0"], ["V", "exec", "1"]]],
    ["AT+CSQ;+CREG?", [["+CSQ", "exec", ""], ["+CREG", "read", ""]]],
    // [T 27] chaining with lower case and a quoted keyword
    ['at+qnwinfo;+qeng="servingcell";+qspn', [["+QNWINFO", "exec", ""], ["+QENG", "write", '"servingcell"'], ["+QSPN", "exec", ""]]],
    ["AT+COPS=?", [["+COPS", "test", ""]]],
    ['AT+CGDCONT=1,"IP","a;b"', [["+CGDCONT", "write", '1,"IP","a;b"']]],
    ["AT$QCRMCALL=1,1", [["$QCRMCALL", "write", "1,1"]]],
    ["AT&W", [["&W", "exec", ""]]],
    ["ATS0?", [["S", "read", "0"]]],
    ["ATS0=2", [["S", "write", "0=2"]]],
    ["ATD*99#", [["D", "exec", "*99#"]]],
    ["AT+CMEE=1;&W", [["+CMEE", "write", "1"], ["&W", "exec", ""]]],
    ["~#at", undefined], // garbage before AT [T 20]
    ['at+qicsgp=1,1,"airtelgpars', undefined], // unbalanced quote [T 20]
    ["AT+", undefined],
    ["AT+CSQ X", undefined],
  ];
  for (const [line, expected] of cases) {
    test(JSON.stringify(line), () => {
      const got = splitCommandLine(line)?.map((c) => [c.name, c.kind, c.params]);
      expect(got).toEqual(expected);
    });
  }
});

test("splitParams keeps quotes and commas inside them", () => {
  expect(splitParams('1,"IP","a,b",,0')).toEqual(["1", '"IP"', '"a,b"', "", "0"]);
  expect(splitParams("")).toEqual([]);
  expect(splitParams('"open')).toBeUndefined();
});

test("unquote and intParam are strict", () => {
  expect(unquote('"servingcell"')).toBe("servingcell");
  expect(unquote("servingcell")).toBeUndefined();
  expect(intParam("-12")).toBe(-12);
  expect(intParam('"1"')).toBeUndefined();
  expect(intParam("")).toBeUndefined();
});
