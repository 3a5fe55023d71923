import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { curl, freePort, hashPassword, startDnsServer, startLab, startOrigin, type DnsServer, type Lab, type Origin } from "./helpers.ts";

/**
 * 3proxy.md §3: when the modem's address is gone, requests must fail at once (3proxy: 502,
 * E=12) and never leave from another address. 10.255.254.253 is assigned nowhere here, so the
 * bind() before connect() fails with EADDRNOTAVAIL and no packet is sent at all.
 */
let origin: Origin;
let dns: DnsServer;
let lab: Lab;
const port = freePort();

beforeAll(async () => {
  origin = startOrigin();
  dns = await startDnsServer({ "origin.test": "127.0.0.1" });
  lab = await startLab({
    version: 1,
    ports: [
      {
        id: "gone",
        port,
        listen: "127.0.0.1",
        outAddress: "10.255.254.253",
        state: "online",
        users: [{ name: "alice", passwordHash: await hashPassword("pw") }],
        dns: { servers: [dns.spec] },
      },
    ],
  });
});
afterAll(async () => {
  await lab.stop();
  dns.stop();
  origin.stop();
});

describe("source address gone", () => {
  test("HTTP → 502 quickly, the origin sees nothing", async () => {
    const t0 = Date.now();
    const r = await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, "-i", origin.url("/ip")]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 502 /);
    expect(r.stdout).toContain("EADDRNOTAVAIL");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(origin.peers).toEqual([]);
  });

  test("SOCKS5 → failure, and the DNS query is not sent from anywhere else", async () => {
    const before = dns.queries.length;
    const r = await curl(["--socks5-hostname", `alice:pw@127.0.0.1:${port}`, `http://origin.test:${origin.port}/ip`]);
    expect(r.code).toBe(97);
    expect(r.stderr).toContain("(3)"); // SOCKS5 reply 0x03 network unreachable
    expect(dns.queries.length).toBe(before);
    expect(origin.peers).toEqual([]);
    const s = lab.engine.stats().ports[0];
    expect(s.refusals.source_unavailable).toBe(2);
  });
});
