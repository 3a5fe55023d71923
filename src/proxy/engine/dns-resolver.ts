/**
 * Name resolution through the modem (issue 5 item 4): the query leaves from a UDP socket bound to
 * the port's outAddress, so policy routing sends it over that modem to that modem's carrier DNS.
 * The system resolver is never used for a proxied name; 3proxy's `nserver` uses an unbound socket
 * and so follows the main table (3proxy.md §3), which is the leak this avoids.
 */
import dgram from "node:dgram";
import { isIP } from "node:net";
import { AppError } from "../../lib/errors.ts";
import { decodeDnsResponse, encodeDnsQuery } from "./dns-message.ts";

export interface ResolverOptions {
  /** "ip", "ip:port" or "[v6]:port"; port 53 by default. */
  servers: readonly string[];
  /** Bind address for the query socket (the modem's IP); null = unbound (dev only). */
  localAddress: string | null;
  timeoutMs?: number;
  /** Passes over the server list. */
  attempts?: number;
  maxEntries?: number;
  /** Upper bound on a cached answer's life, seconds. */
  maxTtlSec?: number;
  /** How long "no such name" is remembered, seconds. */
  negativeTtlSec?: number;
  now?: () => number;
}

export interface Resolver {
  /** One IPv4 address for `name` (normalized hostname). Throws AppError DNS_*. */
  resolve(name: string): Promise<string>;
  /** Datagrams sent so far (cache misses x attempts). */
  readonly queries: number;
}

interface Entry {
  address: string | null;
  error?: AppError;
  expires: number;
}

/** Splits "1.2.3.4", "1.2.3.4:5353", "[::1]:53" into host and port. Null when malformed. */
export function parseDnsServer(s: string): { host: string; port: number } | null {
  let host = s;
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else if (isIP(s) === 0) {
    const i = s.lastIndexOf(":");
    if (i < 0) return null;
    host = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  if (isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

export function createResolver(opts: ResolverOptions): Resolver {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const attempts = opts.attempts ?? 2;
  const maxEntries = opts.maxEntries ?? 5000;
  const maxTtl = (opts.maxTtlSec ?? 3600) * 1000;
  const negTtl = (opts.negativeTtlSec ?? 5) * 1000;
  const now = opts.now ?? Date.now;
  const servers = opts.servers.map(parseDnsServer).filter((s): s is { host: string; port: number } => s !== null);
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<string>>();
  let queries = 0;

  const remember = (name: string, e: Entry) => {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(name, e);
  };

  async function lookup(name: string): Promise<string> {
    if (servers.length === 0) throw new AppError("DNS_NO_SERVERS", "no DNS servers configured for this port");
    let last: AppError = new AppError("DNS_TIMEOUT", `DNS lookup of ${name} timed out`);
    for (let pass = 0; pass < attempts; pass++) {
      for (const server of servers) {
        queries++;
        try {
          const res = await queryOnce(name, server, opts.localAddress, timeoutMs);
          if (res.rcode === 3) {
            const err = new AppError("DNS_NXDOMAIN", `${name}: no such host`);
            remember(name, { address: null, error: err, expires: now() + negTtl });
            throw err;
          }
          if (res.rcode !== 0) {
            last = new AppError("DNS_SERVFAIL", `DNS server answered rcode ${res.rcode} for ${name}`);
            continue;
          }
          const a = res.answers[0];
          if (!a) {
            const err = new AppError("DNS_NO_ANSWER", `${name} has no IPv4 address`);
            remember(name, { address: null, error: err, expires: now() + negTtl });
            throw err;
          }
          const ttl = Math.min(maxTtl, Math.max(1000, a.ttl * 1000));
          remember(name, { address: a.address, expires: now() + ttl });
          return a.address;
        } catch (e) {
          if (e instanceof AppError && (e.code === "DNS_NXDOMAIN" || e.code === "DNS_NO_ANSWER")) throw e;
          // A bind failure means the modem's address is gone: retrying other servers cannot help.
          if (e instanceof AppError && e.code === "DNS_SOURCE_UNAVAILABLE") throw e;
          if (e instanceof AppError) last = e;
        }
      }
    }
    throw last;
  }

  return {
    get queries() {
      return queries;
    },
    resolve(name) {
      const hit = cache.get(name);
      if (hit && hit.expires > now()) {
        if (hit.address !== null) return Promise.resolve(hit.address);
        return Promise.reject(hit.error);
      }
      const pending = inflight.get(name);
      if (pending) return pending;
      const p = lookup(name).finally(() => inflight.delete(name));
      inflight.set(name, p);
      return p;
    },
  };
}

/** One UDP exchange with one server. Resolves with the decoded response or rejects with DNS_*. */
function queryOnce(
  name: string,
  server: { host: string; port: number },
  localAddress: string | null,
  timeoutMs: number,
): Promise<ReturnType<typeof decodeDnsResponse>> {
  return new Promise((resolve, reject) => {
    const family = isIP(server.host) === 6 ? "udp6" : "udp4";
    const sock = dgram.createSocket({ type: family });
    const id = (Math.random() * 0x10000) | 0;
    let settled = false;
    const finish = (err: AppError | null, value?: ReturnType<typeof decodeDnsResponse>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new AppError("DNS_TIMEOUT", `no answer from ${server.host} for ${name}`)),
      timeoutMs,
    );
    sock.on("error", (e: NodeJS.ErrnoException) => {
      const code = e.code === "EADDRNOTAVAIL" ? "DNS_SOURCE_UNAVAILABLE" : "DNS_SEND_FAILED";
      finish(new AppError(code, `DNS query for ${name} failed: ${e.code ?? e.message}`, { errno: e.code }));
    });
    sock.on("message", (msg, rinfo) => {
      if (rinfo.port !== server.port) return;
      try {
        finish(null, decodeDnsResponse(msg, id, name));
      } catch {
        // Not our answer (wrong id/question) or garbage: keep waiting for the real one.
      }
    });
    sock.bind({ address: localAddress ?? undefined, port: 0 }, () => {
      sock.send(encodeDnsQuery(id, name), server.port, server.host, (err) => {
        if (err) sock.emit("error", err);
      });
    });
  });
}
