import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { hasCode } from "../../../src/lib/errors.ts";
import { createResolver, parseDnsServer } from "../../../src/proxy/engine/dns-resolver.ts";
import { curl, freePort, hashPassword, randomLoopback, startDnsServer, startLab, startOrigin, type DnsServer } from "./helpers.ts";

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer({ "echo.lab": "127.0.0.1", "other.lab": "127.0.0.2" });
});
afterAll(() => dns.stop());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return hasCode(e, (e as { code: string }).code) ? (e as { code: string }).code : String(e);
  }
}

describe("parseDnsServer", () => {
  test.each([
    ["10.64.0.1", { host: "10.64.0.1", port: 53 }],
    ["127.0.0.53:5353", { host: "127.0.0.53", port: 5353 }],
    ["[::1]:53", { host: "::1", port: 53 }],
    ["2001:db8::1", { host: "2001:db8::1", port: 53 }],
    ["[::1]", { host: "::1", port: 53 }],
  ])("%s", (s, want) => expect(parseDnsServer(s)).toEqual(want));
  test.each(["dns.google", "1.2.3.4:0", "1.2.3.4:99999", "[dns]:53"])("rejects %p", (s) => {
    expect(parseDnsServer(s)).toBeNull();
  });
});

describe("resolver", () => {
  test("queries leave from the bound address and answers are cached per TTL", async () => {
    const from = randomLoopback();
    let now = 1_000_000;
    const r = createResolver({ servers: [dns.spec], localAddress: from, now: () => now });
    const before = dns.queries.length;
    expect(await r.resolve("echo.lab")).toBe("127.0.0.1");
    expect(await r.resolve("echo.lab")).toBe("127.0.0.1");
    expect(dns.queries.length - before).toBe(1);
    expect(dns.queries.at(-1)).toEqual({ name: "echo.lab", from });
    now += 61_000; // the test server's TTL is 60 s
    expect(await r.resolve("echo.lab")).toBe("127.0.0.1");
    expect(dns.queries.length - before).toBe(2);
  });

  test("NXDOMAIN is an error and is remembered briefly", async () => {
    const r = createResolver({ servers: [dns.spec], localAddress: null });
    const before = dns.queries.length;
    expect(await codeOf(r.resolve("missing.lab"))).toBe("DNS_NXDOMAIN");
    expect(await codeOf(r.resolve("missing.lab"))).toBe("DNS_NXDOMAIN");
    expect(dns.queries.length - before).toBe(1);
  });

  test("concurrent lookups of one name share one query", async () => {
    const r = createResolver({ servers: [dns.spec], localAddress: null });
    const before = dns.queries.length;
    const all = await Promise.all(Array.from({ length: 20 }, () => r.resolve("other.lab")));
    expect(new Set(all)).toEqual(new Set(["127.0.0.2"]));
    expect(dns.queries.length - before).toBe(1);
  });

  test("a silent server times out after attempts x servers", async () => {
    const mute = dgram.createSocket("udp4");
    await new Promise<void>((res) => mute.bind({ address: "127.0.0.1", port: 0 }, res));
    let got = 0;
    mute.on("message", () => got++);
    const r = createResolver({ servers: [`127.0.0.1:${mute.address().port}`], localAddress: null, timeoutMs: 100, attempts: 2 });
    const t0 = Date.now();
    expect(await codeOf(r.resolve("echo.lab"))).toBe("DNS_TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(got).toBe(2);
    mute.close();
  });

  test("a missing source address fails at once (no fallback to an unbound socket)", async () => {
    const r = createResolver({ servers: [dns.spec], localAddress: "10.255.254.253" });
    const before = dns.queries.length;
    expect(await codeOf(r.resolve("echo.lab"))).toBe("DNS_SOURCE_UNAVAILABLE");
    expect(dns.queries.length).toBe(before);
  });

  test("no servers configured: refuses instead of asking the system resolver", async () => {
    const r = createResolver({ servers: [], localAddress: null });
    expect(await codeOf(r.resolve("localhost"))).toBe("DNS_NO_SERVERS");
  });
});

describe("proxied names resolve through the port's DNS from outAddress", () => {
  test("HTTP absolute-form with a hostname, and a port without DNS servers refuses names", async () => {
    const origin = startOrigin();
    const out = randomLoopback();
    const port = freePort();
    const noDns = freePort();
    const users = [{ name: "u", passwordHash: await hashPassword("p") }];
    const lab = await startLab({
      version: 1,
      ports: [
        { id: "a", port, listen: "127.0.0.1", outAddress: out, state: "online", users, dns: { servers: [dns.spec] } },
        { id: "b", port: noDns, listen: "127.0.0.1", outAddress: out, state: "online", users },
      ],
    });
    try {
      const before = dns.queries.length;
      const r = await curl(["-x", `http://u:p@127.0.0.1:${port}`, `http://echo.lab:${origin.port}/ip`]);
      expect(r.stdout).toBe(out);
      expect(dns.queries.slice(before)).toEqual([{ name: "echo.lab", from: out }]);
      const r2 = await curl(["-x", `http://u:p@127.0.0.1:${noDns}`, "-o", "/dev/null", "-w", "%{http_code}", `http://echo.lab:${origin.port}/ip`]);
      expect(r2.stdout).toBe("502");
    } finally {
      await lab.stop();
      origin.stop();
    }
  });
});
