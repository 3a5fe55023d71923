import { describe, expect, test } from "bun:test";
import { decodeDnsResponse, encodeDnsQuery, normalizeHostname, readName } from "../../../src/proxy/engine/dns-message.ts";

/** Builds a response the way a server would, with name compression for answers. */
function response(id: number, name: string, answers: { type: number; ttl: number; data: number[] }[], rcode = 0): Uint8Array {
  const q = encodeDnsQuery(id, name);
  const out = [...q];
  out[2] = 0x81;
  out[3] = 0x80 | rcode;
  out[7] = answers.length;
  for (const a of answers) {
    out.push(0xc0, 12, 0, a.type, 0, 1, (a.ttl >>> 24) & 255, (a.ttl >>> 16) & 255, (a.ttl >>> 8) & 255, a.ttl & 255, 0, a.data.length, ...a.data);
  }
  return new Uint8Array(out);
}

describe("normalizeHostname", () => {
  test.each([
    ["Echo.LAB.", "echo.lab"],
    ["a-b.c_d.example", "a-b.c_d.example"],
    ["localhost", "localhost"],
  ])("%s → %s", (i, o) => expect(normalizeHostname(i)).toBe(o));
  test.each(["", ".", "a..b", "-a.b", "a-.b", "a b", "a/b", "x".repeat(64) + ".com", ("a".repeat(60) + ".").repeat(5)])(
    "rejects %p",
    (n) => expect(normalizeHostname(n)).toBeNull(),
  );
});

describe("encodeDnsQuery", () => {
  test("wire bytes", () => {
    const q = encodeDnsQuery(0x1234, "echo.lab");
    expect([...q]).toEqual([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 101, 99, 104, 111, 3, 108, 97, 98, 0, 0, 1, 0, 1]);
  });
});

describe("decodeDnsResponse", () => {
  test("A records after a CNAME", () => {
    const r = response(7, "echo.lab", [
      { type: 5, ttl: 300, data: [3, 119, 119, 119, 0xc0, 12] },
      { type: 1, ttl: 60, data: [198, 51, 100, 10] },
      { type: 1, ttl: 60, data: [198, 51, 100, 11] },
    ]);
    expect(decodeDnsResponse(r, 7, "echo.lab")).toEqual({
      id: 7,
      rcode: 0,
      truncated: false,
      answers: [
        { address: "198.51.100.10", ttl: 60 },
        { address: "198.51.100.11", ttl: 60 },
      ],
    });
  });
  test("NXDOMAIN", () => {
    expect(decodeDnsResponse(response(9, "nope.lab", [], 3), 9, "nope.lab").rcode).toBe(3);
  });
  test("a stray or spoofed answer is refused", () => {
    const r = response(7, "echo.lab", [{ type: 1, ttl: 1, data: [1, 2, 3, 4] }]);
    expect(() => decodeDnsResponse(r, 8, "echo.lab")).toThrow("id");
    expect(() => decodeDnsResponse(r, 7, "other.lab")).toThrow("question");
    expect(() => decodeDnsResponse(encodeDnsQuery(7, "echo.lab"), 7, "echo.lab")).toThrow("not a DNS response");
  });
  test("truncated and looping messages throw instead of hanging", () => {
    const r = response(7, "echo.lab", [{ type: 1, ttl: 1, data: [1, 2, 3, 4] }]);
    for (let cut = 0; cut < r.length; cut++) {
      try {
        decodeDnsResponse(r.subarray(0, cut), 7, "echo.lab");
      } catch {}
    }
    const loop = new Uint8Array([0xc0, 0]);
    expect(() => readName(loop, 0)).toThrow("loop");
  });
});
