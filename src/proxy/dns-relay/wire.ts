/**
 * The few DNS header facts the relay needs (RFC 1035 §4.1). Pure functions over datagrams: the relay never decodes
 * answers, it only checks that a query is a query, rewrites IDs and builds SERVFAIL.
 */
import { readName } from "../engine/dns-message.ts";

const FLAG_QR = 0x8000;
const OPCODE_MASK = 0x7800;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
export const RCODE_SERVFAIL = 2;

export type QueryCheck =
  | { ok: true; id: number; /** Offset just past the question (name + type + class). */ questionEnd: number }
  | { ok: false; reason: string };

/**
 * Accepts a standard query with exactly one question (what every stub resolver, 3proxy's included, sends).
 * Anything else is dropped by the relay: an answer (QR=1), another opcode, no or several questions, a broken name.
 */
export function checkDnsQuery(buf: Uint8Array): QueryCheck {
  if (buf.length < 12) return { ok: false, reason: "shorter than a DNS header" };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = dv.getUint16(2);
  if (flags & FLAG_QR) return { ok: false, reason: "QR=1 (a response, not a query)" };
  if ((flags & OPCODE_MASK) !== 0) return { ok: false, reason: `opcode ${(flags & OPCODE_MASK) >> 11} is not QUERY` };
  const qd = dv.getUint16(4);
  if (qd !== 1) return { ok: false, reason: `QDCOUNT ${qd} (must be 1)` };
  let next: number;
  try {
    next = readName(buf, 12).next;
  } catch (e) {
    return { ok: false, reason: `bad question name: ${(e as Error).message}` };
  }
  if (next + 4 > buf.length) return { ok: false, reason: "question runs past the datagram" };
  return { ok: true, id: dv.getUint16(0), questionEnd: next + 4 };
}

/** True for something that can be an answer: a whole header with QR=1. */
export function isDnsResponse(buf: Uint8Array): boolean {
  return buf.length >= 12 && (buf[2]! & 0x80) !== 0;
}

export function dnsId(buf: Uint8Array): number {
  return (buf[0]! << 8) | buf[1]!;
}

/** A copy of `buf` with the ID replaced (the original stays untouched). */
export function withDnsId(buf: Uint8Array, id: number): Uint8Array {
  const out = Uint8Array.from(buf);
  out[0] = (id >> 8) & 0xff;
  out[1] = id & 0xff;
  return out;
}

/**
 * SERVFAIL for a checked query: same ID, QR=1, opcode 0, RD copied, RA=1, RCODE=2, the question echoed, no records.
 * Stub resolvers (3proxy's too) give up on it at once instead of waiting for their own timeout.
 */
export function buildServfail(query: Uint8Array, questionEnd: number): Uint8Array {
  const out = new Uint8Array(questionEnd);
  out.set(query.subarray(0, questionEnd));
  const dv = new DataView(out.buffer);
  const rd = dv.getUint16(2) & FLAG_RD;
  dv.setUint16(2, FLAG_QR | rd | FLAG_RA | RCODE_SERVFAIL);
  dv.setUint16(4, 1);
  dv.setUint16(6, 0);
  dv.setUint16(8, 0);
  dv.setUint16(10, 0);
  return out;
}

/** RCODE of a response (low 4 bits of the flags). */
export function dnsRcode(buf: Uint8Array): number {
  return buf[3]! & 0x0f;
}
