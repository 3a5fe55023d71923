import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { curl, freePort, hashPassword, startDnsServer, startLab, startOrigin, type DnsServer, type Lab, type Origin } from "./helpers.ts";

/** Production default: targets on this machine are refused (they would not leave through the modem). */
let origin: Origin;
let dns: DnsServer;
let lab: Lab;
const port = freePort();

beforeAll(async () => {
  origin = startOrigin();
  dns = await startDnsServer({ "rebind.test": "127.0.0.1" });
  lab = await startLab({
    version: 1,
    allowLocalTargets: false,
    ports: [{ id: "P", port, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", users: [{ name: "u", passwordHash: await hashPassword("p") }], dns: { servers: [dns.spec] } }],
  });
});
afterAll(async () => {
  await lab.stop();
  dns.stop();
  origin.stop();
});

describe("local targets", () => {
  test("HTTP to 127.0.0.1, to a name resolving there, and to the proxy itself → 403", async () => {
    for (const url of [origin.url("/ip"), `http://rebind.test:${origin.port}/ip`, `http://127.0.0.1:${port}/`]) {
      const r = await curl(["-x", `http://u:p@127.0.0.1:${port}`, "-o", "/dev/null", "-w", "%{http_code}", url]);
      expect(r.stdout).toBe("403");
    }
    expect(origin.peers).toEqual([]);
  });

  test("SOCKS5 → 0x02 (not allowed by ruleset)", async () => {
    const r = await curl(["--socks5-hostname", `u:p@127.0.0.1:${port}`, origin.url("/ip")]);
    expect(r.code).toBe(97);
    expect(r.stderr).toContain("(2)");
    expect(lab.engine.stats().ports[0].refusals.target_denied).toBe(4);
  });
});
