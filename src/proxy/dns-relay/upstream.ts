/**
 * One query to one carrier server, from a UDP socket of its own BOUND to the modem's address, so policy routing
 * (`from <modem ip> lookup <table>`) sends it over that modem. A socket per query gives each one a fresh ephemeral
 * source port besides its random DNS ID, as resolvers do against off-path spoofing (the 16-bit ID alone is
 * guessable). An answer counts only when it carries that ID and comes from the very server that was asked.
 *
 * There is no fallback: a socket that cannot bind (EADDRNOTAVAIL: the modem's address is gone) or a send the kernel
 * refuses (the table's `unreachable default` when the modem link is down) fails the query at once.
 */
import dgram from "node:dgram";
import { isIP } from "node:net";
import { dnsId, isDnsResponse, withDnsId } from "./wire.ts";

export interface DnsServerAddress {
  host: string;
  port: number;
}

export type AskResult =
  | { kind: "answer"; answer: Uint8Array }
  | { kind: "timeout" }
  /** The kernel refused the datagram (no route, address gone); `code` is the errno name. */
  | { kind: "send-failed"; code: string }
  /** The socket could not bind to the modem's address, or died. */
  | { kind: "bind-failed"; code: string };

/** Send errors that say "this route, now" rather than "this socket or address is broken". */
const ROUTE_ERRORS = new Set(["ENETUNREACH", "EHOSTUNREACH", "ENOBUFS", "EAGAIN", "ECONNREFUSED", "EMSGSIZE"]);

export interface AskOptions {
  outAddress: string;
  /** The client's query; its ID is rewritten on a copy. */
  query: Uint8Array;
  server: DnsServerAddress;
  timeoutMs: number;
  /** Called exactly once (not after cancel()); the socket is closed by then. */
  done(r: AskResult): void;
  /** A datagram that is not this query's answer: not a response, another ID or another source. */
  onStray?(): void;
  /** The modem's address cannot be used (bind failed, or a send failed with something other than a route error). */
  onAddressError?(code: string): void;
}

/** Canonical text of an address, so `rinfo.address` and a configured server compare equal (IPv6 has many spellings). */
export function canonicalHost(host: string): string {
  return isIP(host) === 6 ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
}

/** Sends the query; returns a cancel that closes the socket without calling done (the relay is closing). */
export function askUpstream(o: AskOptions): () => void {
  const sock = dgram.createSocket({ type: isIP(o.outAddress) === 6 ? "udp6" : "udp4" });
  const id = (Math.random() * 0x10000) | 0;
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const close = () => {
    clearTimeout(timer);
    try {
      sock.close();
    } catch {
      // already closed by a failed bind
    }
  };
  const finish = (r: AskResult) => {
    if (settled) return;
    settled = true;
    close();
    o.done(r);
  };

  sock.on("error", (e: NodeJS.ErrnoException) => {
    const code = e.code ?? e.message;
    o.onAddressError?.(code);
    finish({ kind: "bind-failed", code });
  });
  sock.on("message", (msg, rinfo) => {
    if (!isDnsResponse(msg) || dnsId(msg) !== id || rinfo.port !== o.server.port || canonicalHost(rinfo.address) !== o.server.host) {
      o.onStray?.();
      return;
    }
    finish({ kind: "answer", answer: msg });
  });
  sock.bind({ address: o.outAddress, port: 0 }, () => {
    if (settled) return;
    timer = setTimeout(() => finish({ kind: "timeout" }), o.timeoutMs);
    sock.send(withDnsId(o.query, id), o.server.port, o.server.host, (err) => {
      if (!err) return;
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      // EINVAL and friends: the bound address went away under us; the next socket will say EADDRNOTAVAIL.
      if (!ROUTE_ERRORS.has(code)) o.onAddressError?.(code);
      finish({ kind: "send-failed", code });
    });
  });

  return () => {
    settled = true;
    close();
  };
}
