import { describe, expect, test } from "bun:test";
import { encodeDnsQuery } from "../../../src/proxy/engine/dns-message.ts";
import { buildServfail, checkDnsQuery, dnsId, dnsRcode, isDnsResponse, withDnsId } from "../../../src/proxy/dns-relay/wire.ts";

const query = encodeDnsQuery(0x1234, "echo.lab");

function mutate(buf: Uint8Array, fn: (dv: DataView, b: Uint8Array) => void): Uint8Array {
  const out = Uint8Array.from(buf);
  fn(new DataView(out.buffer), out);
  return out;
}

describe("checkDnsQuery", () => {
  test("a standard query passes with its id and question end", () => {
    const r = checkDnsQuery(query);
    expect(r).toEqual({ ok: true, id: 0x1234, questionEnd: query.length });
  });

  test("trailing EDNS bytes after the question are fine (the relay forwards them untouched)", () => {
    const withOpt = new Uint8Array([...query, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]);
    withOpt[11] = 1; // ARCOUNT
    expect(checkDnsQuery(withOpt)).toMatchObject({ ok: true, questionEnd: query.length });
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ["empty", new Uint8Array(0), /shorter/],
    ["11 bytes", query.subarray(0, 11), /shorter/],
    ["QR=1", mutate(query, (dv) => dv.setUint16(2, 0x8100)), /QR=1/],
    ["opcode 5 (UPDATE)", mutate(query, (dv) => dv.setUint16(2, 5 << 11)), /opcode 5/],
    ["QDCOUNT=0", mutate(query, (dv) => dv.setUint16(4, 0)), /QDCOUNT 0/],
    ["QDCOUNT=2", mutate(query, (dv) => dv.setUint16(4, 2)), /QDCOUNT 2/],
    ["header only", query.subarray(0, 12), /bad question name/],
    ["name cut off", query.subarray(0, 16), /bad question name/],
    ["no type/class", query.subarray(0, query.length - 3), /past the datagram/],
    ["compression loop", mutate(query, (_dv, b) => { b[12] = 0xc0; b[13] = 12; }), /bad question name/],
    ["label length 64", mutate(query, (_dv, b) => { b[12] = 64; }), /bad question name/],
  ];
  test.each(bad)("%s is refused", (_name, buf, reason) => {
    const r = checkDnsQuery(buf);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  test("random garbage never throws", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    for (let i = 0; i < 2000; i++) {
      const buf = Uint8Array.from({ length: i % 64 }, rnd);
      expect(() => checkDnsQuery(buf)).not.toThrow();
    }
  });
});

describe("buildServfail", () => {
  test("same id, QR=1, RD copied, RCODE=2, question echoed, no records", () => {
    const r = checkDnsQuery(query);
    if (!r.ok) throw new Error("fixture");
    const sf = buildServfail(query, r.questionEnd);
    expect(sf.length).toBe(query.length);
    expect(dnsId(sf)).toBe(0x1234);
    expect(isDnsResponse(sf)).toBe(true);
    expect(dnsRcode(sf)).toBe(2);
    const dv = new DataView(sf.buffer);
    expect(dv.getUint16(2)).toBe(0x8000 | 0x0100 | 0x0080 | 2);
    expect([dv.getUint16(4), dv.getUint16(6), dv.getUint16(8), dv.getUint16(10)]).toEqual([1, 0, 0, 0]);
    expect(sf.subarray(12)).toEqual(query.subarray(12));
  });

  test("drops EDNS additional records of the query and keeps RD=0 as 0", () => {
    const noRd = mutate(query, (dv) => dv.setUint16(2, 0));
    const withOpt = new Uint8Array([...noRd, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]);
    withOpt[11] = 1;
    const r = checkDnsQuery(withOpt);
    if (!r.ok) throw new Error("fixture");
    const sf = buildServfail(withOpt, r.questionEnd);
    expect(sf.length).toBe(query.length);
    expect(new DataView(sf.buffer).getUint16(2)).toBe(0x8000 | 0x0080 | 2);
    expect(new DataView(sf.buffer).getUint16(10)).toBe(0);
  });
});

describe("ids", () => {
  test("withDnsId copies; the original keeps its id", () => {
    const out = withDnsId(query, 0xbeef);
    expect(dnsId(out)).toBe(0xbeef);
    expect(dnsId(query)).toBe(0x1234);
    expect(out.subarray(2)).toEqual(query.subarray(2));
  });

  test("isDnsResponse needs a whole header with QR=1", () => {
    expect(isDnsResponse(query)).toBe(false);
    expect(isDnsResponse(new Uint8Array([0, 0, 0x80]))).toBe(false);
    expect(isDnsResponse(mutate(query, (dv) => dv.setUint16(2, 0x8180)))).toBe(true);
  });
});
