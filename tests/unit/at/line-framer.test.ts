import { describe, expect, test } from "bun:test";
import { LineFramer } from "../../../src/modem/at/line-framer.ts";
import { garbage, seededRandom, splitRandomly } from "../../helpers/scripted-modem.ts";

const bytes = (s: string) => Buffer.from(s, "latin1");
const utf8 = (s: string) => Buffer.from(s, "utf8");

function feedAll(framer: LineFramer, pieces: Uint8Array[]): string[] {
  return pieces.flatMap((p) => framer.push(p));
}

describe("LineFramer", () => {
  test("T 03 byte-exact echo + CGMR answer: echo line, info line, OK; blank lines dropped", () => {
    // 41 54 2B 43 47 4D 52 0D 0D 0A ... from the gammu hex dump [T 03]
    const f = new LineFramer();
    expect(f.push(bytes("AT+CGMR\r\r\nEC25EFAR06A04M4G\r\n\r\nOK\r\n"))).toEqual(["AT+CGMR", "EC25EFAR06A04M4G", "OK"]);
    expect(f.partial()).toBe("");
  });

  test("the same bytes one at a time give the same lines", () => {
    const f = new LineFramer();
    const input = bytes("AT+MODE=2\r\r\nERROR\r\n"); // [T 04]
    const lines = feedAll(f, [...input].map((b) => Uint8Array.of(b)));
    expect(lines).toEqual(["AT+MODE=2", "ERROR"]);
  });

  test("LF-only and CR-only line ends both split", () => {
    const f = new LineFramer();
    expect(f.push(bytes("a\nb\rc\r\n"))).toEqual(["a", "b", "c"]);
  });

  test("NULs and control bytes are removed, a line of only those disappears", () => {
    const f = new LineFramer();
    expect(f.push(bytes("\x00\x00+CSQ: 19,99\x00\r\n\x00\x01\x02\r\n"))).toEqual(["+CSQ: 19,99"]);
  });

  test("UTF-8 split across reads decodes once complete", () => {
    const f = new LineFramer();
    const all = utf8('+COPS: 0,0,"Telefónica",7\r\n');
    const cut = all.indexOf(0xc3) + 1; // between the two bytes of ó
    expect(f.push(all.subarray(0, cut))).toEqual([]);
    expect(f.push(all.subarray(cut))).toEqual(['+COPS: 0,0,"Telefónica",7']);
  });

  test("invalid UTF-8 becomes U+FFFD instead of throwing", () => {
    const f = new LineFramer();
    expect(f.push(Uint8Array.of(0x41, 0xff, 0xfe, 0x42, 0x0d))).toEqual(["A\uFFFD\uFFFDB"]);
  });

  test("the SMS prompt `> ` (no line end) is seen in the tail and can be dropped", () => {
    const f = new LineFramer();
    expect(f.push(bytes('\r\n> '))).toEqual([]);
    expect(f.atPrompt()).toBe(true);
    f.reset();
    expect(f.push(bytes("\r\n+CMGS: 13\r\n\r\nOK\r\n"))).toEqual(["+CMGS: 13", "OK"]);
  });

  test("`>` alone is a prompt too; `>x` or a longer tail is not", () => {
    const f = new LineFramer();
    f.push(bytes(">"));
    expect(f.atPrompt()).toBe(true);
    f.push(bytes("x"));
    expect(f.atPrompt()).toBe(false);
    expect(f.partial()).toBe(">x");
  });

  test("a line longer than the cap is dropped and counted; the next line is intact", () => {
    const f = new LineFramer(64);
    expect(f.push(new Uint8Array(200).fill(0x41))).toEqual([]);
    expect(f.stats.overflows).toBeGreaterThan(0);
    f.push(bytes("\r\n"));
    expect(f.push(bytes("OK\r\n"))).toEqual(["OK"]);
  });

  test("fuzz: 5000 random chunks never throw, and a response after a line break parses exactly", () => {
    const random = seededRandom(4242);
    const f = new LineFramer(1024);
    for (let i = 0; i < 5000; i++) {
      const lines = f.push(garbage(1 + Math.floor(random() * 64), random));
      for (const l of lines) {
        expect(typeof l).toBe("string");
        expect(l).not.toMatch(/[\u0000-\u001f]/);
        expect(l.length).toBeGreaterThan(0);
      }
    }
    f.push(bytes("\r\n"));
    const answer = bytes("\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    expect(feedAll(f, splitRandomly(answer, random))).toEqual(["+CREG: 0,1", "OK"]);
  });
});
