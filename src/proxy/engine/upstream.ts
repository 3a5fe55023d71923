/**
 * Outgoing connections, always from the modem's address. `localAddress` makes the kernel bind()
 * before connect(), like 3proxy's -e (3proxy.md §3): with policy routing (`from <modem ip> lookup
 * T`) the packet can only leave through that modem, and when the address is gone the bind fails
 * at once (EADDRNOTAVAIL → 502 / SOCKS 0x03) instead of falling back to another route.
 *
 * Bun.listen/Bun.connect are used rather than node:net. Measured here with two minimal relays
 * (100 MiB through each, and a 1-byte ping-pong): throughput 250-560 MB/s for both, within the
 * noise of this shared 2-core box, and 60-80 µs median ping-pong for both. Bun's sockets win on
 * what remains: no stream machinery or per-socket EventEmitter, one handler object shared by all
 * sockets, and write() returning how much the kernel took, which is exactly the backpressure
 * signal a relay needs (node:net buffers internally and needs a 'drain' dance on top). Its one
 * gap: a pending connect cannot be aborted, so a timed-out connect is abandoned and closed when
 * it settles (the kernel gives up after its SYN retries).
 */
import type { Socket, SocketHandler } from "bun";
import { isIP } from "node:net";
import { AppError } from "../../lib/errors.ts";
import { Endpoint } from "./endpoint.ts";
import { resultForErrno, type ResultCode } from "./results.ts";
import type { Target } from "./target.ts";
import type { Resolver } from "./dns-resolver.ts";
import type { TargetPolicy } from "./target-policy.ts";

/** Receives an upstream's events; an HTTP session hands this role to a tunnel on CONNECT/101. */
export interface UpstreamOwner {
  onUpstreamData(u: Upstream, chunk: Buffer): void;
  onUpstreamEnd(u: Upstream): void;
  onUpstreamClose(u: Upstream): void;
}

export class Upstream {
  endpoint!: Endpoint;
  closed = false;
  /** Set when a connect timed out: the socket, if it ever opens, is closed unseen. */
  abandoned = false;
  /** Requests sent on this connection (HTTP keep-alive reuse). */
  requests = 0;
  constructor(
    public owner: UpstreamOwner,
    /** "host:port" as requested, for keep-alive reuse. */
    readonly key: string,
    readonly address: string,
  ) {}

  get sock(): Socket<Upstream> {
    return this.endpoint.sock as Socket<Upstream>;
  }

  close(abort = false): void {
    if (this.closed) return;
    this.closed = true;
    this.endpoint?.close(abort);
  }
}

const HANDLERS: SocketHandler<Upstream> = {
  open(s) {
    const u = s.data;
    if (u.abandoned) {
      s.terminate();
      return;
    }
    u.endpoint = new Endpoint(s as Socket<unknown>);
    s.setNoDelay(true);
  },
  data(s, chunk) {
    const u = s.data;
    if (!u.closed) u.owner.onUpstreamData(u, chunk);
  },
  drain(s) {
    s.data.endpoint?.drain();
  },
  end(s) {
    const u = s.data;
    if (!u.closed && !u.abandoned) u.owner.onUpstreamEnd(u);
  },
  close(s) {
    const u = s.data;
    if (u.abandoned) return;
    u.closed = true;
    if (u.endpoint) u.endpoint.closed = true;
    // Also after our own close(): owners treat it idempotently.
    u.owner.onUpstreamClose(u);
  },
  error() {
    // close() follows; the owner learns it there.
  },
};

export type OpenResult = { ok: true; upstream: Upstream } | { ok: false; result: ResultCode; message: string };

export interface OpenOptions {
  target: Target;
  outAddress: string | null;
  resolver: Resolver;
  targets: TargetPolicy;
  connectMs: number;
  owner: UpstreamOwner;
}

/** Resolves (through the modem) and connects (from the modem's address). Never throws. */
export async function openUpstream(o: OpenOptions): Promise<OpenResult> {
  let ip = o.target.host;
  if (isIP(ip) === 0) {
    try {
      ip = await o.resolver.resolve(o.target.host);
    } catch (e) {
      const code = e instanceof AppError ? e.code : "";
      const result: ResultCode =
        code === "DNS_TIMEOUT" ? "dns_timeout" : code === "DNS_SOURCE_UNAVAILABLE" ? "source_unavailable" : "dns_failed";
      return { ok: false, result, message: e instanceof Error ? e.message : String(e) };
    }
  }
  if (!o.targets.allows(ip)) {
    return { ok: false, result: "target_denied", message: `${o.target.host} (${ip}) is not reachable through the modem` };
  }
  if (o.outAddress !== null && isIP(o.outAddress) !== isIP(ip)) {
    return { ok: false, result: "no_route", message: `no IPv${isIP(ip)} route from ${o.outAddress}` };
  }
  const key = `${o.target.host}:${o.target.port}`;
  const u = new Upstream(o.owner, key, ip);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Bun.connect<Upstream>({
    hostname: ip,
    port: o.target.port,
    // Not in bun-types 1.4.5 but implemented (verified: the origin sees this source address).
    ...({ localAddress: o.outAddress ?? undefined } as object),
    allowHalfOpen: true,
    data: u,
    socket: HANDLERS,
  });
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), o.connectMs);
  });
  try {
    const r = await Promise.race([connecting, timedOut]);
    if (r === "timeout") {
      u.abandoned = true;
      connecting.then((s) => s.terminate(), () => {});
      return { ok: false, result: "connect_timeout", message: `connect to ${key} timed out after ${o.connectMs} ms` };
    }
    return { ok: true, upstream: u };
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    return { ok: false, result: resultForErrno(errno), message: `connect to ${key} (${ip}) failed: ${errno ?? String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}
