/**
 * The 3proxy backend publishes the relay's entries on every apply: dns-relay.json (for `lteproxy dns-relay`) and an
 * in-process relay, and every rendered config's nserver is that modem's relay address. The instances are plain
 * listeners on loopback (this test is about the files, not about 3proxy).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relayNserver } from "../../../src/proxy/dns-relay/address.ts";
import { readDnsRelayFile } from "../../../src/proxy/dns-relay/config-file.ts";
import { createDnsRelay } from "../../../src/proxy/dns-relay/relay.ts";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import { createThreeProxySupervisor } from "../../../src/proxy/supervisor/three-proxy-backend.ts";
import type { ThreeProxyInstances } from "../../../src/proxy/supervisor/three-proxy-instances.ts";
import { freePort } from "../proxy/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ltp-relay-3p-"));
const listeners = new Map<string, { stop(closeActive?: boolean): void }>();
const relay = createDnsRelay();
afterAll(async () => {
  for (const l of listeners.values()) l.stop(true);
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

function listenerInstances(ports: Map<string, number>): ThreeProxyInstances {
  const start = async (imei: string) => {
    if (listeners.has(imei)) return false;
    listeners.set(imei, Bun.listen({ hostname: "127.0.0.1", port: ports.get(imei)!, socket: { data() {} } }));
    return true;
  };
  return {
    kind: "process",
    running: async () => new Set(listeners.keys()),
    start,
    reload: async () => undefined,
    restart: async (imei) => void (await start(imei)),
    stop: async (imei) => {
      listeners.get(imei)?.stop(true);
      listeners.delete(imei);
    },
  };
}

describe("3proxy backend and the DNS relay", () => {
  test("apply writes dns-relay.json and feeds the in-process relay; nserver is the relay", async () => {
    const ports = new Map([["866000000000011", freePort()], ["866000000000012", freePort()], ["866000000000013", freePort()]]);
    const relayFile = join(dir, "run", "dns-relay.json");
    const dirs = { etc: join(dir, "etc"), log: join(dir, "log"), state: join(dir, "state"), run: join(dir, "pid") };
    const sup = createThreeProxySupervisor({
      instances: listenerInstances(ports), dirs, lookupUsers: async () => new Map(), checkMs: 0, dnsRelayFile: relayFile, dnsRelay: relay,
    });
    const port = (imei: string, over: Partial<NonNullable<ProxyConfigInput["ports"]>[number]> = {}) => ({
      id: imei, port: ports.get(imei)!, listen: "127.0.0.1", state: "online", outAddress: "127.0.0.1",
      dns: { servers: ["10.53.0.1", "[2001:db8::53]:53", "10.53.0.2:53"] }, ...over,
    });
    try {
      await sup.apply({
        version: "r1", whitelist: ["127.0.0.0/8"],
        ports: [port("866000000000012"), port("866000000000011", { outAddress: "127.0.0.2" }), port("866000000000013", { state: "searching" })],
      });
      const { config } = readDnsRelayFile(relayFile);
      expect(config).toEqual({
        version: "r1",
        entries: [
          // Sorted by id; the v6 server is dropped for a v4 modem address; the offline modem has no entry.
          { id: "866000000000011", port: ports.get("866000000000011")!, outAddress: "127.0.0.2", servers: ["10.53.0.1", "10.53.0.2"] },
          { id: "866000000000012", port: ports.get("866000000000012")!, outAddress: "127.0.0.1", servers: ["10.53.0.1", "10.53.0.2"] },
        ],
      });
      expect(relay.stats().map((s) => [s.id, s.listening, s.outAddress])).toEqual([
        ["866000000000012", true, "127.0.0.1"], ["866000000000011", true, "127.0.0.2"],
      ]);
      for (const imei of ["866000000000011", "866000000000012"]) {
        const cfg = readFileSync(join(dirs.etc, `${imei}.cfg`), "utf8");
        expect(cfg.split("\n").filter((l) => l.startsWith("nserver "))).toEqual([`nserver ${relayNserver(ports.get(imei)!)}`]);
      }

      await sup.apply({ version: "r2", whitelist: ["127.0.0.0/8"], ports: [port("866000000000012")] });
      expect(readDnsRelayFile(relayFile).config.entries.map((e) => e.id)).toEqual(["866000000000012"]);
      expect(relay.stats().map((s) => s.id)).toEqual(["866000000000012"]);
    } finally {
      await sup.stop({ stopDataPlane: true });
    }
  }, 20_000);
});
