/**
 * The lab's fixed address plan (pure). Every address lives inside the lab's own namespaces, so parallel labs reuse
 * the same numbers without colliding; only the LAN link reaches the root namespace and gets a per-lab subnet.
 *
 *   box  eth0 192.0.2.2/24  ──  inet "box0" 192.0.2.1           (RFC 5737 TEST-NET-1: the box's office uplink)
 *   carrier "core0" 198.51.100.2/30 ── inet "carrier0" 198.51.100.1 (TEST-NET-2: carrier core to internet)
 *   echo server 203.0.113.10 on the inet ns loopback             (TEST-NET-3: "the internet")
 *   modem link i: 100.64.0.0 + 8·i /29 (CGNAT space, ec25.md §6), carrier gateway .1, modem .2–.6
 *   carrier DNS 100.127.255.53 and .54 on the carrier ns loopback
 *   public (post-NAT) addresses from 198.18.0.0/15, one per session
 */
import { AppError } from "../../lib/errors.ts";

export const UPLINK_GW = "192.0.2.1";
export const UPLINK_IP = "192.0.2.2";
export const UPLINK_PREFIX = 24;
export const TRANSIT_INET_IP = "198.51.100.1";
export const TRANSIT_CARRIER_IP = "198.51.100.2";
export const TRANSIT_PREFIX = 30;
export const ECHO_IP = "203.0.113.10";
export const ECHO_HOST = "echo.lab";
export const CARRIER_DNS = ["100.127.255.53", "100.127.255.54"] as const;
/** Modem links are /29 like many EC25 leases ([T 26] shows 255.255.255.248). */
export const LINK_PREFIX = 29;
export const PUBLIC_POOL = "198.18.0.0/15";
export const MODEM_POOL = "100.64.0.0/16";
export const MAX_MODEMS = 1000;
/** Hosts .2–.6 of each link /29; a new session moves to the next one (ec25.md §7: "new (possibly identical) private IP"). */
const HOSTS_PER_LINK = 5;

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  const parts = m ? m.slice(1).map(Number) : [];
  if (parts.length !== 4 || parts.some((p) => p > 255)) throw new AppError("LAB_BAD_ADDRESS", `not an IPv4 address: ${ip}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function prefixToMask(prefix: number): string {
  return intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

export interface LinkPlan {
  network: string;
  gateway: string;
  broadcast: string;
  prefix: number;
  /** The addresses a session on this link can get, in rotation order. */
  hosts: string[];
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_MODEMS) {
    throw new AppError("LAB_BAD_INDEX", `modem index must be 0..${MAX_MODEMS - 1}, got ${index}`);
  }
}

/** Addresses of modem link `index` (0-based). */
export function linkPlan(index: number): LinkPlan {
  checkIndex(index);
  const base = ipToInt("100.64.0.0") + 8 * index;
  return {
    network: intToIp(base),
    gateway: intToIp(base + 1),
    broadcast: intToIp(base + 7),
    prefix: LINK_PREFIX,
    hosts: Array.from({ length: HOSTS_PER_LINK }, (_, k) => intToIp(base + 2 + k)),
  };
}

/** The private address of the `session`-th data call (0-based) on link `index`. */
export function privateIpFor(index: number, session: number): string {
  const hosts = linkPlan(index).hosts;
  return hosts[session % hosts.length]!;
}

/** Box-side MAC of link `index`: locally administered, unique within a lab, what the carrier's DHCP keys on. */
export function linkMac(index: number): string {
  checkIndex(index);
  const bytes = [0x02, 0x4c, 0x54, 0x00, (index >> 8) & 255, index & 255];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Usable addresses of a pool, skipping .0 and .255 so no lab address looks like a network or broadcast. */
function nthUsable(baseIp: string, size: number, n: number): string {
  const usablePer256 = 254;
  const total = (size / 256) * usablePer256;
  const k = ((n % total) + total) % total;
  return intToIp(ipToInt(baseIp) + Math.floor(k / usablePer256) * 256 + 1 + (k % usablePer256));
}

/** The `n`-th public address of the carrier's NAT pool (198.18.0.0/15, 130,048 usable; wraps). */
export function publicIpAt(n: number): string {
  return nthUsable("198.18.0.0", 1 << 17, n);
}

/** The `n`-th loopback alias of --net loopback (127.64.0.0/16; all of 127/8 is local on Linux, no alias needed). */
export function loopbackIpAt(n: number): string {
  return nthUsable("127.64.0.0", 1 << 16, n);
}

/** LAN /30 number `slot` (0..16383) inside 172.31.0.0/16: the root side gets .1, the box .2. */
export function lanSubnet(slot: number): { network: string; hostIp: string; boxIp: string; prefix: number } {
  const s = ((slot % 16384) + 16384) % 16384;
  const base = ipToInt("172.31.0.0") + 4 * s;
  return { network: intToIp(base), hostIp: intToIp(base + 1), boxIp: intToIp(base + 2), prefix: 30 };
}

/** A stable starting slot for a lab id (FNV-1a), so a lab usually gets the same LAN subnet every run. */
export function lanSlotFor(labId: string): number {
  let h = 0x811c9dc5;
  for (const ch of labId) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h % 16384;
}

/** True when a.b.c.d/p overlaps x/q. */
export function overlaps(a: string, aPrefix: number, b: string, bPrefix: number): boolean {
  const p = Math.min(aPrefix, bPrefix);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ((ipToInt(a) & mask) >>> 0) === ((ipToInt(b) & mask) >>> 0);
}
