/**
 * Both data-connection drivers against real interfaces in namespaces this test creates (root):
 *   box ns: wwan0 (qmi path, fake qmicli printing the reference output), wwan1 (at-rmnet path, real busybox udhcpc)
 *   car ns: the veth peers; dnsmasq answers DHCP on wwan1's link like the modem's DHCP responder would.
 * Then the sessions feed the routing reconciler, as the wiring will: traffic from each address leaves via its modem.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtRmnetDriver } from "../../../src/net/data-connection/at-rmnet-driver.ts";
import { QmiDriver } from "../../../src/net/data-connection/qmi-driver.ts";
import type { DataSession } from "../../../src/net/data-connection/types.ts";
import { IpCommand } from "../../../src/net/ip-command.ts";
import { RoutingReconciler } from "../../../src/net/routing-reconciler.ts";
import { FakeQmicli, ScriptedAt } from "../../unit/net/helpers/fake-tools.ts";
import { ipn, isRoot, NetnsSet, uniqueId } from "./helpers/netns-lab.ts";

const id = uniqueId("lpd");
const BOX = `${id}-box`, CAR = `${id}-car`;
const lab = new NetnsSet();
const tmp = mkdtempSync(join(tmpdir(), "lteproxy-dc-"));
let dnsmasq: ReturnType<typeof Bun.spawn> | undefined;
let qmicli: FakeQmicli;

interface IfaceState { up: boolean; mtu: number; cidrs: string[] }
function iface(name: string): IfaceState {
  const [l] = JSON.parse(ipn(BOX, `-json addr show dev ${name}`).stdout) as Array<{ flags: string[]; mtu: number; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
  return {
    up: l!.flags.includes("UP"), mtu: l!.mtu,
    cidrs: l!.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
  };
}

describe.skipIf(!isRoot)("data-connection drivers on real interfaces", () => {
  const ip = new IpCommand({ netns: BOX });
  const sessions: DataSession[] = [];

  beforeAll(async () => {
    lab.add(BOX);
    lab.add(CAR);
    lab.veth(BOX, "wwan0", CAR, "m0");
    lab.veth(BOX, "wwan1", CAR, "m1");
    ipn(CAR, "addr add 100.99.101.157/29 dev m0");
    ipn(CAR, "addr add 10.64.9.9/29 dev m1");
    qmicli = new FakeQmicli();
    dnsmasq = Bun.spawn([
      "ip", "netns", "exec", CAR, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=m1",
      "--bind-interfaces", "--dhcp-range=10.64.9.10,10.64.9.14,255.255.255.248,1h", "--dhcp-option=option:router,10.64.9.9",
      "--dhcp-option=option:dns-server,10.64.9.9", "--dhcp-option=option:mtu,1430", `--dhcp-leasefile=${join(tmp, "leases")}`,
      "--pid-file", "--user=root", "--dhcp-authoritative",
    ], { stdout: "ignore", stderr: "pipe" });
    // dnsmasq is ready when it has bound its DHCP socket; udhcpc retries anyway, this only avoids a slow first try.
    for (let i = 0; i < 50; i++) {
      const r = Bun.spawnSync(["ip", "netns", "exec", CAR, "ss", "-ulpn"]);
      if (r.stdout.toString().includes(":67")) break;
      await Bun.sleep(100);
    }
  });

  afterAll(() => {
    dnsmasq?.kill();
    lab.destroy();
    qmicli?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("qmi: the reference session ends up on wwan0 (address, prefix, MTU, up); no route added", async () => {
    const driver = new QmiDriver({ qmicli: qmicli.path, ip });
    const s = await driver.start({ imei: "860000000000010", ifname: "wwan0", qmiPath: "/dev/cdc-wdm0", apn: "internet", ipType: 4 });
    sessions.push(s);
    expect(iface("wwan0")).toEqual({ up: true, mtu: 1500, cidrs: ["100.99.101.156/29"] });
    const routes = JSON.parse(ipn(BOX, "-N -json route show table all").stdout) as Array<{ protocol?: string; dst: string; dev?: string }>;
    expect(routes.filter((r) => r.dev === "wwan0" && r.protocol !== "2")).toEqual([]);
  });

  test("at-rmnet: AT$QCRMCALL then a real DHCP lease from dnsmasq, applied the same way", async () => {
    let up = false;
    const at = new ScriptedAt({
      "AT$QCRMCALL?": () => ({ lines: up ? ["$QCRMCALL: 1,V4"] : [] }),
      "AT$QCRMCALL=1,1": () => { up = true; return { lines: ["$QCRMCALL: 1,V4"] }; },
      "AT$QCRMCALL=0,1": () => { up = false; return {}; },
    });
    const driver = new AtRmnetDriver({ runtimeDir: join(tmp, "run"), ip, tries: 5, pauseSeconds: 1 });
    const s = await driver.start({ imei: "860000000000011", ifname: "wwan1", at, apn: "internet", ipType: 4 });
    sessions.push(s);
    expect(s).toMatchObject({ prefix: 29, gateway: "10.64.9.9", dns: ["10.64.9.9"], mtu: 1430, driver: "at-rmnet" });
    expect(s.address).toMatch(/^10\.64\.9\.1[0-4]$/);
    expect(iface("wwan1")).toEqual({ up: true, mtu: 1430, cidrs: [`${s.address}/29`] });
    expect(at.sent).toEqual(["AT$QCRMCALL?", "AT$QCRMCALL=1,1"]);
  }, 30_000);

  test("the sessions feed the reconciler: each address routes through its own modem", async () => {
    const reconciler = new RoutingReconciler({ netns: BOX });
    const res = await reconciler.apply(sessions.map((s, i) => ({
      imei: s.imei, ifname: s.ifname, address: s.address, table: 200 + i, mtu: s.mtu, dns: s.dns, gateway: s.gateway,
    })));
    expect(res.failures).toEqual([]);
    for (const [i, s] of sessions.entries()) {
      const r = ipn(BOX, `route get 198.51.100.10 from ${s.address}`);
      expect(r.stdout).toContain(`dev ${s.ifname} table ${200 + i}`);
    }
  });

  test("stop removes the addresses (qmi with the kept PDH/CID, at-rmnet with AT$QCRMCALL=0,1)", async () => {
    await new QmiDriver({ qmicli: qmicli.path, ip }).stop(sessions[0]!);
    expect(qmicli.calls().at(-1)).toBe("-d /dev/cdc-wdm0 --wds-stop-network=2267587312 --client-cid=19");
    expect(iface("wwan0").cidrs).toEqual([]);
    const at = new ScriptedAt({ "AT$QCRMCALL=0,1": {}, "AT$QCRMCALL?": {} });
    await new AtRmnetDriver({ runtimeDir: join(tmp, "run"), ip, atFor: () => at }).stop(sessions[1]!);
    expect(at.sent).toEqual(["AT$QCRMCALL=0,1"]);
    expect(iface("wwan1").cidrs).toEqual([]);
  });
});
