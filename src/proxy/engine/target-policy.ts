/**
 * Where a proxied connection may go. "A client on port i leaves only through modem i": a target
 * that is one of this machine's own addresses (the panel, PostgreSQL on 127.0.0.1, the LAN
 * address) would be answered by the local routing table whatever source address the socket is
 * bound to, so it never leaves through the modem at all. Such targets, and loopback, link-local,
 * unspecified and multicast ranges, are refused unless `allowLocalTargets` is set (the tests and
 * the bench set it, because their origins live on 127/8). Checked after DNS resolution, so a
 * name that resolves to 127.0.0.1 (DNS rebinding) is refused too.
 */
import { networkInterfaces } from "node:os";
import { compileWhitelist } from "./cidr.ts";

const NEVER_REMOTE = [
  "0.0.0.0/8",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "224.0.0.0/4",
  "255.255.255.255/32",
  "::/128",
  "::1/128",
  "fe80::/10",
  "ff00::/8",
];

export interface TargetPolicy {
  /** True when a connection to `ip` may be made. */
  allows(ip: string): boolean;
}

export function createTargetPolicy(opts: { allowLocal: boolean; refreshMs?: number; now?: () => number }): TargetPolicy {
  if (opts.allowLocal) return { allows: () => true };
  const fixed = compileWhitelist(NEVER_REMOTE);
  const now = opts.now ?? Date.now;
  const refreshMs = opts.refreshMs ?? 10_000;
  let own = new Set<string>();
  let loadedAt = -Infinity;
  const ownAddresses = () => {
    if (now() - loadedAt < refreshMs) return own;
    loadedAt = now();
    own = new Set(
      Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined)
        .map((a) => a.address.toLowerCase()),
    );
    return own;
  };
  return {
    allows(ip) {
      const a = ip.toLowerCase();
      const v4 = a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
      return !fixed(v4) && !ownAddresses().has(v4);
    },
  };
}
