/**
 * SOCKS5 (RFC 1928) and its username/password sub-negotiation (RFC 1929), as pure parsers over
 * the bytes received so far. Each returns "incomplete" until it has a whole message.
 */
import { normalizeHost, type Target } from "./target.ts";
import { SOCKS_REPLY } from "./results.ts";

export type SocksParse<T> =
  | { kind: "incomplete" }
  | { kind: "error"; reply: number; message: string }
  | { kind: "ok"; value: T; length: number };

export const SOCKS_METHOD = { noAuth: 0x00, userPass: 0x02, noAcceptable: 0xff } as const;
export const SOCKS_CMD_CONNECT = 0x01;

/** VER NMETHODS METHODS... */
export function parseGreeting(buf: Uint8Array): SocksParse<{ methods: number[] }> {
  if (buf.length < 2) return { kind: "incomplete" };
  if (buf[0] !== 0x05) return { kind: "error", reply: SOCKS_REPLY.generalFailure, message: "not SOCKS5" };
  const n = buf[1];
  if (n === 0) return { kind: "error", reply: SOCKS_REPLY.generalFailure, message: "no methods offered" };
  if (buf.length < 2 + n) return { kind: "incomplete" };
  return { kind: "ok", value: { methods: Array.from(buf.subarray(2, 2 + n)) }, length: 2 + n };
}

/** VER(1) ULEN UNAME PLEN PASSWD */
export function parseUserPass(buf: Uint8Array): SocksParse<{ user: string; pass: string }> {
  if (buf.length < 2) return { kind: "incomplete" };
  if (buf[0] !== 0x01) return { kind: "error", reply: 0x01, message: "bad auth version" };
  const ulen = buf[1];
  if (buf.length < 2 + ulen + 1) return { kind: "incomplete" };
  const plen = buf[2 + ulen];
  const end = 3 + ulen + plen;
  if (buf.length < end) return { kind: "incomplete" };
  const dec = new TextDecoder();
  return {
    kind: "ok",
    value: { user: dec.decode(buf.subarray(2, 2 + ulen)), pass: dec.decode(buf.subarray(3 + ulen, end)) },
    length: end,
  };
}

export interface SocksRequest {
  cmd: number;
  target: Target;
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT */
export function parseRequest(buf: Uint8Array): SocksParse<SocksRequest> {
  if (buf.length < 5) return { kind: "incomplete" };
  if (buf[0] !== 0x05) return { kind: "error", reply: SOCKS_REPLY.generalFailure, message: "bad request version" };
  const cmd = buf[1];
  const atyp = buf[3];
  let host: string | null;
  let o: number;
  if (atyp === 0x01) {
    if (buf.length < 10) return { kind: "incomplete" };
    host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
    o = 8;
  } else if (atyp === 0x03) {
    const len = buf[4];
    if (len === 0) return { kind: "error", reply: SOCKS_REPLY.addressTypeNotSupported, message: "empty domain name" };
    if (buf.length < 5 + len + 2) return { kind: "incomplete" };
    host = normalizeHost(Buffer.from(buf.subarray(5, 5 + len)).toString("latin1"));
    if (host === null) return { kind: "error", reply: SOCKS_REPLY.hostUnreachable, message: "invalid domain name" };
    o = 5 + len;
  } else if (atyp === 0x04) {
    if (buf.length < 22) return { kind: "incomplete" };
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(((buf[4 + 2 * i] << 8) | buf[5 + 2 * i]).toString(16));
    host = normalizeHost(groups.join(":"));
    o = 20;
  } else {
    return { kind: "error", reply: SOCKS_REPLY.addressTypeNotSupported, message: `address type ${atyp}` };
  }
  const port = (buf[o] << 8) | buf[o + 1];
  if (host === null || port === 0) return { kind: "error", reply: SOCKS_REPLY.hostUnreachable, message: "bad target" };
  return { kind: "ok", value: { cmd, target: { host, port } }, length: o + 2 };
}

/** A reply with BND.ADDR/BND.PORT (IPv4 or IPv6; 0.0.0.0:0 when unknown). */
export function encodeReply(rep: number, bound?: { address: string; port: number }): Buffer {
  if (bound?.address.startsWith("::ffff:") && bound.address.includes(".")) bound = { ...bound, address: bound.address.slice(7) };
  const v4 = bound && /^\d+\.\d+\.\d+\.\d+$/.exec(bound.address);
  if (bound && !v4 && bound.address.includes(":")) {
    const out = Buffer.alloc(22);
    out[0] = 5;
    out[1] = rep;
    out[3] = 4;
    const g = expandIpv6(bound.address);
    for (let i = 0; i < 8; i++) out.writeUInt16BE(g[i], 4 + 2 * i);
    out.writeUInt16BE(bound.port, 20);
    return out;
  }
  const out = Buffer.alloc(10);
  out[0] = 5;
  out[1] = rep;
  out[3] = 1;
  if (bound && v4) {
    bound.address.split(".").forEach((b, i) => (out[4 + i] = Number(b)));
    out.writeUInt16BE(bound.port, 8);
  }
  return out;
}

function expandIpv6(a: string): number[] {
  const [head, tail = ""] = a.split("%")[0].split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const mid = new Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0");
  return [...h, ...mid, ...t].slice(0, 8).map((x) => parseInt(x, 16) || 0);
}
