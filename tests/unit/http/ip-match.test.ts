import { describe, expect, test } from "bun:test";
import { ipAllowed, ipInCidr, parseIp } from "../../../src/http/ip-match.ts";

describe("CIDR matching", () => {
  test.each([
    ["127.0.0.1", "127.0.0.1/32", true],
    ["127.0.0.2", "127.0.0.1/32", false],
    ["192.168.1.77", "192.168.1.0/24", true],
    ["192.168.2.1", "192.168.1.0/24", false],
    ["10.1.2.3", "0.0.0.0/0", true],
    ["::1", "::1/128", true],
    ["::2", "::1/128", false],
    ["2001:db8::5", "2001:db8::/32", true],
    ["2001:db9::5", "2001:db8::/32", false],
    ["::ffff:127.0.0.1", "127.0.0.1/32", true],
    ["127.0.0.1", "::1/128", false],
    ["10.0.0.1", "10.0.0.1", true],
  ])("%s in %s → %p", (ip, cidr, expected) => {
    expect(ipInCidr(ip, cidr)).toBe(expected);
  });

  test("garbage never matches and never throws", () => {
    for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", "1:2:3:4:5:6:7:8:9", "a::b::c", "x", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/x"]) {
      expect(ipInCidr(bad, "0.0.0.0/0")).toBe(false);
      expect(ipInCidr(bad, "::/0")).toBe(false);
      expect(ipInCidr("1.2.3.4", bad)).toBe(false);
    }
    expect(parseIp("256.1.1.1")).toBeNull();
    expect(ipAllowed(null, ["0.0.0.0/0"])).toBe(false);
    expect(ipAllowed("1.2.3.4", [])).toBe(false);
  });
});
