/**
 * IP whitelists. Every address is held as a 128-bit IPv6 value, with IPv4 stored IPv4-mapped
 * (::ffff:a.b.c.d), so a client that a dual-stack listener reports as ::ffff:192.168.1.5
 * matches an IPv4 entry 192.168.1.0/24 and vice versa.
 */

export interface Cidr {
  base: bigint;
  /** Prefix length in the 128-bit space (an IPv4 /24 is /120). */
  prefix: number;
}

const V4_MAPPED = 0xffffn << 32n;
const ALL = (1n << 128n) - 1n;

/** Parses dotted-quad IPv4 to a number, or null. Leading zeros are refused (ambiguous octal). */
export function parseIpv4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const b = Number(p);
    if (b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

/** Parses an IPv6 address (with ::, embedded IPv4 and an optional %zone) to a bigint, or null. */
export function parseIpv6(input: string): bigint | null {
  const s = input.split("%")[0];
  if (s.length === 0 || s.length > 45) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    const parts = h.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  let n = 0n;
  for (const g of all) n = (n << 16n) | BigInt(g);
  return n;
}

/** Any textual address to its 128-bit value (IPv4 mapped), or null. */
export function ipToBigInt(ip: string): bigint | null {
  const v4 = parseIpv4(ip);
  if (v4 !== null) return V4_MAPPED | BigInt(v4);
  return parseIpv6(ip);
}

/** "10.0.0.0/8", "192.168.1.5" (a host), "::1/128", "::ffff:10.0.0.0/104". Null when invalid. */
export function parseCidr(s: string): Cidr | null {
  const [addr, len, extra] = s.trim().split("/");
  if (extra !== undefined || addr === undefined) return null;
  const v4 = parseIpv4(addr);
  const max = v4 !== null ? 32 : 128;
  let prefix = max;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len)) return null;
    prefix = Number(len);
    if (prefix > max) return null;
  }
  const value = v4 !== null ? V4_MAPPED | BigInt(v4) : parseIpv6(addr);
  if (value === null) return null;
  const prefix128 = v4 !== null ? prefix + 96 : prefix;
  return { base: value & mask(prefix128), prefix: prefix128 };
}

function mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

/** True when `ip` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: bigint): boolean {
  return (ip & mask(cidr.prefix)) === cidr.base;
}

/**
 * Compiles a list of CIDR strings into a matcher. Invalid entries are skipped (the config schema
 * has already refused them). Results are memoised per client address: a keep-alive client or a
 * burst from one address pays the bigint arithmetic once.
 */
export function compileWhitelist(entries: readonly string[]): (ip: string) => boolean {
  const cidrs = entries.map(parseCidr).filter((c): c is Cidr => c !== null);
  if (cidrs.length === 0) return () => false;
  const memo = new Map<string, boolean>();
  return (ip: string) => {
    const hit = memo.get(ip);
    if (hit !== undefined) return hit;
    const n = ipToBigInt(ip);
    const ok = n !== null && cidrs.some((c) => cidrContains(c, n));
    if (memo.size >= 4096) memo.clear();
    memo.set(ip, ok);
    return ok;
  };
}
