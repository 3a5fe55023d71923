/**
 * The per-modem DNS relay for the 3proxy backend (docs/operations.md, "DNS"). One process serves every modem: for
 * each entry it listens on UDP `relayListenAddress(port)`:5353 and forwards each query to the carrier's servers in
 * order, each with its own timeout, from a socket bound to the modem's address (upstream.ts; a new socket, so a new
 * source port, per query). When every server timed out or failed, or the modem's address is gone, the client gets
 * SERVFAIL at once: never another route.
 *
 * `apply(entries)` is a reconciler: safe to call with the same list on every tick.
 */
import dgram from "node:dgram";
import { isIP } from "node:net";
import { AppError } from "../../lib/errors.ts";
import { childLogger } from "../../lib/logger.ts";
import { parseDnsServer } from "../engine/dns-resolver.ts";
import { RELAY_PORT, relayListenAddress } from "./address.ts";
import { askUpstream, canonicalHost, type AskResult, type DnsServerAddress } from "./upstream.ts";
import { buildServfail, checkDnsQuery, withDnsId } from "./wire.ts";

const log = childLogger("dns-relay");

/** One modem, as the 3proxy backend writes it into dns-relay.json. */
export interface DnsRelayEntry {
  /** The modem's IMEI (names the entry in stats and logs). */
  id: string;
  /** The modem's proxy port; the relay listens on relayListenAddress(port). */
  port: number;
  /** The modem's address: every upstream query leaves from a socket bound to it. */
  outAddress: string;
  /** Carrier DNS servers, "ip", "ip:port" or "[v6]:port", asked in this order. */
  servers: string[];
}

export interface DnsRelayCounters {
  /** Valid queries received from clients. */
  queries: number;
  /** Upstream answers passed back to clients. */
  answered: number;
  /** SERVFAILs the relay made itself (all servers failed, no modem address, too many pending). */
  servfail: number;
  /** Client datagrams dropped as not a standard one-question query. */
  malformed: number;
  /** Single-server timeouts (a query that then succeeds on the next server still counts one). */
  timeouts: number;
  /** Sends the kernel refused (no route over the modem) and binds to outAddress that failed. */
  sendErrors: number;
  bindErrors: number;
  /** Upstream datagrams dropped: unknown ID, wrong source, not a response. */
  stray: number;
}

export interface DnsRelayEntryStats extends DnsRelayCounters {
  id: string;
  port: number;
  listen: string;
  outAddress: string;
  servers: string[];
  listening: boolean;
  listenError?: string;
  /** Queries waiting for an upstream answer now. */
  pending: number;
  /** Errno of the last failed bind/send to outAddress, cleared by the next answer. */
  lastError?: string;
}

export interface DnsRelayOptions {
  /** Per server, before the next one is asked. Default 1500 ms. */
  timeoutMs?: number;
  /** Queries in flight per entry; more get SERVFAIL. Default 1024. */
  maxPending?: number;
  /** Listener address for a port (tests); default relayListenAddress. */
  listenAddress?(port: number): string;
  /** Listener UDP port; default 5353. */
  listenPort?: number;
}

export interface DnsRelay {
  /** Starts new entries, closes removed ones, updates changed ones (in-flight queries finish as they began). */
  apply(entries: DnsRelayEntry[]): Promise<void>;
  stats(): DnsRelayEntryStats[];
  close(): Promise<void>;
}

interface Runtime {
  entry: DnsRelayEntry;
  servers: DnsServerAddress[];
  listen: string;
  listener: dgram.Socket | null;
  listenError?: string;
  /** Cancels of the upstream queries in flight (askOnce). */
  asking: Set<() => void>;
  inflight: number;
  counters: DnsRelayCounters;
  lastError?: string;
  closed: boolean;
}

const zero = (): DnsRelayCounters => ({ queries: 0, answered: 0, servfail: 0, malformed: 0, timeouts: 0, sendErrors: 0, bindErrors: 0, stray: 0 });

/** Checks a list of entries; throws AppError DNS_RELAY_INVALID naming the first bad field. */
export function validateDnsRelayEntries(entries: DnsRelayEntry[]): void {
  const ids = new Set<string>();
  const ports = new Set<number>();
  entries.forEach((e, i) => {
    const bad = (field: string, msg: string) => new AppError("DNS_RELAY_INVALID", `entries[${i}].${field}: ${msg}`, { index: i, field });
    if (typeof e.id !== "string" || e.id.length === 0) throw bad("id", "must be a non-empty string");
    if (ids.has(e.id)) throw bad("id", `duplicate id ${e.id}`);
    ids.add(e.id);
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw bad("port", "must be 1-65535");
    if (ports.has(e.port)) throw bad("port", `port ${e.port} used twice (one relay address per port)`);
    ports.add(e.port);
    const family = isIP(e.outAddress);
    if (family === 0) throw bad("outAddress", `${JSON.stringify(e.outAddress)} is not an IP address`);
    if (!Array.isArray(e.servers) || e.servers.length === 0) throw bad("servers", "needs at least one carrier DNS server");
    e.servers.forEach((s, j) => {
      const p = parseDnsServer(s);
      if (!p) throw bad(`servers[${j}]`, `${JSON.stringify(s)} is not ip, ip:port or [v6]:port`);
      if (isIP(p.host) !== family) throw bad(`servers[${j}]`, `${s} is not the address family of outAddress ${e.outAddress}`);
    });
  });
}

const parseServers = (servers: string[]): DnsServerAddress[] =>
  servers.map((s) => parseDnsServer(s)!).map((p) => ({ host: canonicalHost(p.host), port: p.port }));

export function createDnsRelay(opts: DnsRelayOptions = {}): DnsRelay {
  const timeoutMs = opts.timeoutMs ?? 1500;
  const maxPending = opts.maxPending ?? 1024;
  const listenAddressOf = opts.listenAddress ?? relayListenAddress;
  const listenPort = opts.listenPort ?? RELAY_PORT;
  const runtimes = new Map<string, Runtime>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  /** Asks one server from a socket of its own (upstream.ts), bound to the modem's address. */
  const askOnce = (rt: Runtime, query: Uint8Array, server: DnsServerAddress, done: (r: AskResult) => void) => {
    const outAddress = rt.entry.outAddress;
    const cancel = askUpstream({
      outAddress, query, server, timeoutMs,
      done: (r) => {
        rt.asking.delete(cancel);
        done(r);
      },
      onStray: () => rt.counters.stray++,
      onAddressError: (code) => {
        rt.counters.bindErrors++;
        if (rt.lastError !== code) log.warn({ id: rt.entry.id, outAddress, code }, "cannot use the modem's address for DNS: answering SERVFAIL");
        rt.lastError = code;
      },
    });
    rt.asking.add(cancel);
  };

  const reply = (rt: Runtime, sock: dgram.Socket, data: Uint8Array, to: dgram.RemoteInfo) => {
    try {
      sock.send(data, to.port, to.address, () => undefined);
    } catch {
      // listener closed meanwhile (entry removed): the client's own timeout handles it
    }
  };

  const onQuery = (rt: Runtime, sock: dgram.Socket, msg: Uint8Array, from: dgram.RemoteInfo) => {
    const check = checkDnsQuery(msg);
    if (!check.ok) {
      rt.counters.malformed++;
      return;
    }
    rt.counters.queries++;
    const servfail = () => {
      rt.counters.servfail++;
      reply(rt, sock, buildServfail(msg, check.questionEnd), from);
    };
    if (rt.inflight >= maxPending) return servfail();
    rt.inflight++;
    // The servers as they are now: an apply() during this query changes only later queries.
    const servers = rt.servers;
    const finish = (answer: Uint8Array | null) => {
      rt.inflight--;
      if (rt.closed) return;
      if (answer) {
        rt.counters.answered++;
        rt.lastError = undefined;
        reply(rt, sock, withDnsId(answer, check.id), from);
      } else servfail();
    };
    const attempt = (i: number) => {
      if (i >= servers.length || rt.closed) return finish(null);
      askOnce(rt, msg, servers[i]!, (r) => {
        if (r.kind === "answer") return finish(r.answer);
        if (r.kind === "timeout") rt.counters.timeouts++;
        else if (r.kind === "send-failed") {
          rt.counters.sendErrors++;
          rt.lastError = r.code;
        } else return finish(null); // no modem address: every other server would fail the same way
        attempt(i + 1);
      });
    };
    attempt(0);
  };

  const startListener = (rt: Runtime): Promise<void> =>
    new Promise((resolve) => {
      const sock = dgram.createSocket({ type: "udp4" });
      let bound = false;
      sock.on("error", (e: NodeJS.ErrnoException) => {
        rt.listenError = `${rt.listen}:${listenPort}: ${e.code ?? e.message}`;
        if (!bound) {
          log.error({ id: rt.entry.id, listen: rt.listen, err: e.code ?? e.message }, "DNS relay cannot listen");
          try {
            sock.close();
          } catch {}
          resolve();
        }
      });
      sock.on("message", (msg, from) => onQuery(rt, sock, msg, from));
      sock.bind({ address: rt.listen, port: listenPort }, () => {
        bound = true;
        if (rt.closed) {
          sock.close();
          return resolve();
        }
        rt.listener = sock;
        rt.listenError = undefined;
        resolve();
      });
    });

  const stopListener = (rt: Runtime) => {
    try {
      rt.listener?.close();
    } catch {}
    rt.listener = null;
  };

  const closeRuntime = (rt: Runtime) => {
    rt.closed = true;
    stopListener(rt);
    for (const cancel of rt.asking) cancel();
    rt.asking.clear();
  };

  async function applyNow(entries: DnsRelayEntry[]): Promise<void> {
    validateDnsRelayEntries(entries);
    const wanted = new Map(entries.map((e) => [e.id, e]));
    for (const [id, rt] of runtimes) {
      if (!wanted.has(id)) {
        closeRuntime(rt);
        runtimes.delete(id);
        log.info({ id }, "DNS relay entry removed");
      }
    }
    const starts: Promise<void>[] = [];
    for (const e of entries) {
      const entry = { ...e, servers: [...e.servers] };
      let rt = runtimes.get(e.id);
      if (!rt) {
        rt = { entry, servers: parseServers(entry.servers), listen: listenAddressOf(entry.port), listener: null,
          asking: new Set(), inflight: 0, counters: zero(), closed: false };
        runtimes.set(e.id, rt);
        log.info({ id: e.id, listen: rt.listen, outAddress: e.outAddress, servers: e.servers }, "DNS relay entry added");
      } else {
        const prev = rt.entry;
        rt.entry = entry;
        rt.servers = parseServers(entry.servers);
        if (prev.port !== entry.port) {
          stopListener(rt);
          rt.listen = listenAddressOf(entry.port);
        }
      }
      if (!rt.listener) starts.push(startListener(rt));
    }
    await Promise.all(starts);
  }

  return {
    apply(entries) {
      if (closed) return Promise.reject(new AppError("DNS_RELAY_CLOSED", "the DNS relay was closed"));
      const next = queue.then(() => applyNow(entries));
      queue = next.catch(() => undefined);
      return next;
    },
    stats() {
      return [...runtimes.values()].map((rt) => ({
        id: rt.entry.id, port: rt.entry.port, listen: `${rt.listen}:${listenPort}`, outAddress: rt.entry.outAddress,
        servers: [...rt.entry.servers], listening: rt.listener !== null, listenError: rt.listenError,
        pending: rt.inflight, lastError: rt.lastError, ...rt.counters,
      }));
    },
    async close() {
      closed = true;
      await queue;
      for (const rt of runtimes.values()) closeRuntime(rt);
      runtimes.clear();
    },
  };
}
