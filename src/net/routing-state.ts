/**
 * Pure parsers for `ip -json rule`, `ip -4 -json route show table all` and `ip -json addr show`.
 * The reconciler runs ip with `-N` (numeric), but names are accepted too so output captured without it parses the same.
 */
import { AppError } from "../lib/errors.ts";
import { type IpLink, type IpRoute, type IpRule, RT_TYPE } from "./routing-types.ts";

const TABLE_NAMES: Record<string, number> = { unspec: 0, default: 253, main: 254, local: 255 };
/** iproute2's reserved names in /etc/iproute2/rt_protos (Debian 12). */
const PROTO_NAMES: Record<string, number> = {
  unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12,
  dnrouted: 13, xorp: 14, ntk: 15, dhcp: 16, keepalived: 18, babel: 42, openr: 99, bgp: 186, isis: 187, ospf: 188,
  rip: 189, eigrp: 192,
};
const TYPE_NAMES: Record<string, number> = {
  unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7,
  prohibit: 8, throw: 9, nat: 10,
};
/** Rule keys this module understands; any other key makes the rule "extra" (never matched as desired). */
const RULE_KNOWN = new Set([
  "priority", "src", "srclen", "dst", "dstlen", "table", "action", "protocol", "not", "iif", "oif", "fwmark",
  "flags", "l3mdev",
]);

type Json = Record<string, unknown>;

function toNumber(value: unknown, names: Record<string, number>, what: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return Number(value);
    const named = names[value];
    if (named !== undefined) return named;
  }
  // An unknown name (a custom rt_protos/rt_tables entry) cannot be one of ours: ours are always numeric under -N.
  return what === "table" || what === "protocol" ? -1 : Number.NaN;
}

function prefix(addr: unknown, len: unknown): string | undefined {
  if (typeof addr !== "string" || addr === "") return undefined;
  if (addr === "all" || addr === "default") return addr;
  if (addr.includes("/")) return addr;
  return `${addr}/${typeof len === "number" ? len : 32}`;
}

function parseArray(text: string, what: string): Json[] {
  let data: unknown;
  try {
    data = JSON.parse(text.trim() === "" ? "[]" : text);
  } catch (error) {
    throw new AppError("ROUTING_PARSE_FAILED", `ip ${what}: output is not JSON: ${(error as Error).message}`, {
      sample: text.slice(0, 200),
    });
  }
  if (!Array.isArray(data)) throw new AppError("ROUTING_PARSE_FAILED", `ip ${what}: expected a JSON array`);
  return data.filter((x): x is Json => typeof x === "object" && x !== null && !Array.isArray(x));
}

/** Parses `ip [-N] -json rule`. */
export function parseIpRules(text: string): IpRule[] {
  return parseArray(text, "rule").map((r) => {
    const action = r.action === undefined ? undefined : toNumber(r.action, TYPE_NAMES, "action");
    const rule: IpRule = {
      priority: typeof r.priority === "number" ? r.priority : 0,
      src: prefix(r.src, r.srclen) ?? "all",
      dst: prefix(r.dst, r.dstlen),
      table: r.table === undefined ? undefined : toNumber(r.table, TABLE_NAMES, "table"),
      action: action === RT_TYPE.unicast ? undefined : action,
      protocol: r.protocol === undefined ? 0 : toNumber(r.protocol, PROTO_NAMES, "protocol"),
      not: "not" in r,
      iif: typeof r.iif === "string" ? r.iif : undefined,
      oif: typeof r.oif === "string" ? r.oif : undefined,
      fwmark: r.fwmark === undefined ? undefined : String(r.fwmark) + (r.fwmask === undefined ? "" : `/${String(r.fwmask)}`),
      extra: Object.keys(r).filter((k) => !RULE_KNOWN.has(k) && k !== "fwmask"),
    };
    if (rule.dst === "all") rule.dst = undefined;
    return rule;
  });
}

/** Parses `ip -4 [-N] -json route show table all` (routes of table main carry no "table" key). */
export function parseIpRoutes(text: string): IpRoute[] {
  return parseArray(text, "route").map((r) => {
    const metrics = Array.isArray(r.metrics) ? (r.metrics as Json[]) : [];
    const mtuEntry = metrics.find((m) => typeof m?.mtu === "number");
    const flags = Array.isArray(r.flags) ? r.flags : [];
    return {
      table: r.table === undefined ? 254 : toNumber(r.table, TABLE_NAMES, "table"),
      type: r.type === undefined ? RT_TYPE.unicast : toNumber(r.type, TYPE_NAMES, "type"),
      dst: prefix(r.dst, undefined) ?? "default",
      dev: typeof r.dev === "string" ? r.dev : undefined,
      gateway: typeof r.gateway === "string" ? r.gateway : undefined,
      metric: typeof r.metric === "number" ? r.metric : 0,
      protocol: r.protocol === undefined ? 0 : toNumber(r.protocol, PROTO_NAMES, "protocol"),
      mtu: mtuEntry ? (mtuEntry.mtu as number) : undefined,
      onlink: flags.includes("onlink"),
    };
  });
}

/** Parses `ip -json addr show` into interfaces with their IPv4 addresses. */
export function parseIpAddrs(text: string): IpLink[] {
  return parseArray(text, "addr").map((l) => {
    const info = Array.isArray(l.addr_info) ? (l.addr_info as Json[]) : [];
    const flags = Array.isArray(l.flags) ? l.flags : [];
    const inet = info.filter((a) => a?.family === "inet" && typeof a.local === "string");
    return {
      ifname: String(l.ifname ?? ""),
      up: flags.includes("UP"),
      addresses: inet.map((a) => a.local as string),
      cidrs: inet.map((a) => `${a.local as string}/${typeof a.prefixlen === "number" ? a.prefixlen : 32}`),
    };
  });
}
