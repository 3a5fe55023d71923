/** CIDR matching for the metrics allow-list and proxy whitelists (IPv4 and IPv6, no dependencies). */

function v4(ip: string): bigint | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function v6(ip: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(ip) || ip.split("::").length > 2) return null;
  let [head, tail] = ip.includes("::") ? ip.split("::") as [string, string] : [ip, ""];
  const expand = (s: string): string[] | null => {
    if (!s) return [];
    const groups = s.split(":");
    const last = groups[groups.length - 1]!;
    if (last.includes(".")) {
      const n = v4(last);
      if (n === null) return null;
      groups.splice(-1, 1, ((n >> 16n) & 0xffffn).toString(16), (n & 0xffffn).toString(16));
    }
    return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? groups : null;
  };
  const h = expand(head);
  const t = expand(tail);
  if (!h || !t) return null;
  const missing = 8 - h.length - t.length;
  if ((ip.includes("::") && missing < 1) || (!ip.includes("::") && missing !== 0)) return null;
  const all = [...h, ...Array(Math.max(0, missing)).fill("0"), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses an address into (family, value); IPv4-mapped IPv6 addresses count as IPv4. */
export function parseIp(ip: string): { family: 4 | 6; value: bigint } | null {
  const a = v4(ip);
  if (a !== null) return { family: 4, value: a };
  const b = v6(ip);
  if (b === null) return null;
  if (b >> 32n === 0xffffn) return { family: 4, value: b & 0xffffffffn };
  return { family: 6, value: b };
}

/** True when `ip` lies in `cidr` ("10.0.0.0/8", "::1/128", or a bare address). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, lenText] = cidr.split("/");
  const a = parseIp(ip);
  const n = parseIp(net ?? "");
  if (!a || !n || a.family !== n.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) return false;
  const shift = BigInt(bits - len);
  return a.value >> shift === n.value >> shift;
}

export function ipAllowed(ip: string | null, cidrs: readonly string[]): boolean {
  return !!ip && cidrs.some((c) => ipInCidr(ip, c));
}
