/**
 * The pure parts: address plan, naming convention, rendered configs and the log parsers (over lines captured from
 * the lab's dnsmasq 2.90).
 */
import { describe, expect, test } from "bun:test";
import {
  ipToInt, lanSlotFor, lanSubnet, linkMac, linkPlan, loopbackIpAt, overlaps, privateIpFor, publicIpAt,
} from "../../../src/sim/net/address-plan.ts";
import { renderDhcpHosts, renderDnsmasqConf } from "../../../src/sim/net/dnsmasq-config.ts";
import { parseDhcpLog, parseDnsLog, parseEchoLog } from "../../../src/sim/net/lab-logs.ts";
import { labNames, newLabId, parseLabNs, parseLanIf } from "../../../src/sim/net/names.ts";
import { boxLinkLines, carrierNft, inetNft } from "../../../src/sim/net/topology.ts";

describe("address plan", () => {
  test("modem links are disjoint /29s in 100.64/16 with the gateway at .1", () => {
    expect(linkPlan(0)).toEqual({
      network: "100.64.0.0", gateway: "100.64.0.1", broadcast: "100.64.0.7", prefix: 29,
      hosts: ["100.64.0.2", "100.64.0.3", "100.64.0.4", "100.64.0.5", "100.64.0.6"],
    });
    expect(linkPlan(99).gateway).toBe("100.64.3.25");
    expect(linkPlan(999).broadcast).toBe("100.64.31.63");
    expect(() => linkPlan(1000)).toThrow(expect.objectContaining({ code: "LAB_BAD_INDEX" }));
    expect(() => linkPlan(-1)).toThrow(expect.objectContaining({ code: "LAB_BAD_INDEX" }));
  });

  test("a new session on a link moves to the next private address, wrapping after 5", () => {
    expect([0, 1, 4, 5].map((k) => privateIpFor(2, k))).toEqual(["100.64.0.18", "100.64.0.19", "100.64.0.22", "100.64.0.18"]);
  });

  test("public and loopback pools skip .0 and .255 and stay in range", () => {
    expect(publicIpAt(0)).toBe("198.18.0.1");
    expect(publicIpAt(253)).toBe("198.18.0.254");
    expect(publicIpAt(254)).toBe("198.18.1.1");
    expect(publicIpAt(130_047)).toBe("198.19.255.254");
    expect(publicIpAt(130_048)).toBe("198.18.0.1"); // wraps
    expect(loopbackIpAt(0)).toBe("127.64.0.1");
    expect(loopbackIpAt(254)).toBe("127.64.1.1");
    const all = Array.from({ length: 1000 }, (_, n) => publicIpAt(n));
    expect(new Set(all).size).toBe(1000);
    expect(all.every((ip) => !/\.(0|255)$/.test(ip) && overlaps(ip, 32, "198.18.0.0", 15))).toBe(true);
  });

  test("MACs are unique and locally administered", () => {
    const macs = Array.from({ length: 1000 }, (_, i) => linkMac(i));
    expect(new Set(macs).size).toBe(1000);
    expect(linkMac(258)).toBe("02:4c:54:00:01:02");
  });

  test("LAN /30s and overlap checks", () => {
    expect(lanSubnet(1)).toEqual({ network: "172.31.0.4", hostIp: "172.31.0.5", boxIp: "172.31.0.6", prefix: 30 });
    expect(lanSlotFor("abc")).toBe(lanSlotFor("abc"));
    expect(overlaps("172.31.0.4", 30, "172.16.0.0", 12)).toBe(true);
    expect(overlaps("172.31.0.4", 30, "172.31.0.8", 30)).toBe(false);
    expect(() => ipToInt("300.1.1.1")).toThrow(expect.objectContaining({ code: "LAB_BAD_ADDRESS" }));
  });
});

describe("naming convention", () => {
  test("every visible name carries the lab id, interface names fit IFNAMSIZ, and parse back", () => {
    const n = labNames("abcd1234");
    expect(n.lanHostIf).toBe("ltpxabcd1234lan");
    expect(n.lanHostIf.length).toBeLessThanOrEqual(15);
    expect(parseLanIf(n.lanHostIf)).toBe("abcd1234");
    expect(parseLanIf("ltpxlanlan")).toBe("lan");
    expect(parseLanIf("eth0")).toBeUndefined();
    expect(parseLabNs(n.carrierNs)).toEqual({ labId: "abcd1234", role: "carrier" });
    expect(parseLabNs("ltpx-abc-other")).toBeUndefined();
    expect(parseLabNs("cap1")).toBeUndefined();
    for (const line of boxLinkLines(n, 0, 1000, 1500)) {
      const [, wwan, peer] = /^link add (\S+) .* peer name (\S+) /.exec(line)!;
      expect(wwan!.length).toBeLessThanOrEqual(15);
      expect(peer!.length).toBeLessThanOrEqual(15);
    }
  });

  test("newLabId is valid, prefixed and random", () => {
    const ids = Array.from({ length: 50 }, () => newLabId("t"));
    expect(ids.every((id) => /^t[a-z0-9]{6}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(50);
    expect(newLabId("abcdefg")).toMatch(/^abcdefg[a-z0-9]$/);
    expect(() => newLabId("BAD")).toThrow(expect.objectContaining({ code: "LAB_BAD_ID" }));
  });
});

describe("rendered configs", () => {
  test("dnsmasq: one static range per link, forced MTU, query log with sources", () => {
    const conf = renderDnsmasqConf({ count: 3, mtu: 1430, leaseSeconds: 7200, logPath: "/l", leasePath: "/le", hostsPath: "/h", pidPath: "/p" });
    expect(conf.match(/^dhcp-range=/gm)?.length).toBe(3);
    expect(conf).toContain("dhcp-range=100.64.0.18,static,255.255.255.248,7200");
    expect(conf).toContain("dhcp-option-force=option:mtu,1430");
    expect(conf).toContain("log-queries=extra");
    expect(conf).toContain("address=/echo.lab/203.0.113.10");
    expect(renderDhcpHosts([{ mac: "02:4c:54:00:00:01", ip: "100.64.0.10" }])).toBe("02:4c:54:00:00:01,100.64.0.10\n");
  });

  test("nft rulesets name the lab's interfaces", () => {
    const n = labNames("x1");
    expect(carrierNft(n)).toContain('oifname "core0" snat ip to ip saddr map @snat4');
    expect(inetNft(n)).toContain('iifname "box0" counter name uplink');
  });
});

describe("log parsers", () => {
  // Captured from the lab (dnsmasq 2.90, log-queries=extra); the dates vary to cover the space-padded day.
  const dnsmasqLog = [
    "Nov 25 19:07:55 dnsmasq[31859]: started, version 2.90 cachesize 150",
    "Nov 25 19:07:55 dnsmasq-dhcp[31859]: DHCP, static leases only on 100.64.0.10, lease time 2h",
    "Nov 25 19:07:55 dnsmasq-dhcp[31859]: read /tmp/proto/run/ltpx-p14w25d-net/dhcp-hosts",
    "Nov 25 19:07:55 dnsmasq-dhcp[31859]: DHCPDISCOVER(m0) 02:4c:54:00:00:00 ",
    "Nov 25 19:07:55 dnsmasq-dhcp[31859]: DHCPOFFER(m0) 100.64.0.2 02:4c:54:00:00:00 ",
    "Nov 25 19:07:55 dnsmasq-dhcp[31859]: DHCPREQUEST(m0) 100.64.0.2 02:4c:54:00:00:00 ",
    "Nov 25 19:07:55 dnsmasq-dhcp[31859]: DHCPACK(m0) 100.64.0.2 02:4c:54:00:00:00 ",
    "Nov 25 18:58:20 dnsmasq-dhcp[17370]: DHCPDISCOVER(m1) 02:00:00:00:00:01 no address available",
    "Nov  5 09:01:02 dnsmasq[31859]: 1 100.64.0.2/55846 query[A] echo.lab from 100.64.0.2",
    "Nov  5 09:01:02 dnsmasq[31859]: 1 100.64.0.2/55846 config echo.lab is 203.0.113.10",
    "Nov  5 09:01:03 dnsmasq[31859]: 2 192.0.2.2/5353 query[AAAA] echo.lab from 192.0.2.2",
    "garbage \u0000 line",
  ].join("\n");

  test("DNS queries with their source", () => {
    expect(parseDnsLog(dnsmasqLog)).toEqual([
      { ts: "Nov  5 09:01:02", src: "100.64.0.2", srcPort: 55846, type: "A", name: "echo.lab" },
      { ts: "Nov  5 09:01:03", src: "192.0.2.2", srcPort: 5353, type: "AAAA", name: "echo.lab" },
    ]);
  });

  test("DHCP events with the carrier-side link", () => {
    expect(parseDhcpLog(dnsmasqLog).map((e) => [e.event, e.iface, e.ip ?? null])).toEqual([
      ["DHCPDISCOVER", "m0", null],
      ["DHCPOFFER", "m0", "100.64.0.2"],
      ["DHCPREQUEST", "m0", "100.64.0.2"],
      ["DHCPACK", "m0", "100.64.0.2"],
      ["DHCPDISCOVER", "m1", null],
    ]);
  });

  test("echo log: torn and foreign lines are skipped", () => {
    const text = `{"ts":"t","src":"198.18.0.1","method":"GET","path":"/ip"}\n{"ts":"t","src":\nnot json\n{"x":1}\n`;
    expect(parseEchoLog(text)).toEqual([{ ts: "t", src: "198.18.0.1", method: "GET", path: "/ip" }]);
  });
});
