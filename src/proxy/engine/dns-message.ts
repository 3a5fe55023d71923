/**
 * DNS wire format (RFC 1035) for the one query the engine makes: A records of a proxied name.
 * Pure functions; the UDP client is dns-resolver.ts.
 */

export const DNS_TYPE_A = 1;
export const DNS_TYPE_CNAME = 5;

export interface DnsAnswer {
  address: string;
  ttl: number;
}

export interface DnsResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  /** A records (in order), whatever owner name a CNAME chain gave them. */
  answers: DnsAnswer[];
}

/**
 * Lower-cases and checks a hostname for a query: 1-253 chars, labels of 1-63 of [a-z0-9_-].
 * Returns null when it cannot be a DNS name (the proxy then answers "bad target" without a query).
 */
export function normalizeHostname(name: string): string | null {
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return null;
  const labels = n.toLowerCase().split(".");
  for (const l of labels) if (!/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l)) return null;
  return labels.join(".");
}

/** A recursive (RD) query for `name` (already normalized). */
export function encodeDnsQuery(id: number, name: string, qtype = DNS_TYPE_A): Uint8Array {
  const labels = name.split(".");
  const qlen = labels.reduce((s, l) => s + 1 + l.length, 1);
  const buf = new Uint8Array(12 + qlen + 4);
  const dv = new DataView(buf.buffer);
  dv.setUint16(0, id);
  dv.setUint16(2, 0x0100); // RD
  dv.setUint16(4, 1); // QDCOUNT
  let o = 12;
  for (const l of labels) {
    buf[o++] = l.length;
    for (let i = 0; i < l.length; i++) buf[o++] = l.charCodeAt(i);
  }
  buf[o++] = 0;
  dv.setUint16(o, qtype);
  dv.setUint16(o + 2, 1); // IN
  return buf;
}

/** Reads a (possibly compressed) name at `offset`; returns it and the offset after it in place. */
export function readName(buf: Uint8Array, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let o = offset;
  let next = -1;
  for (let jumps = 0; ; ) {
    if (o >= buf.length) throw new Error("name runs past the message");
    const len = buf[o];
    if (len === 0) {
      if (next < 0) next = o + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= buf.length) throw new Error("truncated pointer");
      if (++jumps > 64) throw new Error("compression loop");
      if (next < 0) next = o + 2;
      o = ((len & 0x3f) << 8) | buf[o + 1];
      continue;
    }
    if (len > 63) throw new Error("bad label length");
    if (o + 1 + len > buf.length) throw new Error("label runs past the message");
    labels.push(String.fromCharCode(...buf.subarray(o + 1, o + 1 + len)));
    o += 1 + len;
  }
  return { name: labels.join(".").toLowerCase(), next };
}

/**
 * Parses a response to our query. Throws on anything malformed, on a message that is not a
 * response, or on one whose id or question differs from ours (a stray or spoofed datagram).
 */
export function decodeDnsResponse(buf: Uint8Array, expectId: number, expectName: string): DnsResponse {
  if (buf.length < 12) throw new Error("short DNS message");
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const id = dv.getUint16(0);
  const flags = dv.getUint16(2);
  if (id !== expectId) throw new Error("DNS id mismatch");
  if ((flags & 0x8000) === 0) throw new Error("not a DNS response");
  const qd = dv.getUint16(4);
  const an = dv.getUint16(6);
  let o = 12;
  for (let i = 0; i < qd; i++) {
    const q = readName(buf, o);
    if (q.name !== expectName) throw new Error("DNS question mismatch");
    o = q.next + 4;
  }
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < an; i++) {
    const rr = readName(buf, o);
    o = rr.next;
    if (o + 10 > buf.length) throw new Error("truncated resource record");
    const type = dv.getUint16(o);
    const cls = dv.getUint16(o + 2);
    const ttl = dv.getUint32(o + 4);
    const rdlen = dv.getUint16(o + 8);
    o += 10;
    if (o + rdlen > buf.length) throw new Error("truncated rdata");
    if (type === DNS_TYPE_A && cls === 1 && rdlen === 4) {
      answers.push({ address: `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`, ttl });
    }
    o += rdlen;
  }
  return { id, rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, answers };
}
