import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { createTargetPolicy } from "../../../src/proxy/engine/target-policy.ts";

describe("createTargetPolicy", () => {
  const strict = createTargetPolicy({ allowLocal: false });

  test.each(["127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1", "0.0.0.0", "169.254.169.254", "fe80::1", "224.0.0.251", "::"])(
    "refuses %s",
    (ip) => expect(strict.allows(ip)).toBe(false),
  );

  test.each(["198.51.100.10", "8.8.8.8", "2001:db8::1", "10.64.0.1"])("allows remote %s", (ip) => {
    const own = Object.values(networkInterfaces()).flat().map((a) => a?.address);
    if (own.includes(ip)) return; // this box happens to own it; covered below
    expect(strict.allows(ip)).toBe(true);
  });

  test("refuses every address of this machine's interfaces", () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined)
      .map((a) => a.address);
    expect(own.length).toBeGreaterThan(0);
    for (const ip of own) expect(strict.allows(ip)).toBe(false);
  });

  test("allowLocal lets everything through (tests, bench)", () => {
    expect(createTargetPolicy({ allowLocal: true }).allows("127.0.0.1")).toBe(true);
  });
});
