import { describe, expect, test } from "bun:test";
import { hasCode } from "../../../src/lib/errors.ts";
import { parseProxyConfig } from "../../../src/proxy/engine/config-schema.ts";

const HASH = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

function errorOf(input: unknown): { code: string; issues: string[] } {
  try {
    parseProxyConfig(input);
  } catch (e) {
    if (!hasCode(e, "PROXY_CONFIG_INVALID")) throw e;
    return { code: "PROXY_CONFIG_INVALID", issues: (e as { details: { issues: string[] } }).details.issues };
  }
  throw new Error("expected a refusal");
}

describe("parseProxyConfig", () => {
  test("fills every default", () => {
    const c = parseProxyConfig({ version: 3, ports: [{ id: "866", port: 3128, state: "online" }] });
    expect(c.whitelist).toEqual([]);
    expect(c.timeouts).toEqual({ handshakeMs: 10_000, connectMs: 10_000, idleMs: 300_000 });
    expect(c.spool).toEqual({ rollSeconds: 60, rollEntries: 10_000 });
    expect(c.ports[0]).toEqual({
      id: "866",
      port: 3128,
      listen: "0.0.0.0",
      outAddress: null,
      state: "online",
      users: [],
      whitelist: [],
      maxConnections: 500,
      dns: { servers: [] },
    });
  });

  test("keeps a full port as given", () => {
    const port = {
      id: "866",
      port: 3129,
      listen: "127.0.0.1",
      outAddress: "10.64.0.2",
      state: "rotating",
      reason: "IP rotation",
      users: [{ name: "alice", passwordHash: HASH }],
      whitelist: ["192.168.50.0/24"],
      maxConnections: 10,
      dns: { servers: ["10.64.0.1", "127.0.0.53:5353", "[::1]:53"] },
    };
    expect(parseProxyConfig({ version: "abc", ports: [port] }).ports[0]).toEqual(port);
  });

  test.each([
    ["missing version", { ports: [] }, "version"],
    ["bad port", { version: 1, ports: [{ id: "a", port: 70000, state: "online" }] }, "ports.0.port"],
    ["bad listen", { version: 1, ports: [{ id: "a", port: 1, state: "online", listen: "localhost" }] }, "ports.0.listen"],
    ["bad outAddress", { version: 1, ports: [{ id: "a", port: 1, state: "online", outAddress: "10.0.0.300" }] }, "ports.0.outAddress"],
    ["bad CIDR", { version: 1, whitelist: ["10.0.0.0/40"] }, "whitelist.0"],
    ["clear password", { version: 1, ports: [{ id: "a", port: 1, state: "online", users: [{ name: "u", passwordHash: "secret" }] }] }, "passwordHash"],
    ["colon in user", { version: 1, ports: [{ id: "a", port: 1, state: "online", users: [{ name: "a:b", passwordHash: HASH }] }] }, "users.0.name"],
    ["bad dns", { version: 1, ports: [{ id: "a", port: 1, state: "online", dns: { servers: ["dns.google"] } }] }, "dns.servers.0"],
    ["zero timeout", { version: 1, timeouts: { idleMs: 0 } }, "timeouts.idleMs"],
  ])("refuses %s", (_name, input, path) => {
    const e = errorOf(input);
    expect(e.issues.join("\n")).toContain(path);
  });

  test("refuses duplicate port numbers and ids", () => {
    const p = { id: "a", port: 1, state: "online" };
    expect(errorOf({ version: 1, ports: [p, { ...p, id: "b" }] }).issues.join()).toContain("share a port number");
    expect(errorOf({ version: 1, ports: [p, { ...p, port: 2 }] }).issues.join()).toContain("share an id");
  });

  test("refuses non-objects", () => {
    expect(errorOf(null).code).toBe("PROXY_CONFIG_INVALID");
    expect(errorOf("x").code).toBe("PROXY_CONFIG_INVALID");
  });
});
