/**
 * The routing reconciler against a real kernel (root). Topology, all created here:
 *   box ns:  eth0 192.0.2.2/24 (default via 192.0.2.1 = the "uplink" a leak would use)
 *            wwan0..wwan2 = fake modems 10.64.<i>.2/29, veth peers in the carrier ns
 *   inet ns: the uplink's other end; 198.51.100.10 on lo, answers (RST) anything that leaks to it
 *   car ns:  the modems' other ends (10.64.<i>.1); 198.51.100.10 on lo, answers what comes through a modem
 * nft counters in the box count packets leaving eth0 / a wwan with a modem source address.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RoutingReconciler } from "../../../src/net/routing-reconciler.ts";
import type { ModemRouting } from "../../../src/net/routing-types.ts";
import { inNs, ipn, isRoot, NetnsSet, sh, uniqueId } from "./helpers/netns-lab.ts";

const id = uniqueId("lpr");
const BOX = `${id}-box`, INET = `${id}-inet`, CAR = `${id}-car`;
const TARGET = "198.51.100.10";
const lab = new NetnsSet();

const modems: ModemRouting[] = [0, 1, 2].map((i) => ({
  imei: `86000000000000${i}`, ifname: `wwan${i}`, address: `10.64.${i}.2`, table: 100 + i, mtu: 1430, dns: [`10.64.${i}.1`],
}));

function counter(name: string): number {
  const out = JSON.parse(inNs(BOX, ["nft", "-j", "list", "counter", "inet", "lpt", name]).stdout) as { nftables: Array<{ counter?: { packets: number } }> };
  return out.nftables.find((x) => x.counter)?.counter?.packets ?? -1;
}

/**
 * One TCP connect from `src` to the target with curl (nothing listens: a host that gets the SYN answers RST, so a
 * reached host fails fast too; the counters say which way the SYN went). A black hole would wait the 3 s timeout.
 */
function connectFrom(src: string): { code: number; ms: number } {
  const t0 = performance.now();
  const r = inNs(BOX, ["curl", "-sS", "--interface", src, "--connect-timeout", "3", `http://${TARGET}:80/`], false);
  return { code: r.code, ms: performance.now() - t0 };
}

/** The kernel's routing decision for traffic from `src` ("… dev wwan0 table 100 …" or "No route to host"). */
const routeFrom = (src: string) => {
  const r = ipn(BOX, `route get ${TARGET} from ${src}`, false);
  return `${r.stdout}${r.stderr}`.trim();
};

const ourRules = () => (JSON.parse(ipn(BOX, "-N -json rule").stdout) as Array<{ priority: number; protocol?: string; src: string; table?: string; action?: string }>)
  .filter((r) => r.protocol === "241");
const tableRoutes = (t: number) => JSON.parse(ipn(BOX, `-N -json route show table ${t}`, false).stdout || "[]") as Array<{ type?: string; dev?: string; metric?: number; metrics?: Array<{ mtu?: number }> }>;
const foreignSnapshot = () => ({
  rules: (JSON.parse(ipn(BOX, "-N -json rule").stdout) as Array<{ protocol?: string }>).filter((r) => r.protocol !== "241"),
  // Kernel routes (proto 2) come and go with addresses and links; everything else must stay.
  routes: (JSON.parse(ipn(BOX, "-N -json route show table all").stdout) as Array<{ protocol?: string }>)
    .filter((r) => r.protocol !== "241" && r.protocol !== "2"),
});

describe.skipIf(!isRoot)("routing reconciler in a network namespace", () => {
  let reconciler: RoutingReconciler;
  let foreignBefore: ReturnType<typeof foreignSnapshot>;

  beforeAll(() => {
    for (const ns of [BOX, INET, CAR]) lab.add(ns);
    lab.veth(BOX, "eth0", INET, "up0");
    ipn(BOX, "addr add 192.0.2.2/24 dev eth0");
    ipn(INET, "addr add 192.0.2.1/24 dev up0");
    ipn(BOX, "route add default via 192.0.2.1");
    ipn(INET, `addr add ${TARGET}/32 dev lo`);
    ipn(INET, "route add 10.64.0.0/16 via 192.0.2.2");
    ipn(CAR, `addr add ${TARGET}/32 dev lo`);
    for (const [i, m] of modems.entries()) {
      lab.veth(BOX, m.ifname, CAR, `m${i}`);
      ipn(BOX, `addr add ${m.address}/29 dev ${m.ifname}`);
      ipn(CAR, `addr add 10.64.${i}.1/29 dev m${i}`);
    }
    // Foreign entries the reconciler must never touch: one inside our priority range, one route inside our table range.
    ipn(BOX, "rule add from 10.1.0.0/16 iif eth0 lookup main priority 10050 protocol static");
    ipn(BOX, "rule add from 10.9.9.9 lookup 55 priority 500");
    ipn(BOX, "route add unreachable 203.0.113.0/24 table 100 proto static");
    sh(["ip", "netns", "exec", BOX, "nft", "-f", "-"], {
      input: `table inet lpt {
  counter leak {}
  counter viamodem {}
  chain out { type filter hook output priority 0; policy accept;
    oifname "eth0" ip saddr 10.64.0.0/16 counter name "leak"
    oifname "wwan*" ip saddr 10.64.0.0/16 counter name "viamodem"
  }
}`,
    });
    foreignBefore = foreignSnapshot();
    reconciler = new RoutingReconciler({ netns: BOX });
  });

  afterAll(() => lab.destroy());

  test("control: without the reconciler a down modem link leaks onto the uplink (so the counter can fail)", () => {
    ipn(BOX, "link set wwan0 down");
    const before = counter("leak");
    expect(routeFrom("10.64.0.2")).toContain("dev eth0");
    const r = connectFrom("10.64.0.2");
    expect(r.code).toBe(7); // inet's RST: the SYN went out through eth0
    expect(counter("leak")).toBeGreaterThan(before);
    ipn(BOX, "link set wwan0 up");
  });

  test("apply: rules, tables, guards, MTU and sysctl in place; traffic leaves through its modem", async () => {
    const res = await reconciler.apply(modems);
    expect(res.failures).toEqual([]);
    expect(res.added).toBe(9);
    expect(ourRules().map((r) => [r.priority, r.src, r.table])).toEqual([[10000, "10.64.0.2", "100"], [10001, "10.64.1.2", "101"], [10002, "10.64.2.2", "102"]]);
    for (const m of modems) {
      const routes = tableRoutes(m.table);
      expect(routes.find((r) => r.type === undefined && r.dev === m.ifname)?.metrics?.[0]?.mtu).toBe(1430);
      expect(routes.find((r) => r.type === "7")?.metric).toBe(4294967295);
      const sysctl = inNs(BOX, ["sysctl", "-n", `net.ipv4.conf.${m.ifname}.rp_filter`, `net.ipv4.conf.${m.ifname}.ignore_routes_with_linkdown`]).stdout;
      expect(sysctl.trim().split("\n")).toEqual(["2", "1"]);
    }
    const leak0 = counter("leak"), via0 = counter("viamodem");
    expect(routeFrom("10.64.1.2")).toContain("dev wwan1 table 101");
    expect(connectFrom("10.64.1.2").code).toBe(7); // the carrier ns answered with RST
    expect(counter("viamodem")).toBeGreaterThan(via0);
    expect(counter("leak")).toBe(leak0);
  });

  test("a second apply changes nothing", async () => {
    const res = await reconciler.apply(modems);
    expect(res.commands).toEqual([]);
    expect([res.added, res.removed, res.repaired, res.changed, res.sysctlChanged]).toEqual([0, 0, 0, 0, 0]);
  });

  test("a rule deleted by hand is back after one apply", async () => {
    ipn(BOX, "rule del priority 10001 from 10.64.1.2 lookup 101");
    ipn(BOX, "route del unreachable default table 102 metric 4294967295");
    expect(ourRules().length).toBe(2);
    const res = await reconciler.apply(modems);
    expect(res.repaired).toBe(2);
    expect(ourRules().length).toBe(3);
    expect(tableRoutes(102).some((r) => r.type === "7")).toBe(true);
  });

  test("link down: traffic from the modem address fails fast and never leaves through the uplink", async () => {
    const leak0 = counter("leak");
    ipn(BOX, "link set wwan0 down"); // the kernel drops table 100's default route at once; no apply needed
    expect(routeFrom("10.64.0.2")).toContain("No route to host");
    const r = connectFrom("10.64.0.2");
    expect(r.code).toBe(7);
    expect(r.ms).toBeLessThan(2500); // well under the 3 s connect timeout a black hole would take
    const res = await reconciler.apply(modems);
    expect(res.failures).toEqual([]);
    expect(res.modems.find((m) => m.ifname === "wwan0")?.state).toBe("link-down");
    expect(routeFrom("10.64.0.2")).toContain("No route to host");
    expect(connectFrom("10.64.0.2").code).toBe(7);
    expect(counter("leak")).toBe(leak0);
    ipn(BOX, "link set wwan0 up");
    const back = await reconciler.apply(modems);
    expect(back.added).toBe(1); // the default route, impossible while the link was down
    expect(routeFrom("10.64.0.2")).toContain("dev wwan0 table 100");
  });

  test("carrier loss (peer down, route kept as linkdown) also hits the guard", () => {
    const leak0 = counter("leak");
    ipn(CAR, "link set m1 down");
    expect(routeFrom("10.64.1.2")).toContain("No route to host");
    const r = connectFrom("10.64.1.2");
    expect(r.code).toBe(7);
    expect(r.ms).toBeLessThan(2500);
    expect(counter("leak")).toBe(leak0);
    ipn(CAR, "link set m1 up");
  });

  test("a removed modem keeps only its guard while its address remains, then nothing", async () => {
    const res = await reconciler.apply(modems.slice(0, 2));
    expect(res.guards).toEqual([{ address: "10.64.2.2", priority: 10002, kind: "table", table: 102 }]);
    expect(ourRules().map((r) => r.priority)).toEqual([10000, 10001, 10002]);
    expect(tableRoutes(102).map((r) => r.type)).toEqual(["7"]);
    expect(routeFrom("10.64.2.2")).toContain("No route to host");
    ipn(BOX, "addr del 10.64.2.2/29 dev wwan2");
    const gone = await reconciler.apply(modems.slice(0, 2));
    expect(gone.guards).toEqual([]);
    expect(ourRules().map((r) => r.priority)).toEqual([10000, 10001]);
    expect(tableRoutes(102)).toEqual([]);
  });

  test("foreign rules and routes are exactly as before", () => {
    expect(foreignSnapshot()).toEqual(foreignBefore);
  });

  test("with nothing desired and no addresses left, every owned entry is gone", async () => {
    ipn(BOX, "addr flush dev wwan0");
    ipn(BOX, "addr flush dev wwan1");
    await reconciler.apply([]);
    expect(ourRules()).toEqual([]);
    const routes = JSON.parse(ipn(BOX, "-N -json route show table all").stdout) as Array<{ protocol?: string }>;
    expect(routes.filter((r) => r.protocol === "241")).toEqual([]);
    expect(foreignSnapshot().rules).toEqual(foreignBefore.rules);
  });
});
