import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { hasCode } from "../../../src/lib/errors.ts";
import { planRouting } from "../../../src/net/routing-plan.ts";
import { parseIpAddrs, parseIpRoutes, parseIpRules } from "../../../src/net/routing-state.ts";
import { DEFAULT_OWNED, type ModemRouting, type RoutingState } from "../../../src/net/routing-types.ts";

const fx = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");

function driftState(): RoutingState {
  return {
    rules: parseIpRules(fx("ip-drift-rules.json")),
    routes: parseIpRoutes(fx("ip-drift-routes.json")),
    links: parseIpAddrs(fx("ip-drift-addrs.json")),
  };
}

const modem = (over: Partial<ModemRouting> & Pick<ModemRouting, "imei" | "ifname" | "address" | "table">): ModemRouting => ({
  mtu: 1500, dns: ["10.0.0.53"], ...over,
});

describe("parsers of ip -json output", () => {
  test("numeric (-N) and named output parse to the same rules and routes", () => {
    expect(parseIpRules(fx("ip-drift-rules-named.json"))).toEqual(parseIpRules(fx("ip-drift-rules.json")));
    expect(parseIpRoutes(fx("ip-drift-routes-named.json"))).toEqual(parseIpRoutes(fx("ip-drift-routes.json")));
  });

  test("rules: prefixes, foreign selectors and protocols", () => {
    const rules = parseIpRules(fx("ip-drift-rules.json"));
    expect(rules.find((r) => r.priority === 10000)).toEqual({
      priority: 10000, src: "10.64.0.2/32", dst: undefined, table: 100, action: undefined, protocol: 241, not: false,
      iif: undefined, oif: undefined, fwmark: undefined, extra: [],
    });
    const foreign = rules.find((r) => r.priority === 10050)!;
    expect(foreign).toMatchObject({ src: "10.1.0.0/16", iif: "eth0", fwmark: "0x5", table: 254, protocol: 4 });
    expect(rules.find((r) => r.priority === 500)?.protocol).toBe(0);
    expect(rules.find((r) => r.priority === 32766)).toMatchObject({ src: "all", table: 254 });
  });

  test("routes: main table without a table key, types, mtu, onlink", () => {
    const routes = parseIpRoutes(fx("ip-drift-routes.json"));
    expect(routes.find((r) => r.table === 254 && r.dst === "default")).toMatchObject({ gateway: "192.0.2.1", dev: "eth0", protocol: 0 });
    expect(routes.find((r) => r.table === 100 && r.type === 1 && r.dst === "default")).toMatchObject({ dev: "wwan0", mtu: 1400, metric: 100, protocol: 241 });
    expect(routes.find((r) => r.table === 101 && r.type === 1)).toMatchObject({ gateway: "10.64.1.1", onlink: true });
    expect(routes.filter((r) => r.type === 7).map((r) => r.table)).toEqual([100, 101, 102, 103]);
  });

  test("addresses per interface, and admin state", () => {
    const links = parseIpAddrs(fx("ip-drift-addrs.json"));
    expect(links.find((l) => l.ifname === "wwan2")).toEqual({ ifname: "wwan2", up: true, addresses: ["10.64.2.2"], cidrs: ["10.64.2.2/29"] });
    expect(links.find((l) => l.ifname === "wwan3")?.addresses).toEqual([]);
  });

  test("garbage is a clear error, not a crash", () => {
    for (const bad of ["{not json", "{\"a\":1}", "Error: something"]) {
      let caught: unknown;
      try { parseIpRules(bad); } catch (e) { caught = e; }
      expect(hasCode(caught, "ROUTING_PARSE_FAILED")).toBe(true);
    }
    expect(parseIpRoutes("")).toEqual([]);
    expect(parseIpRules("[1, null, \"x\"]")).toEqual([]);
  });
});

describe("planRouting on the captured drift fixture", () => {
  const desired = [
    modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100, mtu: 1430 }),
    modem({ imei: "B", ifname: "wwan1", address: "10.64.1.2", table: 101, gateway: "10.64.1.1" }),
    modem({ imei: "D", ifname: "wwan3", address: "10.64.4.2", table: 104 }),
  ];
  const plan = planRouting(driftState(), desired, DEFAULT_OWNED);

  test("exact commands, in order: routes, rule adds, rule dels, route dels", () => {
    expect(plan.commands.map((c) => c.line)).toEqual([
      "route replace default dev wwan0 table 100 metric 100 proto 241 mtu 1430",
      "route replace unreachable default table 104 metric 4294967295 proto 241",
      "route replace default dev wwan3 table 104 metric 100 proto 241 mtu 1500",
      "rule add priority 10001 from 10.64.1.2/32 lookup 101 protocol 241",
      "rule add priority 10004 from 10.64.4.2/32 lookup 104 protocol 241",
      "rule del priority 10003 from 10.64.3.2/32 lookup 103 protocol 241",
      "route del unicast default table 102 metric 100 proto 241",
      "route del unreachable default table 103 metric 4294967295 proto 241",
    ]);
    expect(plan.commands[0]).toMatchObject({ op: "replace", imei: "A" });
    expect(plan.issues).toEqual([]);
  });

  test("foreign rules and routes are never named in a command", () => {
    const all = plan.commands.map((c) => c.line).join("\n");
    expect(all).not.toContain("10050");
    expect(all).not.toContain("10.9.9.9");
    expect(all).not.toContain("198.51.100.0");
    expect(all).not.toContain("192.0.2.1");
  });

  test("the gone modem whose address is still on wwan2 keeps a guard; the one whose address is gone does not", () => {
    expect(plan.guards).toEqual([{ address: "10.64.2.2", priority: 10002, kind: "table", table: 102 }]);
    expect(plan.commands.some((c) => c.line.includes("10.64.2.2"))).toBe(false);
    expect(plan.commands.some((c) => c.line === "route del unreachable default table 102 metric 4294967295 proto 241")).toBe(false);
  });

  test("per-modem status and sysctl", () => {
    expect(plan.modems.map((m) => [m.imei, m.state, m.priority, m.addressPresent])).toEqual([
      ["A", "ok", 10000, true], ["B", "ok", 10001, true], ["D", "ok", 10004, false],
    ]);
    expect([...plan.sysctl]).toEqual([
      ["net/ipv4/conf/wwan0/rp_filter", "2"], ["net/ipv4/conf/wwan0/ignore_routes_with_linkdown", "1"], ["net/ipv4/conf/wwan0/promote_secondaries", "1"],
      ["net/ipv4/conf/wwan1/rp_filter", "2"], ["net/ipv4/conf/wwan1/ignore_routes_with_linkdown", "1"], ["net/ipv4/conf/wwan1/promote_secondaries", "1"],
      ["net/ipv4/conf/wwan3/rp_filter", "2"], ["net/ipv4/conf/wwan3/ignore_routes_with_linkdown", "1"], ["net/ipv4/conf/wwan3/promote_secondaries", "1"],
    ]);
  });

  test("with nothing desired, everything owned goes except the guards of addresses still present", () => {
    const p = planRouting(driftState(), [], DEFAULT_OWNED);
    expect(p.guards.map((g) => g.address).sort()).toEqual(["10.64.0.2", "10.64.2.2"]);
    const lines = p.commands.map((c) => c.line);
    expect(lines).toContain("route del unicast default table 100 metric 100 proto 241");
    expect(lines).toContain("route del unicast default table 101 metric 100 proto 241");
    expect(lines).toContain("route del unreachable default table 101 metric 4294967295 proto 241");
    expect(lines).not.toContain("route del unreachable default table 100 metric 4294967295 proto 241");
    expect(lines.filter((l) => l.startsWith("rule del"))).toEqual(["rule del priority 10003 from 10.64.3.2/32 lookup 103 protocol 241"]);
    expect(p.commands.every((c) => c.op === "remove")).toBe(true);
  });
});

describe("planRouting edge cases", () => {
  const base = (): RoutingState => ({
    rules: [], routes: [],
    links: [
      { ifname: "wwan0", up: true, addresses: ["10.64.0.2"], cidrs: ["10.64.0.2/29"] },
      { ifname: "wwan1", up: false, addresses: ["10.64.1.2"], cidrs: ["10.64.1.2/29"] },
    ],
  });

  test("empty state: guard route before the default route, rule after both", () => {
    const p = planRouting(base(), [modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100, gateway: "10.64.0.1" })], DEFAULT_OWNED);
    expect(p.commands.map((c) => c.line)).toEqual([
      "route replace unreachable default table 100 metric 4294967295 proto 241",
      "route replace default via 10.64.0.1 dev wwan0 onlink table 100 metric 100 proto 241 mtu 1500",
      "rule add priority 10000 from 10.64.0.2/32 lookup 100 protocol 241",
    ]);
  });

  test("a modem whose link is down gets the guard and the rule but no route (the kernel would refuse it)", () => {
    const p = planRouting(base(), [modem({ imei: "B", ifname: "wwan1", address: "10.64.1.2", table: 101 })], DEFAULT_OWNED);
    expect(p.modems[0]?.state).toBe("link-down");
    expect(p.commands.map((c) => c.line)).toEqual([
      "route replace unreachable default table 101 metric 4294967295 proto 241",
      "rule add priority 10001 from 10.64.1.2/32 lookup 101 protocol 241",
    ]);
  });

  test("a missing interface is reported and still guarded", () => {
    const p = planRouting(base(), [modem({ imei: "C", ifname: "wwan9", address: "10.64.9.2", table: 109 })], DEFAULT_OWNED);
    expect(p.modems[0]?.state).toBe("link-missing");
    expect(p.commands.map((c) => c.object)).toEqual(["route", "rule"]);
    expect(p.sysctl.size).toBe(0);
  });

  test("invalid entries are reported and produce no command (nothing reaches an ip batch line)", () => {
    const p = planRouting(base(), [
      modem({ imei: "X1", ifname: "wwan0 table 5", address: "10.64.0.2", table: 100 }),
      modem({ imei: "X2", ifname: "wwan0", address: "10.64.0.300", table: 100 }),
      modem({ imei: "X3", ifname: "wwan0", address: "10.64.0.2", table: 1000 }),
      modem({ imei: "X4", ifname: "wwan0", address: "10.64.0.2", table: 100, mtu: 10 }),
      modem({ imei: "X5", ifname: "wwan0", address: "10.64.0.2", table: 100, gateway: "gw" }),
      { imei: "", ifname: "wwan0", address: "10.64.0.2", table: 100, mtu: 1500, dns: [] },
    ], DEFAULT_OWNED);
    expect(p.commands).toEqual([]);
    expect(p.issues.map((i) => i.code)).toEqual([
      "ROUTING_INVALID", "ROUTING_INVALID", "ROUTING_TABLE_OUT_OF_RANGE", "ROUTING_INVALID", "ROUTING_INVALID", "ROUTING_INVALID",
    ]);
  });

  test("duplicate table or address: the first entry wins, the second is reported", () => {
    const p = planRouting(base(), [
      modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100 }),
      modem({ imei: "B", ifname: "wwan1", address: "10.64.1.2", table: 100 }),
      modem({ imei: "C", ifname: "wwan1", address: "10.64.0.2", table: 102 }),
    ], DEFAULT_OWNED);
    expect(p.issues.map((i) => [i.imei, i.code])).toEqual([["B", "ROUTING_DUPLICATE_TABLE"], ["C", "ROUTING_DUPLICATE_ADDRESS"]]);
    expect(p.modems.map((m) => m.imei)).toEqual(["A"]);
  });

  test("a table outside the priority range is refused", () => {
    const p = planRouting(base(), [modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 120 })],
      { ...DEFAULT_OWNED, priorityMax: DEFAULT_OWNED.priorityMin + 9 });
    expect(p.issues[0]?.code).toBe("ROUTING_PRIORITY_OUT_OF_RANGE");
  });

  test("a gone modem's table now used by another modem: its guard becomes an unreachable rule", () => {
    const state = base();
    state.links[1] = { ifname: "wwan1", up: true, addresses: ["10.64.1.2"], cidrs: ["10.64.1.2/29"] };
    state.rules = parseIpRules(JSON.stringify([{ priority: 10000, src: "10.64.1.2", table: "100", protocol: "241" }]));
    const p = planRouting(state, [modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100 })], DEFAULT_OWNED);
    expect(p.guards).toEqual([{ address: "10.64.1.2", priority: 10000, kind: "rule" }]);
    const lines = p.commands.map((c) => c.line);
    expect(lines).toContain("rule add priority 10000 from 10.64.1.2/32 unreachable protocol 241");
    expect(lines).toContain("rule del priority 10000 from 10.64.1.2/32 lookup 100 protocol 241");
    expect(lines.indexOf("rule add priority 10000 from 10.64.1.2/32 unreachable protocol 241"))
      .toBeLessThan(lines.indexOf("rule del priority 10000 from 10.64.1.2/32 lookup 100 protocol 241"));
  });

  test("a foreign route holding our route's key is reported and left alone", () => {
    const state = base();
    state.routes = parseIpRoutes(JSON.stringify([{ dst: "default", dev: "wwan0", table: "100", protocol: "4", metric: 100, flags: [] }]));
    const p = planRouting(state, [modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100 })], DEFAULT_OWNED);
    expect(p.issues.map((i) => i.code)).toEqual(["ROUTING_FOREIGN_ROUTE"]);
    expect(p.commands.some((c) => c.line.startsWith("route replace default dev wwan0"))).toBe(false);
    expect(p.commands.some((c) => c.line.includes("del"))).toBe(false);
  });

  test("duplicate owned rules: one is kept, the extra is deleted; an owned rule with extra selectors is replaced", () => {
    const state = base();
    state.rules = parseIpRules(JSON.stringify([
      { priority: 10000, src: "10.64.0.2", table: "100", protocol: "241" },
      { priority: 10000, src: "10.64.0.2", table: "100", protocol: "241" },
      { priority: 10000, src: "10.64.0.2", iif: "eth0", table: "100", protocol: "241" },
    ]));
    state.routes = parseIpRoutes(JSON.stringify([
      { type: "7", dst: "default", table: "100", protocol: "241", metric: 4294967295, flags: [] },
      { dst: "default", dev: "wwan0", table: "100", protocol: "241", metric: 100, flags: [], metrics: [{ mtu: 1500 }] },
    ]));
    const p = planRouting(state, [modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100 })], DEFAULT_OWNED);
    expect(p.commands.map((c) => c.line)).toEqual([
      "rule del priority 10000 from 10.64.0.2/32 lookup 100 protocol 241",
      "rule del priority 10000 from 10.64.0.2/32 iif eth0 lookup 100 protocol 241",
    ]);
  });

  test("a complete state plans nothing (idempotent)", () => {
    const state = base();
    state.rules = parseIpRules(JSON.stringify([{ priority: 10000, src: "10.64.0.2", table: "100", protocol: "241" }]));
    state.routes = parseIpRoutes(JSON.stringify([
      { type: "7", dst: "default", table: "100", protocol: "241", metric: 4294967295, flags: [] },
      { dst: "default", dev: "wwan0", table: "100", protocol: "241", metric: 100, flags: [], metrics: [{ mtu: 1500 }] },
    ]));
    const p = planRouting(state, [modem({ imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100 })], DEFAULT_OWNED);
    expect(p.commands).toEqual([]);
    expect(p.desired.size).toBe(3);
  });
});
