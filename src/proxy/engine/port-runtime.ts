/**
 * One configured port: its listener, compiled auth, DNS resolver and counters. A reload updates
 * it in place (same listener, same counters, live connections untouched); a removed port stops
 * listening and lingers as "draining" until its last connection ends.
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { compilePortAuth, type PortAuth } from "./auth.ts";
import { ClientConn } from "./client-conn.ts";
import type { ProxyPortConfig } from "./config-schema.ts";
import type { EngineContext } from "./context.ts";
import { createResolver, type Resolver } from "./dns-resolver.ts";
import { lastErrno, errnoName, spliceLibc } from "./splice-ffi.ts";
import { PortCounters, type PortStats } from "./stats.ts";

/**
 * Accept queue of a port. Bun.listen asks for 512; a burst of new connections larger than what the
 * engine accepts between two event-loop turns overflows that, the kernel drops the SYNs and those
 * clients retry after 1 s (measured with 1,000 SOCKS5 clients at once: the slowest took 1.05 s, and
 * 0.07 s with this queue). The kernel caps it at net.core.somaxconn (4096 by default).
 */
export const LISTEN_BACKLOG = 4096;

/** listen(2) on a socket that already listens only changes its backlog. Null, or why it failed. */
function raiseBacklog(listener: TCPSocketListener<unknown>): string | null {
  // Bun 1.4 has the fd on the listener but not in its types.
  const fd = (listener as unknown as { fd?: number }).fd;
  if (typeof fd !== "number" || fd < 0) return "the listener has no fd";
  try {
    return spliceLibc().listen(fd, LISTEN_BACKLOG) === 0 ? null : errnoName(lastErrno());
  } catch (e) {
    return (e as Error).message;
  }
}

const HANDLERS: SocketHandler<ClientConn | PortRuntime> = {
  open(s) {
    const rt = s.data as PortRuntime;
    if (rt.ctx.stopping) {
      s.terminate();
      return;
    }
    s.data = new ClientConn(rt, s as Socket<unknown>);
  },
  data(s, chunk) {
    (s.data as ClientConn).onData(chunk);
  },
  drain(s) {
    (s.data as ClientConn).client.drain();
  },
  end(s) {
    (s.data as ClientConn).onEnd();
  },
  close(s) {
    if (s.data instanceof ClientConn) s.data.onSocketClose();
  },
  error() {
    // close() follows.
  },
};

export class PortRuntime {
  cfg: ProxyPortConfig;
  auth: PortAuth;
  resolver: Resolver;
  readonly counters = new PortCounters();
  /** Connections that count against maxConnections. */
  readonly conns = new Set<ClientConn>();
  /** Accepted over the limit; they only wait for their refusal. */
  readonly overflow = new Set<ClientConn>();
  listener: TCPSocketListener<ClientConn | PortRuntime> | null = null;
  listenError: string | null = null;
  draining = false;
  /** Called when a draining port has no connections left. */
  onDrained: (() => void) | null = null;

  constructor(
    readonly ctx: EngineContext,
    cfg: ProxyPortConfig,
    globalWhitelist: readonly string[],
  ) {
    this.cfg = cfg;
    this.auth = compilePortAuth(cfg, globalWhitelist);
    this.resolver = this.makeResolver(cfg);
  }

  /** Binds the port; false (and listenError set) when the address is taken or missing. */
  listen(): boolean {
    if (this.listener) return true;
    try {
      this.listener = Bun.listen<ClientConn | PortRuntime>({
        hostname: this.cfg.listen,
        port: this.cfg.port,
        allowHalfOpen: true,
        data: this,
        socket: HANDLERS,
      });
      this.listenError = null;
      const why = raiseBacklog(this.listener);
      if (why) this.ctx.log.warn({ port: this.cfg.port, error: why }, "accept queue stays at Bun's 512");
      return true;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.listenError = `${err.code ?? "ERROR"}: ${err.message}`;
      return false;
    }
  }

  /** Applies a changed config for the same port: new auth for new connections, state now. */
  update(cfg: ProxyPortConfig, globalWhitelist: readonly string[]): void {
    const dnsChanged =
      cfg.outAddress !== this.cfg.outAddress || cfg.dns.servers.join(",") !== this.cfg.dns.servers.join(",");
    this.cfg = cfg;
    this.auth = compilePortAuth(cfg, globalWhitelist);
    if (dnsChanged) this.resolver = this.makeResolver(cfg);
  }

  /** Stops accepting; live connections finish on their own. */
  stopListening(): void {
    this.listener?.stop(false);
    this.listener = null;
  }

  drain(): void {
    this.draining = true;
    this.stopListening();
    if (this.conns.size === 0) this.onDrained?.();
  }

  onConnClosed(): void {
    if (this.draining && this.conns.size === 0) this.onDrained?.();
  }

  /** Every open connection of this port, over-limit ones included. */
  allConns(): ClientConn[] {
    return [...this.conns, ...this.overflow];
  }

  stats(): PortStats {
    return {
      id: this.cfg.id,
      port: this.cfg.port,
      listen: this.cfg.listen,
      state: this.cfg.state,
      listening: this.listener !== null,
      listenError: this.listenError,
      draining: this.draining,
      ...this.counters.toJSON(),
    };
  }

  private makeResolver(cfg: ProxyPortConfig): Resolver {
    return createResolver({ servers: cfg.dns.servers, localAddress: cfg.outAddress, timeoutMs: Math.min(5000, this.ctx.timeouts.connectMs) });
  }
}
