/**
 * One modem's upstream side: a UDP socket BOUND to the modem's address, so policy routing (`from <modem ip> lookup
 * <table>`) sends every query over that modem. The relay uses one per query (a fresh source port each time); it can
 * carry several: each gets a free random DNS ID on this socket, and an answer counts only when it carries a pending
 * ID and comes from the very server that ID was sent to.
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

interface Pending {
  server: DnsServerAddress;
  timer: ReturnType<typeof setTimeout>;
  done: (r: AskResult) => void;
}

/** Send errors that say "this route, now" rather than "this socket is broken". */
const ROUTE_ERRORS = new Set(["ENETUNREACH", "EHOSTUNREACH", "ENOBUFS", "EAGAIN", "ECONNREFUSED", "EMSGSIZE"]);

export interface UpstreamSocket {
  readonly outAddress: string;
  /** False once binding failed or the socket died; the owner then makes a new one. */
  readonly usable: boolean;
  readonly pending: number;
  /** Answers dropped: unknown ID, wrong source, not a response. */
  readonly stray: number;
  /** Forwards `query` (the client's bytes; its ID is rewritten on a copy) to `server`; `done` is called exactly once. */
  ask(query: Uint8Array, server: DnsServerAddress, timeoutMs: number, done: (r: AskResult) => void): void;
  /** Stops taking queries; closes as soon as nothing is pending (or at once with `now`, failing nothing: callers gone). */
  retire(now?: boolean): void;
  /** Called when the socket became unusable (bind failure or death), so the owner drops it. */
  onDead?: (code: string) => void;
}

/** Canonical text of an address, so `rinfo.address` and a configured server compare equal (IPv6 has many spellings). */
export function canonicalHost(host: string): string {
  return isIP(host) === 6 ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
}

export function createUpstreamSocket(outAddress: string): UpstreamSocket {
  const sock = dgram.createSocket({ type: isIP(outAddress) === 6 ? "udp6" : "udp4" });
  const pending = new Map<number, Pending>();
  let state: "binding" | "ready" | "dead" = "binding";
  let deadCode = "";
  let retired = false;
  let closed = false;
  let stray = 0;
  const waiting: Array<() => void> = [];

  const close = () => {
    if (closed) return;
    closed = true;
    try {
      sock.close();
    } catch {
      // already closed by a failed bind
    }
  };
  const closeIfIdle = () => {
    if ((retired || state === "dead") && pending.size === 0 && waiting.length === 0) close();
  };
  const die = (code: string) => {
    if (state === "dead") return;
    state = "dead";
    deadCode = code;
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.done({ kind: "bind-failed", code });
    }
    for (const run of waiting.splice(0)) run();
    api.onDead?.(code);
    closeIfIdle();
  };

  sock.on("error", (e: NodeJS.ErrnoException) => die(e.code ?? e.message));
  sock.on("message", (msg, rinfo) => {
    if (!isDnsResponse(msg)) {
      stray++;
      return;
    }
    const id = dnsId(msg);
    const p = pending.get(id);
    if (!p || p.server.port !== rinfo.port || p.server.host !== canonicalHost(rinfo.address)) {
      stray++;
      return;
    }
    clearTimeout(p.timer);
    pending.delete(id);
    p.done({ kind: "answer", answer: msg });
    closeIfIdle();
  });
  sock.bind({ address: outAddress, port: 0 }, () => {
    if (state !== "binding") return;
    state = "ready";
    for (const run of waiting.splice(0)) run();
  });

  /** A random ID not pending on this socket (random so an off-path guess is as hard as 3proxy's own). */
  const freeId = (): number => {
    for (let i = 0; i < 32; i++) {
      const id = (Math.random() * 0x10000) | 0;
      if (!pending.has(id)) return id;
    }
    for (let id = 0; id < 0x10000; id++) if (!pending.has(id)) return id;
    return -1;
  };

  const send = (query: Uint8Array, server: DnsServerAddress, timeoutMs: number, done: (r: AskResult) => void) => {
    if (state === "dead") {
      done({ kind: "bind-failed", code: deadCode });
      closeIfIdle();
      return;
    }
    const id = freeId();
    if (id < 0) {
      done({ kind: "send-failed", code: "NO_FREE_ID" });
      return;
    }
    const timer = setTimeout(() => {
      if (pending.get(id)?.timer !== timer) return;
      pending.delete(id);
      done({ kind: "timeout" });
      closeIfIdle();
    }, timeoutMs);
    pending.set(id, { server, timer, done });
    sock.send(withDnsId(query, id), server.port, server.host, (err) => {
      if (!err) return;
      const p = pending.get(id);
      if (!p || p.timer !== timer) return;
      clearTimeout(timer);
      pending.delete(id);
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      p.done({ kind: "send-failed", code });
      // EINVAL and friends: the bound address went away under us; a fresh socket will say EADDRNOTAVAIL.
      if (!ROUTE_ERRORS.has(code)) die(code);
      closeIfIdle();
    });
  };

  const api: UpstreamSocket = {
    outAddress,
    get usable() {
      return state !== "dead" && !retired;
    },
    get pending() {
      return pending.size + waiting.length;
    },
    get stray() {
      return stray;
    },
    ask(query, server, timeoutMs, done) {
      if (state === "binding") waiting.push(() => send(query, server, timeoutMs, done));
      else send(query, server, timeoutMs, done);
    },
    retire(now = false) {
      retired = true;
      if (now) {
        for (const p of pending.values()) clearTimeout(p.timer);
        pending.clear();
        waiting.length = 0;
        close();
      } else closeIfIdle();
    },
  };
  return api;
}
