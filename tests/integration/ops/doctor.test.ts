/**
 * Doctor's runtime checks against real parts: PostgreSQL (max_connections for the fleet, the modems the router
 * would route), a real built-in engine (stats socket, listening port), and as root the kernel's rules and routes in
 * a namespace this test creates (differences reported, then none after the reconciler ran).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../../src/config.ts";
import { dataPlaneModems } from "../../../src/db/queries/data-plane.ts";
import { extraDoctorChecks } from "../../../src/cli/ops/doctor-extra.ts";
import { checkDataPlane, checkDnsRelay, checkMaxConnections, checkProxyPorts, checkRouting } from "../../../src/cli/ops/doctor-runtime.ts";
import { createDnsRelay } from "../../../src/proxy/dns-relay/relay.ts";
import { relayNserver } from "../../../src/proxy/dns-relay/address.ts";
import { probeDnsRelay } from "../../../src/proxy/dns-relay/probe.ts";
import { RoutingReconciler } from "../../../src/net/routing-reconciler.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { freePort, startDnsServer, startLab, type Lab } from "../proxy/helpers.ts";

const NODE = "docnode";
let db: TestDb;
let lab: Lab;
const live = freePort();
const dead = freePort();
const dir = mkdtempSync(join(tmpdir(), "ltp-doc-"));
const cfg = (over: Record<string, Record<string, unknown>> = {}): Config =>
  loadConfig({ env: {}, overrides: { node: { id: NODE }, paths: { runtime_dir: lab.dir, data_dir: dir, device_dir: join(dir, "none") }, proxy: { listen: "127.0.0.1" }, ...over } });

beforeAll(async () => {
  db = await createTestDb({ prefix: "doctor" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'h')`;
  await db.sql`insert into modems (node_id, imei, state, proxy_port, route_table, wan_ip, ifname) values
    (${NODE}, '866000000000091', 'online', ${live}, 160, '10.252.0.2', 'd0'),
    (${NODE}, '866000000000092', 'online', ${dead}, 161, null, null),
    (${NODE}, '866000000000093', 'offline', ${freePort()}, 162, null, null)`;
  lab = await startLab({ version: "doc1", ports: [{ id: "866000000000091", port: live, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online" }] });
});

afterAll(async () => {
  await lab?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("doctor runtime checks", () => {
  test("proxy ports: an online modem whose port does not accept fails, naming it", async () => {
    const modems = await dataPlaneModems(db.sql, NODE);
    const r = await checkProxyPorts(cfg(), modems);
    expect(r.level).toBe("fail");
    expect(r.detail).toBe(`1/2 not accepting on 127.0.0.1: ${dead} (866000000000092)`);
    const onlyLive = modems.filter((m) => m.proxy_port === live);
    expect((await checkProxyPorts(cfg(), onlyLive)).level).toBe("ok");
  });

  test("data plane: the engine's stats socket answers with its config version; a wrong runtime dir fails", async () => {
    const ok = await checkDataPlane(cfg());
    expect(ok.level).toBe("ok");
    expect(ok.detail).toContain("config doc1");
    expect(ok.detail).toContain("1/1 ports listening");
    expect((await checkDataPlane(cfg({ paths: { runtime_dir: dir } }))).level).toBe("fail");
  });

  test("DNS relay (3proxy engine): answering relays are ok, a silent one fails naming it, no answer over the modem warns", async () => {
    const modems = await dataPlaneModems(db.sql, NODE);
    expect((await checkDnsRelay(cfg(), modems)).level).toBe("ok"); // built-in engine: no relay to ask
    const three = cfg({ proxy: { engine: "3proxy" } });
    const carrier = await startDnsServer({});
    const relay = createDnsRelay({ timeoutMs: 300 });
    let carrierUp = true;
    try {
      await relay.apply([{ id: "866000000000091", port: live, outAddress: "127.0.0.1", servers: [carrier.spec] }]);
      const one = await checkDnsRelay(three, modems, (port) => probeDnsRelay(port, 800));
      expect(one).toMatchObject({ level: "fail", detail: `1/2 relays silent: ${relayNserver(dead)} (866000000000092) (systemctl status lteproxy-dns-relay)` });
      expect(carrier.queries).toEqual([{ name: "lteproxy-doctor.invalid", from: "127.0.0.1" }]);
      await relay.apply([
        { id: "866000000000091", port: live, outAddress: "127.0.0.1", servers: [carrier.spec] },
        { id: "866000000000092", port: dead, outAddress: "127.0.0.1", servers: [carrier.spec] },
      ]);
      expect(await checkDnsRelay(three, modems)).toMatchObject({ level: "ok", detail: "2/2 answer through their modem" });
      carrierUp = false;
      carrier.stop(); // the carrier goes silent: the relay answers SERVFAIL
      expect(await checkDnsRelay(three, modems)).toMatchObject({ level: "warn", detail: `2/2 got no answer through the modem: ${[live, dead].sort().map((p) => `${p} (${p === live ? "866000000000091" : "866000000000092"})`).join(", ")}` });
    } finally {
      await relay.close();
      if (carrierUp) carrier.stop();
    }
  });

  test("PostgreSQL connections: enough for the fleet is ok; a pool larger than the server allows fails", async () => {
    const ok = await checkMaxConnections(cfg(), db.sql);
    expect(ok.level).toBe("ok");
    expect(ok.detail).toMatch(/max_connections \d+/);
    const max = Number((await db.sql`select current_setting('max_connections')::int as m`)[0]!.m);
    const tooBig = await checkMaxConnections(cfg({ database: { max_connections: Math.min(200, max) } }), db.sql);
    expect(tooBig.level).toBe("fail");
    expect(tooBig.detail).toContain("raise max_connections");
  });

  test("all extra checks in order; without the database the ones that need it warn instead of failing", async () => {
    const names = ["udev rules", "modems per slot", "ModemManager", "qmicli", "routing rules and tables", "proxy ports listening", "data plane",
      "DNS relay", "PostgreSQL connections", "clock"];
    const quiet = async () => ({ code: 1, stdout: "", stderr: "" });
    const withDb = await extraDoctorChecks(cfg(), db.sql, { run: quiet, reconciler: { owned: new RoutingReconciler().owned, readState: async () => ({ rules: [], routes: [], links: [] }) } });
    expect(withDb.map((c) => c.name)).toEqual(names);
    expect(withDb.find((c) => c.name === "routing rules and tables")!.level).toBe("fail");
    const noDb = await extraDoctorChecks(cfg(), undefined, { run: quiet });
    expect(noDb.map((c) => c.name)).toEqual(names);
    for (const n of ["routing rules and tables", "proxy ports listening", "PostgreSQL connections"]) {
      expect(noDb.find((c) => c.name === n)).toMatchObject({ level: "warn", detail: "skipped: needs the database" });
    }
  });
});

const root = process.getuid?.() === 0 && Bun.spawnSync(["ip", "netns", "list"]).exitCode === 0;
describe.skipIf(!root)("doctor routing check (root, own namespace)", () => {
  const ns = `ltpdoc-${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(() => {
    Bun.spawnSync(["ip", "netns", "add", ns]);
    for (const c of [["link", "add", "d0", "type", "veth", "peer", "name", "d1"], ["link", "set", "d1", "up"], ["addr", "add", "10.252.0.2/24", "dev", "d0"], ["link", "set", "d0", "up"]]) {
      Bun.spawnSync(["ip", "-n", ns, ...c]);
    }
  });
  afterAll(() => {
    Bun.spawnSync(["ip", "netns", "del", ns]);
  });

  test("differences from the database fail; after the reconciler ran there are none; a hand-deleted rule fails again", async () => {
    const reconciler = new RoutingReconciler({ netns: ns, owned: { tableMin: 100, tableMax: 999 } });
    const modems = (await dataPlaneModems(db.sql, NODE)).filter((m) => m.wan_ip);
    const before = await checkRouting(cfg(), modems, reconciler);
    expect(before.level).toBe("fail");
    expect(before.detail).toContain("lookup 160");
    await reconciler.apply([{ imei: "866000000000091", ifname: "d0", address: "10.252.0.2", table: 160, mtu: 1500, dns: [] }]);
    expect(await checkRouting(cfg(), modems, reconciler)).toMatchObject({ level: "ok" });
    Bun.spawnSync(["ip", "-n", ns, "rule", "del", "from", "10.252.0.2", "lookup", "160"]);
    expect((await checkRouting(cfg(), modems, reconciler)).level).toBe("fail");
  });
});
