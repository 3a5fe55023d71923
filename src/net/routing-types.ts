/**
 * Types shared by the routing reconciler: the desired state per online modem, the ranges lteproxy owns, and the
 * normalized view of `ip -json rule` / `ip -json route` / `ip -json addr` it diffs against.
 */

/** What the reconciler makes true for one online modem. */
export interface ModemRouting {
  imei: string;
  /** The modem's network interface ("wwan3"). */
  ifname: string;
  /** The modem's IPv4 address (no prefix). */
  address: string;
  /** Routing table, from the owned table range (stable per IMEI, see port-pool.ts). */
  table: number;
  /** MTU of the data session; set on the route so TCP MSS fits the carrier's path. */
  mtu: number;
  /**
   * Carrier DNS servers. Informational for the reconciler: queries to them are sourced from `address` (the proxy
   * engine binds its resolver sockets), so the `from <address>` rule already sends them through the modem. No
   * `to <dns>` rule is added on purpose: modems of the same carrier share DNS addresses, so a rule keyed on the
   * destination alone could not tell which modem a query belongs to, and one keyed on both is covered by the
   * from-rule anyway.
   */
  dns: string[];
  /**
   * Optional next hop. Raw-IP (qmi_wwan) is point-to-point and needs none (ec25.md §5.5); an 802.3 link (ECM, the
   * lab's veth) needs one. It is added `onlink` so a /32 lease with an off-subnet gateway works too.
   */
  gateway?: string;
}

/** Which rules and routes are ours. A rule or route is touched only when it matches these. */
export interface OwnedRanges {
  /** `ip rule … protocol N` / `ip route … proto N`. 241 is unassigned in iproute2's rt_protos. */
  protocol: number;
  priorityMin: number;
  priorityMax: number;
  tableMin: number;
  tableMax: number;
  /** Metric of the modem's default route. */
  routeMetric: number;
  /** Metric of the `unreachable default` guard: worse than every real route, so it only wins when they vanish. */
  guardMetric: number;
}

export const DEFAULT_OWNED: OwnedRanges = {
  protocol: 241,
  priorityMin: 10_000,
  priorityMax: 10_999,
  tableMin: 100,
  tableMax: 999,
  routeMetric: 100,
  guardMetric: 4_294_967_295,
};

/** One `ip rule` entry, normalized (numbers instead of names, prefixes always with a length). */
export interface IpRule {
  priority: number;
  /** "10.64.0.2/32", or "all". */
  src: string;
  /** "8.8.8.8/32", or undefined. */
  dst?: string;
  /** Lookup table; undefined for rules with another action. */
  table?: number;
  /** Rule action when it is not a table lookup (7 = unreachable, 6 = blackhole, 8 = prohibit). */
  action?: number;
  /** 0 when the kernel reports none (unspec). */
  protocol: number;
  not: boolean;
  iif?: string;
  oif?: string;
  fwmark?: string;
  /** Selectors this parser does not model (uidrange, ipproto, sport, …). A rule with any is never "ours as desired". */
  extra: string[];
}

/** One IPv4 route, normalized. */
export interface IpRoute {
  table: number;
  /** Route type number: 1 unicast, 2 local, 3 broadcast, 6 blackhole, 7 unreachable, 8 prohibit. */
  type: number;
  /** "default" or "a.b.c.d/len". */
  dst: string;
  dev?: string;
  gateway?: string;
  metric: number;
  protocol: number;
  mtu?: number;
  onlink: boolean;
}

/** One IPv4 interface with its addresses, from `ip -json addr show`. */
export interface IpLink {
  ifname: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  addresses: string[];
  /** The same addresses with their prefix length ("10.64.0.2/29"), in the same order. */
  cidrs: string[];
}

/** Everything the planner needs to know about the kernel's current state. */
export interface RoutingState {
  rules: IpRule[];
  routes: IpRoute[];
  links: IpLink[];
}

export const RT_TYPE = { unicast: 1, local: 2, broadcast: 3, blackhole: 6, unreachable: 7, prohibit: 8 } as const;
