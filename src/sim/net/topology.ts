/**
 * The lab topology as data (pure): `ip -batch` lines per namespace, sysctls and nftables rulesets.
 *
 *   root ns ── ltpx<id>lan ═══ lan0 ── BOX ns ── eth0 ═══ box0 ── INET ns (echo 203.0.113.10, routes 198.18/15 → carrier)
 *                                        │ wwanN ═══ mN ── CARRIER ns ── core0 ═══ carrier0 ──┘
 *                                                        (dnsmasq: DHCP on mN, DNS 100.127.255.53/54; SNAT per session)
 *
 * The inet ns also plays the box's upstream NAT router: whatever enters from the box's uplink is SNATed to the
 * uplink address and counted, and DNS sent to the router (192.0.2.1) is forwarded to the carrier DNS. So a leak
 * (a proxy that did not bind to its modem) shows up in the echo log and the DNS log as the uplink address.
 */
import {
  CARRIER_DNS, ECHO_IP, LINK_PREFIX, linkMac, linkPlan, PUBLIC_POOL, TRANSIT_CARRIER_IP, TRANSIT_INET_IP,
  TRANSIT_PREFIX, UPLINK_GW, UPLINK_IP, UPLINK_PREFIX,
} from "./address-plan.ts";
import { carrierIf, type LabNames, wwanIf } from "./names.ts";

/** Source networks a box can leak from besides its uplink address: modem links (100.64/10) and the LAN (172.16/12). */
const BOX_SOURCE_NETS = ["100.64.0.0/10", "172.16.0.0/12"];

/** nftables table name used in the carrier and inet namespaces. */
export const NFT_TABLE = "ltpx";
/** nft map privateIp -> publicIp in the carrier (one element per live session). */
export const NFT_SNAT_MAP = "snat4";
/** nft named counter in the inet ns: IPv4 packets that arrived from the box's uplink. */
export const NFT_UPLINK_COUNTER = "uplink";

export interface LanAddressing {
  hostIp: string;
  boxIp: string;
  prefix: number;
}

/** `ip -batch` lines run in the root namespace: the namespaces and the LAN link into the box. */
export function rootLines(n: LabNames, lan: LanAddressing): string[] {
  return [
    `netns add ${n.boxNs}`,
    `netns add ${n.carrierNs}`,
    `netns add ${n.inetNs}`,
    `link add ${n.lanHostIf} type veth peer name ${n.lanBoxIf} netns ${n.boxNs}`,
    `addr add ${lan.hostIp}/${lan.prefix} dev ${n.lanHostIf}`,
    `link set dev ${n.lanHostIf} up`,
  ];
}

/** Box ns: LAN and the uplink with the default route (a real box has one; a leak would use it). */
export function boxLines(n: LabNames, lan: LanAddressing): string[] {
  return [
    "link set dev lo up",
    `addr add ${lan.boxIp}/${lan.prefix} dev ${n.lanBoxIf}`,
    `link set dev ${n.lanBoxIf} up`,
    `link add ${n.uplinkBoxIf} type veth peer name ${n.uplinkInetIf} netns ${n.inetNs}`,
    `addr add ${UPLINK_IP}/${UPLINK_PREFIX} dev ${n.uplinkBoxIf}`,
    `link set dev ${n.uplinkBoxIf} up`,
    `route add default via ${UPLINK_GW} dev ${n.uplinkBoxIf}`,
  ];
}

/**
 * Box ns, modem links from..to-1 (the box end wwanN, the carrier end mN). The wwan side stays administratively down,
 * as a fresh qmi_wwan netdev does: the data-connection code raises it.
 */
export function boxLinkLines(n: LabNames, from: number, to: number, mtu: number): string[] {
  const lines: string[] = [];
  for (let i = from; i < to; i++) {
    lines.push(`link add ${wwanIf(i)} address ${linkMac(i)} mtu ${mtu} type veth peer name ${carrierIf(i)} mtu ${mtu} netns ${n.carrierNs}`);
  }
  return lines;
}

/** Carrier ns: DNS addresses and the transit link to the internet. */
export function carrierLines(n: LabNames): string[] {
  return [
    "link set dev lo up",
    ...CARRIER_DNS.map((ip) => `addr add ${ip}/32 dev lo`),
    `link add ${n.transitCarrierIf} type veth peer name ${n.transitInetIf} netns ${n.inetNs}`,
    `addr add ${TRANSIT_CARRIER_IP}/${TRANSIT_PREFIX} dev ${n.transitCarrierIf}`,
    `link set dev ${n.transitCarrierIf} up`,
    `route add default via ${TRANSIT_INET_IP} dev ${n.transitCarrierIf}`,
  ];
}

/** Carrier ns, the gateway address of links from..to-1. */
export function carrierLinkLines(from: number, to: number): string[] {
  // The carrier end stays down until the data call: the box side then has no carrier and gets no lease.
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(`addr add ${linkPlan(i).gateway}/${LINK_PREFIX} dev ${carrierIf(i)}`);
  return lines;
}

/** Inet ns: the echo address, the box's uplink peer and the route back to the carrier's public and DNS addresses. */
export function inetLines(n: LabNames): string[] {
  return [
    "link set dev lo up",
    `addr add ${ECHO_IP}/32 dev lo`,
    `addr add ${UPLINK_GW}/${UPLINK_PREFIX} dev ${n.uplinkInetIf}`,
    `link set dev ${n.uplinkInetIf} up`,
    `addr add ${TRANSIT_INET_IP}/${TRANSIT_PREFIX} dev ${n.transitInetIf}`,
    `link set dev ${n.transitInetIf} up`,
    `route add ${PUBLIC_POOL} via ${TRANSIT_CARRIER_IP} dev ${n.transitInetIf}`,
    ...CARRIER_DNS.map((ip) => `route add ${ip}/32 via ${TRANSIT_CARRIER_IP} dev ${n.transitInetIf}`),
    // The router's side of the box: a leaked packet keeps its box source (a wwan or LAN address) until the router
    // NAT rewrites it; the un-NATed replies go back to the box through these.
    ...BOX_SOURCE_NETS.map((net) => `route add ${net} via ${UPLINK_IP} dev ${n.uplinkInetIf}`),
  ];
}

/** Namespace-wide sysctl assignments (key=value) per role. */
export function sysctls(role: "box" | "carrier" | "inet"): string[] {
  // IPv6 is off in the whole lab: nothing answers it, and a v6 leak would go unwatched.
  const common = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"];
  // Box: Debian 12 + systemd defaults (50-default.conf), loose reverse-path filtering; the rest is the kernel's.
  if (role === "box") return [...common, "net.ipv4.conf.all.rp_filter=2", "net.ipv4.conf.default.rp_filter=2"];
  if (role === "inet") return [...common, "net.ipv4.ip_forward=1"];
  // proxy_arp lets the box use `default dev wwanN` without a gateway (raw-ip style, ec25.md §5.5).
  return [...common, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"];
}

/** Per-link carrier sysctls for links from..to-1. */
export function carrierLinkSysctls(from: number, to: number): string[] {
  // Answer proxy ARP at once instead of after the random 0-0.8 s proxy_delay. Per device: neigh/default does not
  // exist outside the initial namespace.
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(`net.ipv4.neigh.${carrierIf(i)}.proxy_delay=0`);
  return lines;
}

/** Carrier NAT: each live session's private address is SNATed to its public address on the way to the internet. */
export function carrierNft(n: LabNames): string {
  return `table ip ${NFT_TABLE} {
  map ${NFT_SNAT_MAP} { type ipv4_addr : ipv4_addr; }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${n.transitCarrierIf}" snat ip to ip saddr map @${NFT_SNAT_MAP}
  }
}
`;
}

/** The inet ns as the box's upstream NAT router (see the file comment). */
export function inetNft(n: LabNames): string {
  const dns = CARRIER_DNS[0];
  return `table ip ${NFT_TABLE} {
  counter ${NFT_UPLINK_COUNTER} { }
  chain mark_uplink {
    type filter hook prerouting priority -300; policy accept;
    iifname "${n.uplinkInetIf}" counter name ${NFT_UPLINK_COUNTER} meta mark set 0x1
  }
  chain router_dns {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "${n.uplinkInetIf}" ip daddr ${UPLINK_GW} meta l4proto { tcp, udp } th dport 53 dnat ip to ${dns}
  }
  chain router_snat {
    type nat hook postrouting priority srcnat; policy accept;
    meta mark 0x1 snat ip to ${UPLINK_IP}
  }
  chain router_snat_local {
    type nat hook input priority 100; policy accept;
    iifname "${n.uplinkInetIf}" snat ip to ${UPLINK_IP}
  }
}
`;
}

/** /etc/netns/<box>/resolv.conf: the box's system resolver is its office router, as on a real box. */
export function boxResolvConf(): string {
  return `# lteproxy lab: the box's system resolver is its uplink router (a leak path, watched by the lab)\nnameserver ${UPLINK_GW}\n`;
}
