/**
 * The built-in engine's desired config (ProxyConfigInput, what the data-plane router hands every supervisor) turned
 * into one 3proxy model per online port. Pure: the 3proxy backend supplies the clear passwords and limits it read
 * from proxy_users, keyed by the argon2 hash the desired config carries.
 *
 * Credentials: 3proxy cannot verify argon2, and a CL entry would put the clear password into /etc/3proxy. So each
 * user becomes a CR entry with an MD5-crypt hash (`$1$`, the scheme 3proxy's mycrypt() implements) of the password
 * in proxy_users.password, with a salt derived from IMEI + user name: stable, so an unchanged user never rewrites
 * the file (no reload), and different on every port. A user whose clear password is unknown is left out.
 *
 * DNS: every model's carrier servers go to the per-modem dns-relay (dnsRelayEntries), and 3proxy's nserver is that
 * relay's loopback address, because 3proxy's own nserver sockets are unbound (3proxy.md §3).
 */
import { isIP } from "node:net";
import type { ProxyConfigInput } from "../engine/config-schema.ts";
import type { DnsRelayEntry } from "../dns-relay/relay.ts";
import type { ThreeProxyModem, ThreeProxyPaths, ThreeProxyQuota, ThreeProxyBandwidth, ThreeProxyUser } from "../three-proxy/model.ts";
import { cryptSalt, md5Crypt } from "./md5-crypt.ts";

export type DesiredPort = NonNullable<ProxyConfigInput["ports"]>[number];

/** What proxy_users knows about a user beyond its hash. */
export interface ThreeProxyUserSource {
  password: string;
  /** proxy_users.id: the stable counter number of its quota rule. */
  id?: number;
  /** Monthly traffic quota, both directions (3proxy `countall … M`). */
  quotaMb?: number | null;
  /** Download limit in bits/s (3proxy `bandlimin`). */
  bandwidthBps?: number | null;
}

export type PortPlan =
  | { imei: string; model: ThreeProxyModem; missingUsers: string[] }
  | { imei: string; skip: string };

/** "ip" or "ip:53" → ip; a resolver on another port cannot be named in a 3proxy model, so it is dropped. */
export function plainDnsServers(servers: string[]): string[] {
  const out: string[] = [];
  for (const s of servers) {
    if (isIP(s) !== 0) out.push(s);
    else {
      const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d+)$/.exec(s);
      const ip = m?.[1] ?? m?.[2];
      if (ip && isIP(ip) !== 0 && m![3] === "53") out.push(ip);
    }
  }
  return [...new Set(out)];
}

export interface PlanOptions {
  global: Pick<ProxyConfigInput, "whitelist">;
  users: Map<string, ThreeProxyUserSource>;
  paths(imei: string): ThreeProxyPaths;
  /** Added to every port number (tests that run 3proxy beside the built-in engine). */
  portOffset?: number;
}

/** One port of the desired config → a 3proxy model, or why this port gets no instance. */
export function planThreeProxyPort(port: DesiredPort, opts: PlanOptions): PortPlan {
  const imei = port.id;
  if (port.state !== "online") return { imei, skip: `state ${port.state}` };
  if (!port.outAddress) return { imei, skip: "no modem address" };
  // The dns-relay asks from a socket bound to outAddress, so only servers of its address family are reachable.
  const family = isIP(port.outAddress);
  const dns = plainDnsServers(port.dns?.servers ?? []).filter((ip) => isIP(ip) === family);
  if (dns.length === 0) return { imei, skip: "no carrier DNS server for the modem's address (the DNS relay would have nothing to ask)" };
  const users: ThreeProxyUser[] = [];
  const quotas: ThreeProxyQuota[] = [];
  const bandwidth: ThreeProxyBandwidth[] = [];
  const missingUsers: string[] = [];
  const seen = new Set<string>();
  for (const u of port.users ?? []) {
    if (seen.has(u.name)) continue;
    const src = opts.users.get(u.passwordHash);
    if (!src) {
      missingUsers.push(u.name);
      continue;
    }
    seen.add(u.name);
    users.push({ name: u.name, hash: md5Crypt(src.password, cryptSalt(`${imei}:${u.name}`)) });
    if (src.quotaMb && src.quotaMb > 0) quotas.push({ user: u.name, dir: "all", period: "M", mb: src.quotaMb, id: src.id });
    if (src.bandwidthBps && src.bandwidthBps >= 1000) bandwidth.push({ user: u.name, dir: "in", bps: src.bandwidthBps });
  }
  const whitelist = [...new Set([...(opts.global.whitelist ?? []), ...(port.whitelist ?? [])])];
  return {
    imei,
    missingUsers,
    model: {
      imei,
      listen: port.listen ?? "0.0.0.0",
      port: port.port + (opts.portOffset ?? 0),
      outAddress: port.outAddress,
      dns,
      users,
      whitelist,
      maxconn: port.maxConnections ?? 500,
      quotas,
      bandwidth,
      paths: opts.paths(imei),
    },
  };
}

/**
 * The dns-relay entries for the 3proxy instances: one per model, listening at relayListenAddress(model.port) (the
 * port 3proxy's rendered nserver names) and asking the model's carrier servers from its outAddress.
 */
export function dnsRelayEntries(models: Iterable<ThreeProxyModem>): DnsRelayEntry[] {
  return [...models].map((m) => ({ id: m.imei, port: m.port, outAddress: m.outAddress, servers: [...m.dns] }));
}
