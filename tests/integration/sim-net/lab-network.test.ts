/**
 * The lab network as root, 5 modems, end to end with real parts: namespaces, veths, dnsmasq DHCP answered by busybox
 * udhcpc, nftables SNAT, curl to the echo server, DNS from a modem's address.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/lib/exec.ts";
import {
  canBuildLab, cleanupLabs, createLabNetwork, type LabNetInfo, type LabNetwork, newLabId, readDhcpLog, readDnsLog,
  readEchoLog, type SessionInfo,
} from "../../../src/sim/net/index.ts";
import { readRecord } from "../../../src/sim/net/registry.ts";
import { dhcp, echoIp, inNs, readLease, routeModem, unrouteAddress, writeUdhcpcScript } from "./lab-helpers.ts";

const ROOT = canBuildLab();
if (!ROOT) console.warn("[sim-net] skipping lab-network tests: they need root and iproute2 (ip netns, veth)");

const N = 5;
const DNS_QUERY = join(import.meta.dir, "fixtures", "dns-query.ts");

describe.skipIf(!ROOT)("lab network (--net lab, 5 modems)", () => {
  let tmp: string;
  const labId = newLabId("t");
  let lab: LabNetwork;
  let info: LabNetInfo;
  let script: string;
  const sessions: SessionInfo[] = [];
  const table = (i: number) => 200 + i;

  beforeAll(async () => {
    // Leftovers of crashed earlier runs of this suite (owner dead); live labs of parallel runs are skipped.
    await cleanupLabs("t");
    tmp = mkdtempSync(join(tmpdir(), "sim-net-"));
    lab = createLabNetwork("lab", { labId, runDir: tmp });
    await lab.setup(N);
    info = lab.info();
    script = writeUdhcpcScript(tmp);
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  test("names carry the lab id and fit IFNAMSIZ", async () => {
    expect(info.boxNs).toBe(`ltpx-${labId}-box`);
    expect(info.carrierNs).toBe(`ltpx-${labId}-carrier`);
    expect(info.inetNs).toBe(`ltpx-${labId}-inet`);
    const root = JSON.parse((await run(["ip", "-j", "link"])).stdout) as Array<{ ifname: string }>;
    const lan = root.find((l) => l.ifname === `ltpx${labId}lan`);
    expect(lan).toBeDefined();
    expect(lan!.ifname.length).toBeLessThanOrEqual(15);
    const box = JSON.parse((await inNs(info.boxNs!, ["ip", "-j", "link"])).stdout) as Array<{ ifname: string }>;
    expect(box.map((l) => l.ifname).sort()).toEqual(["eth0", "lan0", "lo", "wwan0", "wwan1", "wwan2", "wwan3", "wwan4"]);
    expect(lab.ifname(3)).toBe("wwan3");
    // The box has a real uplink with a default route, as a leak would use.
    const routes = (await inNs(info.boxNs!, ["ip", "route", "show", "default"])).stdout;
    expect(routes).toContain("default via 192.0.2.1 dev eth0");
    // The LAN reaches the box from the root namespace: nothing listens on port 9, so the box answers with a reset.
    const refused = await Bun.connect({ hostname: info.lanIp!, port: 9, socket: { data() {} } }).then(
      (s) => (s.end(), "connected"), (e: NodeJS.ErrnoException) => e.code);
    expect(refused).toBe("ECONNREFUSED");
  }, 30_000);

  test("before the data call the link has no carrier and no DHCP answer", async () => {
    const r = await dhcp(info.boxNs!, "wwan0", script, 1);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no lease");
    const link = (await inNs(info.boxNs!, ["ip", "link", "show", "wwan0"])).stdout;
    expect(link).toContain("NO-CARRIER");
  }, 30_000);

  test("sessionUp: each modem gets its lease over real DHCP, answered by udhcpc in the box", async () => {
    sessions.push(...(await Promise.all(Array.from({ length: N }, (_, i) => lab.sessionUp(i, { sticky: false })))));
    expect(new Set(sessions.map((s) => s.privateIp)).size).toBe(N);
    const results = await Promise.all(sessions.map((_, i) => dhcp(info.boxNs!, `wwan${i}`, script)));
    for (const [i, s] of sessions.entries()) {
      expect(results[i]!.code).toBe(0);
      expect(results[i]!.stderr).toContain(`lease of ${s.privateIp} obtained`);
      const lease = readLease(tmp, `wwan${i}`);
      expect(lease.ip).toBe(s.privateIp);
      expect(Number(lease.mask)).toBe(s.prefix);
      expect(lease.router).toBe(s.gateway);
      expect(lease.dns!.split(" ")).toEqual(s.dns);
      expect(Number(lease.mtu)).toBe(s.mtu);
      expect(s.publicIp).toMatch(/^198\.1[89]\./);
    }
    // The carrier saw each DHCPACK on the right link (m<i>).
    const acks = readDhcpLog(info.dnsLogPath).filter((e) => e.event === "DHCPACK");
    for (const [i, s] of sessions.entries()) expect(acks.some((a) => a.iface === `m${i}` && a.ip === s.privateIp)).toBe(true);
  }, 30_000);

  test("a connection bound to modem i's address reaches the echo server as public IP i", async () => {
    // Even modems route raw-ip style (`default dev wwanN`), odd ones through the gateway: the lab supports both.
    for (const [i, s] of sessions.entries()) {
      await routeModem(info.boxNs!, { ifname: `wwan${i}`, ip: s.privateIp, gateway: i % 2 ? s.gateway : undefined, table: table(i) });
    }
    const seen = await Promise.all(sessions.map((s) => echoIp(info.boxNs!, info.echoUrl!, s.privateIp, "bound")));
    expect(seen.map((r) => r.stdout.trim())).toEqual(sessions.map((s) => s.publicIp));
    expect(new Set(seen.map((r) => r.stdout.trim())).size).toBe(N);
    const logged = readEchoLog(info.echoLogPath).filter((e) => e.path === "/ip?t=bound");
    expect(logged.map((e) => e.src).sort()).toEqual(sessions.map((s) => s.publicIp).sort());
  }, 30_000);

  test("/bytes/N streams N bytes through a modem", async () => {
    const r = await inNs(info.boxNs!, ["curl", "-sS", "--interface", sessions[0]!.privateIp, "-o", "/dev/null", "-w", "%{size_download}",
      `${info.echoUrl}/bytes/3000000`]);
    expect(r.stdout).toBe("3000000");
  }, 30_000);

  test("carrier DNS answers echo.lab and logs the modem's address as the source", async () => {
    const answers = await Promise.all(sessions.map((s) => inNs(info.boxNs!, [process.execPath, DNS_QUERY, s.dns[0]!, info.echoHost!, s.privateIp])));
    for (const a of answers) expect(JSON.parse(a.stdout)).toEqual({ rcode: 0, answers: ["203.0.113.10"] });
    const queries = readDnsLog(info.dnsLogPath).filter((q) => q.name === "echo.lab");
    for (const s of sessions) expect(queries.some((q) => q.src === s.privateIp && q.type === "A")).toBe(true);
    // A name the carrier does not know is not answered with an address.
    const other = JSON.parse((await inNs(info.boxNs!, [process.execPath, DNS_QUERY, sessions[0]!.dns[0]!, "nope.lab", sessions[0]!.privateIp])).stdout);
    expect(other.answers).toEqual([]);
  }, 30_000);

  test("a reconnect gets a new public IP, or the same one when sticky", async () => {
    // Modem 0: not sticky.
    const old0 = sessions[0]!;
    await lab.sessionDown(0);
    expect(lab.session?.(0)).toBeUndefined();
    const dead = await echoIp(info.boxNs!, info.echoUrl!, old0.privateIp);
    expect(dead.code).not.toBe(0);
    const new0 = await lab.sessionUp(0, { sticky: false });
    expect(new0.publicIp).not.toBe(old0.publicIp);
    expect(new0.privateIp).not.toBe(old0.privateIp);
    expect((await dhcp(info.boxNs!, "wwan0", script)).code).toBe(0);
    expect(readLease(tmp, "wwan0").ip).toBe(new0.privateIp);
    await unrouteAddress(info.boxNs!, old0.privateIp, table(0));
    await routeModem(info.boxNs!, { ifname: "wwan0", ip: new0.privateIp, table: table(0) });
    expect((await echoIp(info.boxNs!, info.echoUrl!, new0.privateIp)).stdout.trim()).toBe(new0.publicIp);
    sessions[0] = new0;

    // Modem 1: sticky CGNAT hands the previous public address back.
    const old1 = sessions[1]!;
    await lab.sessionDown(1);
    const new1 = await lab.sessionUp(1, { sticky: true });
    expect(new1.publicIp).toBe(old1.publicIp);
    expect((await dhcp(info.boxNs!, "wwan1", script)).code).toBe(0);
    await unrouteAddress(info.boxNs!, old1.privateIp, table(1));
    await routeModem(info.boxNs!, { ifname: "wwan1", ip: new1.privateIp, gateway: new1.gateway, table: table(1) });
    expect((await echoIp(info.boxNs!, info.echoUrl!, new1.privateIp)).stdout.trim()).toBe(old1.publicIp);
    sessions[1] = new1;
  }, 30_000);

  test("linkDown: modem i fails fast with no route, the others keep working, nothing leaks", async () => {
    await lab.linkDown(2);
    const link = (await inNs(info.boxNs!, ["ip", "-o", "addr", "show", "wwan2"])).stdout;
    expect(link).toContain(sessions[2]!.privateIp); // the address stays
    const down = await echoIp(info.boxNs!, info.echoUrl!, sessions[2]!.privateIp, "down");
    expect(down.code).toBe(7); // curl: couldn't connect
    expect(down.ms).toBeLessThan(3000); // generous: a black hole would take the full 5 s max-time
    const lookup = await inNs(info.boxNs!, ["ip", "route", "get", "203.0.113.10", "from", sessions[2]!.privateIp]);
    expect(`${lookup.stdout}${lookup.stderr}`).toMatch(/unreachable|No route to host/);
    const others = await Promise.all([0, 1, 3, 4].map((i) => echoIp(info.boxNs!, info.echoUrl!, sessions[i]!.privateIp)));
    expect(others.map((r) => r.stdout.trim())).toEqual([0, 1, 3, 4].map((i) => sessions[i]!.publicIp));

    await lab.linkUp(2);
    const back = await echoIp(info.boxNs!, info.echoUrl!, sessions[2]!.privateIp, "up");
    expect(back.stdout.trim()).toBe(sessions[2]!.publicIp);

    // Over everything so far: not one request, query or packet from the box's uplink.
    expect(readEchoLog(info.echoLogPath).filter((e) => e.src === info.uplinkIp)).toEqual([]);
    expect(readEchoLog(info.echoLogPath).some((e) => e.path === "/ip?t=down")).toBe(false);
    expect(readDnsLog(info.dnsLogPath).filter((q) => q.src === info.uplinkIp)).toEqual([]);
    expect(await lab.uplinkPackets!()).toBe(0);
  }, 30_000);

  test("the leak detectors see a leak (no guard route, unbound socket, box resolver)", async () => {
    // Modem 4 without the unreachable guard: with its link down the lookup falls through to main and out of eth0,
    // exactly the 3proxy failure of 3proxy.md. The lab must show it.
    await run(["ip", "-n", info.boxNs!, "route", "del", "unreachable", "default", "table", String(table(4)), "metric", "4000"]);
    await lab.linkDown(4);
    const leaked = await echoIp(info.boxNs!, info.echoUrl!, sessions[4]!.privateIp, "leak");
    expect(leaked.stdout.trim()).toBe(info.uplinkIp!);
    await lab.linkUp(4);
    const unbound = await echoIp(info.boxNs!, info.echoUrl!, undefined, "unbound");
    expect(unbound.stdout.trim()).toBe(info.uplinkIp!);
    const logged = readEchoLog(info.echoLogPath).filter((e) => e.src === info.uplinkIp).map((e) => e.path);
    expect(logged).toEqual(["/ip?t=leak", "/ip?t=unbound"]);
    // The box's own resolver (its uplink router) forwards to the carrier DNS, which logs the uplink address.
    const viaRouter = await inNs(info.boxNs!, [process.execPath, DNS_QUERY, "192.0.2.1", "echo.lab"]);
    expect(JSON.parse(viaRouter.stdout).answers).toEqual(["203.0.113.10"]);
    expect(readDnsLog(info.dnsLogPath).some((q) => q.src === info.uplinkIp && q.name === "echo.lab")).toBe(true);
    expect(await lab.uplinkPackets!()).toBeGreaterThan(0);
  }, 30_000);

  test("destroy leaves no namespace, veth, process or file behind", async () => {
    const pids = (await Promise.all([info.boxNs!, info.carrierNs!, info.inetNs!].map((ns) => run(["ip", "netns", "pids", ns]))))
      .flatMap((r) => r.stdout.split(/\s+/).filter(Boolean));
    expect(pids.length).toBeGreaterThanOrEqual(2); // dnsmasq + echo server
    await lab.destroy();
    await lab.destroy(); // safe twice
    const ns = (await run(["ip", "netns", "list"])).stdout;
    expect(ns).not.toContain(labId);
    expect((await run(["ip", "link"])).stdout).not.toContain(`ltpx${labId}`);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    const pgrep = await run(["pgrep", "-f", info.dir!], { check: false });
    expect(pgrep.stdout.trim()).toBe("");
    expect(existsSync(info.dir!)).toBe(false);
    expect(existsSync(`/etc/netns/${info.boxNs}`)).toBe(false);
    expect(readRecord(labId)).toBeUndefined();
    await expect(lab.sessionUp(0, { sticky: false })).rejects.toMatchObject({ code: "LAB_DESTROYED" });
  }, 30_000);
});
