import { describe, expect, test } from "bun:test";
import { RELAY_PORT, relayListenAddress, relayNserver } from "../../../src/proxy/dns-relay/address.ts";
import { renderThreeProxyConfig, defaultThreeProxyPaths } from "../../../src/proxy/three-proxy/render.ts";

describe("relayListenAddress", () => {
  test.each([
    [1, "127.53.0.1"],
    [255, "127.53.0.255"],
    [256, "127.53.1.0"],
    [3128, "127.53.12.56"],
    [20001, "127.53.78.33"],
    [65535, "127.53.255.255"],
  ])("port %d → %s", (port, addr) => {
    expect(relayListenAddress(port)).toBe(addr);
  });

  test("every port gets its own address", () => {
    const seen = new Set<string>();
    for (let p = 1; p <= 65535; p += 7) seen.add(relayListenAddress(p));
    expect(seen.size).toBe(Math.ceil(65535 / 7));
  });

  test.each([0, -1, 65536, 1.5, Number.NaN])("port %p is refused", (port) => {
    expect(() => relayListenAddress(port)).toThrow(RangeError);
  });

  test("relayNserver adds the relay port", () => {
    expect(RELAY_PORT).toBe(5353);
    expect(relayNserver(3128)).toBe("127.53.12.56:5353");
  });
});

describe("3proxy config points nserver at the relay", () => {
  test("one nserver line, the relay of this port, no carrier address", () => {
    const { cfg } = renderThreeProxyConfig({
      imei: "860000000000002", listen: "0.0.0.0", port: 20002, outAddress: "10.64.0.2", dns: ["10.64.0.1", "10.64.0.3"],
      users: [], whitelist: ["10.0.0.0/8"], maxconn: 10, paths: defaultThreeProxyPaths("860000000000002"),
    });
    const nservers = cfg.split("\n").filter((l) => l.startsWith("nserver "));
    expect(nservers).toEqual(["nserver 127.53.78.34:5353"]);
    expect(cfg).not.toContain("10.64.0.1");
    expect(cfg).not.toContain("10.64.0.3");
  });
});
