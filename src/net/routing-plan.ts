/**
 * The pure half of the routing reconciler: current kernel state + desired modems -> ip -batch commands.
 *
 * Per online modem with table T (3proxy.md §3: without the guard, a link-down modem's traffic falls through to main):
 *   route  `default dev <if> [via <gw> onlink] table T metric <routeMetric> mtu <mtu> proto P`
 *   route  `unreachable default table T metric <guardMetric> proto P`   (wins only when the real route is gone)
 *   rule   `priority <prio(T)> from <ip>/32 lookup T protocol P`
 *   sysctl rp_filter=2 (loose) and ignore_routes_with_linkdown=1 on <if>, so a carrier loss (route kept with the
 *          `linkdown` flag) also hits the unreachable guard instead of black-holing until the connect timeout;
 *          promote_secondaries=1, so removing an old session's address never takes the new one with it.
 * A modem that went away keeps a guard (its rule + the unreachable route) while its address is still on any interface.
 * Ownership: rules need protocol P AND a priority in range; routes need proto P AND a table in range.
 */
import { priorityForTable, validateDesired, type ValidationIssue } from "./routing-validate.ts";
import { type IpRoute, type IpRule, type ModemRouting, type OwnedRanges, RT_TYPE, type RoutingState } from "./routing-types.ts";

export interface PlannedCommand {
  op: "add" | "replace" | "remove";
  object: "rule" | "route";
  /** One line for `ip -batch -`. */
  line: string;
  /** Identity of the desired object ("route|100|default|100"), used to tell "added" from "repaired". */
  key: string;
  imei?: string;
  reason: string;
}

export interface GuardEntry {
  address: string;
  priority: number;
  /** "table": rule `lookup T` + unreachable default in T. "rule": an `unreachable` rule (T is now another modem's). */
  kind: "table" | "rule";
  table?: number;
}

export type ModemRoutingState = "ok" | "link-missing" | "link-down";

export interface ModemPlanStatus {
  imei: string;
  ifname: string;
  table: number;
  priority: number;
  state: ModemRoutingState;
  /** The address is configured on the modem's interface (false right after a reconnect, before the driver set it). */
  addressPresent: boolean;
}

export interface RoutingPlan {
  commands: PlannedCommand[];
  /** sysctl keys (relative to /proc/sys, slash-separated) and the values they must have. */
  sysctl: Map<string, string>;
  guards: GuardEntry[];
  issues: ValidationIssue[];
  modems: ModemPlanStatus[];
  /** Every desired object (present or planned): key -> the line that creates it. Tells "added" from "repaired" next run. */
  desired: Map<string, string>;
}

interface DesiredRule { key: string; priority: number; src: string; table?: number; unreachable: boolean; imei?: string }
interface DesiredRoute { key: string; route: IpRoute; imei?: string }

const TYPE_WORD: Record<number, string> = { 1: "unicast", 2: "local", 3: "broadcast", 6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw" };

function ruleKey(r: { priority: number; src: string; dst?: string; table?: number; action?: number; not?: boolean; iif?: string; oif?: string; fwmark?: string; extra?: string[] }): string {
  return ["rule", r.priority, r.not ? "not" : "", r.src, r.dst ?? "", r.iif ?? "", r.oif ?? "", r.fwmark ?? "",
    r.table ?? "", r.action ?? "", (r.extra ?? []).join(",")].join("|");
}
const routeKey = (r: Pick<IpRoute, "table" | "dst" | "metric">) => `route|${r.table}|${r.dst}|${r.metric}`;

function sameRoute(a: IpRoute, b: IpRoute): boolean {
  return a.type === b.type && a.dev === b.dev && a.gateway === b.gateway && a.mtu === b.mtu && a.onlink === b.onlink;
}

function routeAddLine(r: IpRoute, owned: OwnedRanges): string {
  const head = r.type === RT_TYPE.unicast ? `route replace ${r.dst}` : `route replace ${TYPE_WORD[r.type]} ${r.dst}`;
  const via = r.gateway ? ` via ${r.gateway}` : "";
  const dev = r.dev ? ` dev ${r.dev}` : "";
  const onlink = r.onlink ? " onlink" : "";
  const mtu = r.mtu ? ` mtu ${r.mtu}` : "";
  return `${head}${via}${dev}${onlink} table ${r.table} metric ${r.metric} proto ${owned.protocol}${mtu}`;
}

function routeDelLine(r: IpRoute, owned: OwnedRanges): string {
  const type = TYPE_WORD[r.type] ?? String(r.type);
  // proto makes the kernel refuse to delete anything that is not ours (fib_table_delete matches the protocol).
  return `route del ${type} ${r.dst} table ${r.table} metric ${r.metric} proto ${owned.protocol}`;
}

function ruleAddLine(r: DesiredRule, owned: OwnedRanges): string {
  const action = r.unreachable ? "unreachable" : `lookup ${r.table}`;
  return `rule add priority ${r.priority} from ${r.src} ${action} protocol ${owned.protocol}`;
}

function ruleDelLine(r: IpRule, owned: OwnedRanges): string {
  const parts = [`rule del priority ${r.priority}`];
  if (r.not) parts.push("not");
  parts.push(`from ${r.src}`);
  if (r.dst) parts.push(`to ${r.dst}`);
  if (r.iif) parts.push(`iif ${r.iif}`);
  if (r.oif) parts.push(`oif ${r.oif}`);
  if (r.fwmark) parts.push(`fwmark ${r.fwmark}`);
  if (r.table !== undefined) parts.push(`lookup ${r.table}`);
  else if (r.action !== undefined && TYPE_WORD[r.action]) parts.push(TYPE_WORD[r.action]!);
  parts.push(`protocol ${owned.protocol}`);
  return parts.join(" ");
}

const isOwnedRule = (r: IpRule, o: OwnedRanges) => r.protocol === o.protocol && r.priority >= o.priorityMin && r.priority <= o.priorityMax;
const inTableRange = (t: number | undefined, o: OwnedRanges) => t !== undefined && t >= o.tableMin && t <= o.tableMax;
const isOwnedRoute = (r: IpRoute, o: OwnedRanges) => r.protocol === o.protocol && inTableRange(r.table, o);

const guardRoute = (table: number, o: OwnedRanges): IpRoute => ({
  table, type: RT_TYPE.unreachable, dst: "default", metric: o.guardMetric, protocol: o.protocol, onlink: false,
});

/** Computes the commands that turn `current` into `desired`, touching only what `owned` says is ours. */
export function planRouting(current: RoutingState, desired: readonly ModemRouting[], owned: OwnedRanges): RoutingPlan {
  const { valid, issues } = validateDesired(desired, owned);
  const linkByName = new Map(current.links.map((l) => [l.ifname, l]));
  const present = new Set(current.links.flatMap((l) => l.addresses));
  const ownedRules = current.rules.filter((r) => isOwnedRule(r, owned));
  const ownedRoutes = current.routes.filter((r) => isOwnedRoute(r, owned));
  const foreignInRange = current.routes.filter((r) => inTableRange(r.table, owned) && r.protocol !== owned.protocol);

  const wantRules: DesiredRule[] = [];
  const wantRoutes: DesiredRoute[] = [];
  const sysctl = new Map<string, string>();
  const modems: ModemPlanStatus[] = [];
  const desiredTables = new Set(valid.map((m) => m.table));
  const desiredAddresses = new Set(valid.map((m) => m.address));

  for (const m of valid) {
    const priority = priorityForTable(m.table, owned);
    const link = linkByName.get(m.ifname);
    const state: ModemRoutingState = !link ? "link-missing" : link.up ? "ok" : "link-down";
    modems.push({ imei: m.imei, ifname: m.ifname, table: m.table, priority, state, addressPresent: !!link?.addresses.includes(m.address) });
    const guard = guardRoute(m.table, owned);
    wantRoutes.push({ key: routeKey(guard), route: guard, imei: m.imei });
    // The kernel refuses a route through a down interface (ENETDOWN) and removes it on link down; the guard answers then.
    if (state === "ok") {
      const route: IpRoute = {
        table: m.table, type: RT_TYPE.unicast, dst: "default", dev: m.ifname, gateway: m.gateway, metric: owned.routeMetric,
        protocol: owned.protocol, mtu: m.mtu, onlink: m.gateway !== undefined,
      };
      wantRoutes.push({ key: routeKey(route), route, imei: m.imei });
    }
    const rule: DesiredRule = { key: "", priority, src: `${m.address}/32`, table: m.table, unreachable: false, imei: m.imei };
    rule.key = ruleKey({ priority, src: rule.src, table: m.table });
    wantRules.push(rule);
    if (link) {
      sysctl.set(`net/ipv4/conf/${m.ifname}/rp_filter`, "2");
      sysctl.set(`net/ipv4/conf/${m.ifname}/ignore_routes_with_linkdown`, "1");
      // A new session's address can arrive while the old one is still configured (reboot, rotation); without this,
      // deleting the old primary address also deletes the new one as its secondary.
      sysctl.set(`net/ipv4/conf/${m.ifname}/promote_secondaries`, "1");
    }
  }

  // Guards for addresses that no desired modem claims any more but that are still configured somewhere.
  const guards: GuardEntry[] = [];
  const guarded = new Set<string>();
  for (const r of ownedRules) {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/32$/.exec(r.src);
    const address = m?.[1];
    if (!address || desiredAddresses.has(address) || !present.has(address) || guarded.has(address)) continue;
    guarded.add(address);
    const plainLookup = !r.not && !r.dst && !r.iif && !r.oif && !r.fwmark && r.extra.length === 0 && r.action === undefined;
    if (plainLookup && inTableRange(r.table, owned) && !desiredTables.has(r.table!)) {
      guards.push({ address, priority: r.priority, kind: "table", table: r.table });
      wantRules.push({ key: ruleKey(r), priority: r.priority, src: r.src, table: r.table, unreachable: false });
      const g = guardRoute(r.table!, owned);
      wantRoutes.push({ key: routeKey(g), route: g });
    } else {
      // Its table now belongs to another modem (or the rule is odd): block the address with an unreachable rule.
      guards.push({ address, priority: r.priority, kind: "rule" });
      const key = ruleKey({ priority: r.priority, src: r.src, action: RT_TYPE.unreachable });
      wantRules.push({ key, priority: r.priority, src: r.src, unreachable: true });
    }
  }

  const commands: PlannedCommand[] = [];
  const routeAdds: PlannedCommand[] = [];
  const ruleAdds: PlannedCommand[] = [];
  const ruleDels: PlannedCommand[] = [];
  const routeDels: PlannedCommand[] = [];

  // Routes: the kernel identifies a route by (table, dst, tos, metric); `replace` on that key is idempotent.
  const keptRoutes = new Set<IpRoute>();
  for (const want of wantRoutes) {
    const have = ownedRoutes.find((r) => routeKey(r) === want.key);
    if (have) keptRoutes.add(have);
    if (have && sameRoute(have, want.route)) continue;
    const foreign = foreignInRange.find((r) => routeKey(r) === want.key);
    if (!have && foreign) {
      issues.push({ imei: want.imei, code: "ROUTING_FOREIGN_ROUTE", message: `a foreign route (proto ${foreign.protocol}) holds ${want.key}; left alone` });
      continue;
    }
    routeAdds.push({
      op: have ? "replace" : "add", object: "route", line: routeAddLine(want.route, owned), key: want.key, imei: want.imei,
      reason: have ? "route differs from the desired one" : "route missing",
    });
  }
  for (const r of ownedRoutes) {
    if (keptRoutes.has(r)) continue;
    routeDels.push({ op: "remove", object: "route", line: routeDelLine(r, owned), key: routeKey(r), reason: "not desired" });
  }

  // Rules: `ip rule add` is not idempotent, so add only what is missing and remove duplicates.
  const keptRules = new Set<IpRule>();
  for (const want of wantRules) {
    const have = ownedRules.find((r) => !keptRules.has(r) && ruleKey(r) === want.key);
    if (have) { keptRules.add(have); continue; }
    ruleAdds.push({ op: "add", object: "rule", line: ruleAddLine(want, owned), key: want.key, imei: want.imei, reason: "rule missing" });
  }
  for (const r of ownedRules) {
    if (keptRules.has(r)) continue;
    ruleDels.push({ op: "remove", object: "rule", line: ruleDelLine(r, owned), key: ruleKey(r), reason: "not desired" });
  }

  // Order: guards and routes first so a new rule never points at an empty table; removals last.
  commands.push(...routeAdds, ...ruleAdds, ...ruleDels, ...routeDels);
  return {
    commands, sysctl, guards, issues, modems,
    desired: new Map([
      ...wantRoutes.map((w): [string, string] => [w.key, routeAddLine(w.route, owned)]),
      ...wantRules.map((w): [string, string] => [w.key, ruleAddLine(w, owned)]),
    ]),
  };
}
