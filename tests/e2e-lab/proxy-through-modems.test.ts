/**
 * The product's promise on the real lab (root; namespaces, real DHCP, carrier NAT, carrier DNS, real curl):
 * a client on box:PORT_i leaves through modem i and nothing else — HTTP and SOCKS5, DNS through the modem,
 * no open proxy, a link-down modem refuses fast without leaking, a rule deleted by hand comes back.
 */
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, type RunningDemo } from "../../src/demo.ts";
import { listProxies, type ProxyListing } from "../../src/cli/proxies.ts";
import { readDnsLog, readEchoLog } from "../../src/sim/net/index.ts";
import { canBuildLab } from "../../src/sim/net/index.ts";
import { createTestDb, type TestDb } from "../helpers/db.ts";

const MODEMS = 30;
const root = process.getuid?.() === 0;
const lab = root && Boolean(canBuildLab());
if (!lab) console.warn("SKIP tests/e2e-lab: needs root with ip netns, dnsmasq and nft");

let demo: RunningDemo;
let dataDir: string;
let db: TestDb;
let proxies: ProxyListing[] = [];

async function curl(args: string[], timeoutS = 5) {
  const p = Bun.spawn(["curl", "-sS", "-m", String(timeoutS), "-o", "-", "-w", "\n%{http_code}", ...args], { stdout: "pipe", stderr: "pipe" });
  const started = performance.now();
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const i = out.lastIndexOf("\n");
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i).trim(), err, ms: performance.now() - started };
}

const httpVia = (p: ProxyListing, url = "http://echo.lab/ip") => curl(["-x", `http://${p.username}:${p.password}@${p.host}:${p.port}`, url]);
const socksVia = (p: ProxyListing, url = "http://echo.lab/ip") => curl(["--socks5-hostname", `${p.username}:${p.password}@${p.host}:${p.port}`, url]);

describe.skipIf(!lab)("proxy through modems (lab)", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "e2e-lab-"));
    db = await createTestDb({ prefix: "lab" });
    demo = await startDemo({
      modems: MODEMS, net: "lab", httpPort: 30000 + Math.floor(Math.random() * 5000), dataDir, timeScale: 0.05, databaseUrl: db.url,
    });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      proxies = await listProxies(demo.app.db.sql, demo.config.node.id, demo.config.proxy.public_host);
      if (proxies.length === MODEMS && proxies.every((p) => p.state === "online" && p.public_ip)) break;
      await Bun.sleep(250);
    }
    const states = await demo.app.db.sql`select state, count(*)::int as n from modems group by state`;
    if (proxies.length !== MODEMS) console.warn("modem states after setup:", JSON.stringify(states));
  }, 150_000);

  afterAll(async () => {
    await demo?.stop();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test(`all ${MODEMS} modems come online with a port and a public IP`, () => {
    expect(proxies.length).toBe(MODEMS);
    expect(proxies.filter((p) => p.state === "online").length).toBe(MODEMS);
    expect(new Set(proxies.map((p) => p.port)).size).toBe(MODEMS);
  });

  test("HTTP and SOCKS5 on port i leave through modem i: 30 distinct public IPs, DNS over modem i's link", async () => {
    // The lab's modems are live (signal drift can make one re-register and reconnect): a port whose modem is
    // reconnecting refuses with 503 + its state, as it must; retry such a port until its modem is back.
    const untilServed = async (p: ProxyListing, via: typeof httpVia) => {
      let r = await via(p);
      for (let i = 0; i < 60 && r.code === 503; i++) {
        await Bun.sleep(250);
        r = await via(p);
      }
      return r;
    };
    const results = await Promise.all(proxies.map(async (p) => ({ p, http: await untilServed(p, httpVia), socks: await untilServed(p, socksVia) })));
    const modems = await demo.app.db.sql`select imei, host(wan_ip) as wan_ip, host(public_ip) as public_ip from modems`;
    const byImei = new Map(modems.map((m) => [m.imei as string, m]));
    for (const { p, http, socks } of results) {
      expect(http.code === 200 ? "ok" : `${p.imei}: ${http.code} ${http.body} ${http.err}`).toBe("ok");
      expect(socks.code === 200 ? "ok" : `${p.imei}: ${socks.code} ${socks.body} ${socks.err}`).toBe("ok");
      expect(http.body).toBe(byImei.get(p.imei)!.public_ip as string);
      expect(socks.body).toBe(http.body);
    }
    expect(new Set(results.map((r) => r.http.body)).size).toBe(MODEMS);
    // the echo.lab lookups came from each modem's own address (its link), never from the box uplink
    const dnsSources = new Set(readDnsLog(demo.net!.info().dnsLogPath).filter((q) => q.name === "echo.lab").map((q) => q.src));
    for (const m of modems) expect(dnsSources.has(m.wan_ip as string)).toBe(true);
  }, 60_000);

  test("no open proxy: no credentials → 407 / SOCKS refusal; wrong password too", async () => {
    const p = proxies[0]!;
    expect((await curl(["-x", `http://${p.host}:${p.port}`, "http://echo.lab/ip"])).code).toBe(407);
    expect((await curl(["-x", `http://${p.username}:wrong@${p.host}:${p.port}`, "http://echo.lab/ip"])).code).toBe(407);
    const socks = await curl(["--socks5-hostname", `${p.host}:${p.port}`, "http://echo.lab/ip"]);
    expect(socks.code).toBe(0);
  });

  test("link down on modem 5: its port fails fast with a clear error, the others are unaffected, nothing leaks", async () => {
    const victim = proxies[4]!;
    const slot = victim.slot!;
    await demo.lab.ctl(slot, "link-down");
    try {
      const r = await httpVia(victim);
      expect(r.ms).toBeLessThan(2500);
      expect([502, 503]).toContain(r.code);
      const others = await Promise.all(proxies.filter((p) => p !== victim).map((p) => httpVia(p)));
      expect(others.every((o) => o.code === 200)).toBe(true);
    } finally {
      await demo.lab.ctl(slot, "link-up");
    }
    const uplink = demo.net!.info().uplinkIp!;
    const echo = readEchoLog(demo.net!.info().echoLogPath);
    expect(echo.length).toBeGreaterThan(MODEMS);
    expect(echo.filter((e) => e.src === uplink)).toEqual([]);
    expect(readDnsLog(demo.net!.info().dnsLogPath).filter((q) => q.src === uplink)).toEqual([]);
  }, 60_000);

  test("a rule deleted by hand is back within one reconcile tick; foreign rules are untouched", async () => {
    const ns = demo.net!.info().boxNs!;
    const run = (args: string[]) => Bun.spawnSync(["ip", "-n", ns, ...args]).stdout.toString();
    run(["rule", "add", "priority", "20000", "from", "10.99.0.1", "lookup", "main"]);
    const ours = run(["rule", "show"]).split("\n").find((l) => l.includes("proto 241"))!;
    const prio = ours.split(":")[0]!.trim();
    Bun.spawnSync(["ip", "-n", ns, "rule", "del", "priority", prio]);
    expect(run(["rule", "show"])).not.toContain(`${prio}:`);
    const deadline = Date.now() + 15_000;
    while (!run(["rule", "show"]).includes(`${prio}:`) && Date.now() < deadline) await Bun.sleep(200);
    expect(run(["rule", "show"])).toContain(`${prio}:`);
    expect(run(["rule", "show"])).toContain("20000:\tfrom 10.99.0.1 lookup main");
  }, 30_000);

  test("actions from the panel/API: disable-proxy refuses with the reason, enable brings it back; the console answers ATI", async () => {
    const { createModemActions } = await import("../../src/jobs/modem-actions.ts");
    const actions = createModemActions({ sql: demo.app.db.sql, nodeId: demo.config.node.id, manager: demo.app.manager });
    const actor = { userId: null, username: "test", role: "admin" as const, via: "session" as const, ip: "127.0.0.1" };
    const p = proxies[1]!;
    const id = ((await demo.app.db.sql`select id from modems where imei = ${p.imei}`)[0]!.id) as number;
    const waitJob = async (jobId: string) => {
      for (let i = 0; i < 100; i++) {
        const j = await actions.job!(jobId);
        if (j?.status === "done") return j;
        await Bun.sleep(100);
      }
      throw new Error(`job ${jobId} did not finish`);
    };
    expect((await waitJob((await actions.request(id, "disable-proxy", actor)).jobId)).result).toBe("OK");
    let r = await httpVia(p);
    for (let i = 0; i < 50 && r.code !== 503; i++) {
      await Bun.sleep(100);
      r = await httpVia(p);
    }
    expect(r.code).toBe(503);
    expect(r.body).toContain("disabled");
    await waitJob((await actions.request(id, "enable-proxy", actor)).jobId);
    for (let i = 0; i < 50 && r.code !== 200; i++) {
      await Bun.sleep(100);
      r = await httpVia(p);
    }
    expect(r.code).toBe(200);
    const ati = await actions.at(id, "ATI", actor);
    expect(ati.ok).toBe(true);
    expect(ati.lines).toContain("Quectel");
    await expect(actions.at(id, "AT+CFUN=1,1;+CFUN=0", actor)).rejects.toMatchObject({ code: "CONSOLE_CHAINING" });
    const audited = await demo.app.db.sql`select count(*)::int as n from audit_log where action = 'modem.console'`;
    expect(audited[0]!.n).toBeGreaterThanOrEqual(2);
  }, 60_000);

  test("/metrics carries AT latency by command and per-port proxy traffic from the running data plane; promtool accepts it", async () => {
    const res = await fetch(new URL("/metrics", demo.app.url));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/lteproxy_at_command_duration_seconds_bucket\{command="[^"]+",le="\+Inf"\} [1-9]/);
    const p = proxies[2]!;
    const sent = text.match(new RegExp(`lteproxy_proxy_sent_bytes_total\\{imei="${p.imei}",port="${p.port}"\\} (\\d+)`));
    expect(Number(sent?.[1] ?? 0)).toBeGreaterThan(0);
    expect(text).toContain("lteproxy_dataplane_up 1");
    if (Bun.which("promtool")) {
      const check = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text) });
      expect(check.stderr.toString() + check.stdout.toString()).not.toMatch(/error/i);
      expect(check.exitCode).toBe(0);
    }
  });
});
