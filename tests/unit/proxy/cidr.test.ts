import { describe, expect, test } from "bun:test";
import { compileWhitelist, ipToBigInt, parseCidr, parseIpv4, parseIpv6 } from "../../../src/proxy/engine/cidr.ts";

describe("parseIpv4 / parseIpv6", () => {
  test.each([
    ["0.0.0.0", 0],
    ["10.1.2.3", 0x0a010203],
    ["255.255.255.255", 0xffffffff],
  ])("%s", (s, n) => expect(parseIpv4(s)).toBe(n));

  test.each(["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "a.b.c.d", "", "1.2.3.-4"])("rejects %p", (s) => {
    expect(parseIpv4(s)).toBeNull();
  });

  test.each([
    ["::", 0n],
    ["::1", 1n],
    ["2001:db8::1", (0x20010db8n << 96n) | 1n],
    ["::ffff:10.0.0.1", (0xffffn << 32n) | 0x0a000001n],
    ["fe80::1%eth0", (0xfe80n << 112n) | 1n],
    ["1:2:3:4:5:6:7:8", 0x00010002000300040005000600070008n],
  ])("%s", (s, n) => expect(parseIpv6(s)).toBe(n));

  test.each(["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", ":::", "1:2:3:4:5:6:7"])("rejects %p", (s) => {
    expect(parseIpv6(s)).toBeNull();
  });
});

describe("parseCidr", () => {
  test("an IPv4 prefix lives at 96 + n in the mapped space", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ base: ipToBigInt("10.0.0.0")!, prefix: 104 });
  });
  test("a bare address is a host route", () => {
    expect(parseCidr("192.168.1.5")?.prefix).toBe(128);
    expect(parseCidr("::1")?.prefix).toBe(128);
  });
  test("host bits are masked off", () => {
    expect(parseCidr("10.1.2.3/8")!.base).toBe(ipToBigInt("10.0.0.0")!);
  });
  test.each(["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8/1", "x/8", "10.0.0.0/-1", "10.0.0.0/ 8"])("rejects %p", (s) => {
    expect(parseCidr(s)).toBeNull();
  });
});

describe("compileWhitelist", () => {
  const allowed = compileWhitelist(["192.168.50.0/24", "10.9.9.9", "2001:db8::/32"]);
  test.each([
    ["192.168.50.7", true],
    ["::ffff:192.168.50.7", true],
    ["192.168.51.7", false],
    ["10.9.9.9", true],
    ["10.9.9.8", false],
    ["2001:db8:1::5", true],
    ["2001:db9::5", false],
    ["not-an-ip", false],
  ])("%s → %p", (ip, ok) => expect(allowed(ip)).toBe(ok));

  test("an IPv4-mapped entry matches plain IPv4 clients", () => {
    expect(compileWhitelist(["::ffff:127.0.0.0/104"])("127.0.0.2")).toBe(true);
  });
  test("0.0.0.0/0 matches every IPv4 but no native IPv6", () => {
    const any4 = compileWhitelist(["0.0.0.0/0"]);
    expect(any4("8.8.8.8")).toBe(true);
    expect(any4("2001:db8::1")).toBe(false);
  });
  test("empty list matches nothing", () => {
    expect(compileWhitelist([])("127.0.0.1")).toBe(false);
  });
});
