/**
 * Real 3proxy instances on the lab (LTEPROXY_TEST_3PROXY=/path/to/3proxy, root, ip netns, dnsmasq, nft): the demo
 * brings 3 simulated modems online (data sessions, policy routes, built-in ports); the 3proxy backend then renders
 * the same desired config into one 3proxy per modem (process mode, inside the lab's box namespace, ports +20000)
 * and: port i leaves through modem i over HTTP and SOCKS5, auth is enforced with the CR hashes it rendered, a
 * link-down modem's port fails without a single packet on the box's uplink, and the logs land in connection_log.
 * Targets are IP literals: 3proxy's nserver sockets are unbound and follow the main table (3proxy.md §3), so its
 * DNS would not go through the modem; see docs/operations.md.
 * Without a 3proxy binary (or without root/lab tools) every test here is reported as skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, type RunningDemo } from "../../../src/demo.ts";
import { listProxies, type ProxyListing } from "../../../src/cli/proxies.ts";
import { ingestThreeProxyLogs } from "../../../src/proxy/ingest/index.ts";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import { createThreeProxySupervisor, dbUserLookup } from "../../../src/proxy/supervisor/three-proxy-backend.ts";
import { processInstances } from "../../../src/proxy/supervisor/three-proxy-instances.ts";
import { canBuildLab } from "../../../src/sim/net/index.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const BIN = process.env.LTEPROXY_TEST_3PROXY ?? "";
const hasBin = BIN !== "" && existsSync(BIN);
const lab = process.getuid?.() === 0 && Boolean(canBuildLab());
if (!hasBin) console.warn("SKIPPED lab 3proxy tests: set LTEPROXY_TEST_3PROXY=/path/to/3proxy to run them");
else if (!lab) console.warn("SKIPPED lab 3proxy tests: need root with ip netns, dnsmasq and nft");

const MODEMS = 3;
const OFFSET = 20_000;
let demo: RunningDemo;
let db: TestDb;
let dataDir: string;
let proxies: ProxyListing[] = [];
let sup: ReturnType<typeof createThreeProxySupervisor>;
let dirs: { etc: string; log: string; state: string; run: string };

async function curl(args: string[], timeoutS = 8) {
  const p = Bun.spawn(["curl", "-sS", "-m", String(timeoutS), "-o", "-", "-w", "\n%{http_code}", ...args], { stdout: "pipe", stderr: "pipe" });
  const started = performance.now();
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  const i = out.lastIndexOf("\n");
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i).trim(), ms: performance.now() - started };
}
const echo = () => `${demo.net!.info().echoUrl}/ip`;
const via = (p: ProxyListing, auth = `${p.username}:${p.password}@`) => curl(["-x", `http://${auth}${p.host}:${p.port + OFFSET}`, echo()]);

describe.skipIf(!hasBin || !lab)("real 3proxy per modem on the lab", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "ltp-lab3p-"));
    dirs = { etc: join(dataDir, "etc"), log: join(dataDir, "log"), state: join(dataDir, "state"), run: join(dataDir, "run3p") };
    db = await createTestDb({ prefix: "lab3p" });
    demo = await startDemo({ modems: MODEMS, net: "lab", httpPort: 35000 + Math.floor(Math.random() * 5000), dataDir, timeScale: 0.05, databaseUrl: db.url });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      proxies = await listProxies(demo.app.db.sql, demo.config.node.id, demo.config.proxy.public_host);
      if (proxies.length === MODEMS && proxies.every((p) => p.state === "online" && p.public_ip)) break;
      await Bun.sleep(250);
    }
    const desired = JSON.parse(readFileSync(join(demo.config.paths.runtime_dir, "proxy.json"), "utf8")) as ProxyConfigInput;
    const info = demo.net!.info();
    sup = createThreeProxySupervisor({
      instances: processInstances({ binary: BIN, wrapper: ["ip", "netns", "exec", info.boxNs!], scan: { pidDir: dirs.run, cfgDir: dirs.etc } }),
      dirs, lookupUsers: dbUserLookup(demo.app.db.sql), portOffset: OFFSET, checkMs: 0,
      probeHost: () => info.lanIp!,
    });
    await sup.apply(desired);
  }, 150_000);

  afterAll(async () => {
    await sup?.stop({ stopDataPlane: true });
    await demo?.stop();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("one listening 3proxy per online modem", async () => {
    expect(proxies.filter((p) => p.state === "online").length).toBe(MODEMS);
    expect(sup.health().map((h) => h.listening)).toEqual(Array(MODEMS).fill(true));
    expect((await sup.status()).alive).toBe(true);
  });

  test("HTTP and SOCKS5 on port i leave through modem i (its public IP); no credentials or a wrong password get 407", async () => {
    for (const p of proxies) {
      const http = await via(p);
      expect(http).toMatchObject({ code: 200, body: p.public_ip! });
      const socks = await curl(["--socks5", `${p.username}:${p.password}@${p.host}:${p.port + OFFSET}`, echo()]);
      expect(socks).toMatchObject({ code: 200, body: p.public_ip! });
    }
    expect(new Set(proxies.map((p) => p.public_ip)).size).toBe(MODEMS);
    expect((await via(proxies[0]!, "")).code).toBe(407);
    expect((await via(proxies[0]!, `${proxies[0]!.username}:wrong@`)).code).toBe(407);
  }, 60_000);

  test("link down: that port fails, the others keep working, and nothing leaves through the uplink", async () => {
    const before = await demo.net!.uplinkPackets!();
    const victim = proxies[1]!;
    await demo.lab.ctl(victim.slot!, "link-down");
    try {
      const r = await via(victim);
      expect(r.code).not.toBe(200);
      for (const p of proxies.filter((x) => x !== victim)) expect((await via(p)).code).toBe(200);
    } finally {
      await demo.lab.ctl(victim.slot!, "link-up");
    }
    expect(await demo.net!.uplinkPackets!()).toBe(before);
  }, 60_000);

  test("the instances' logs are ingested into connection_log", async () => {
    await Bun.sleep(1500); // 3proxy flushes its log about once a second
    const r = await ingestThreeProxyLogs(demo.app.db.sql, { nodeId: demo.config.node.id, logDir: dirs.log });
    expect(r.rows).toBeGreaterThanOrEqual(MODEMS * 2);
    const rows = await demo.app.db.sql`
      select imei, result, count(*)::int as n from connection_log where engine = '3proxy' group by imei, result order by imei, result`;
    for (const p of proxies) expect(rows.some((x) => x.imei === p.imei && x.result === "ok")).toBe(true);
    expect(rows.some((x) => x.result === "auth_required" || x.result === "auth_failed")).toBe(true);
  }, 30_000);
});
