/**
 * The event router's data-plane half. A modem reaching `registered` (a modem.state event from the stream) gets a
 * stable port and routing table, its data connection, its policy routes and a live proxy port, then goes `online`;
 * leaving `online` reverses that. Every step is a modem_events row. A periodic tick re-applies routes and the proxy
 * config, so drift (a rule deleted by hand, a dead engine) is repaired within one tick.
 */
import type { Sql } from "../db/client.ts";
import {
  assignments, clearSession, dataPlaneModem, dataPlaneModems, ensurePortUser, proxyUsers, saveAssignment, savePublicIp,
  saveSession, type DataPlaneModem,
} from "../db/queries/data-plane.ts";
import { eventSink, type EventRow, type EventSink } from "../db/queries/events.ts";
import type { DataConnectionDriver, DataSession } from "../net/data-connection/types.ts";
import { allocate, probePortFree, type PoolRange } from "../net/port-pool.ts";
import type { ModemRouting } from "../net/routing-types.ts";
import type { AtChannel } from "../modem/at/types.ts";
import type { ProxyConfigInput } from "../proxy/engine/config-schema.ts";
import type { ProxySupervisor } from "../proxy/supervisor/types.ts";
import type { EventStream } from "./event-stream.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("router");

/** States in which the modem keeps its session and routes (the port may refuse new requests meanwhile). */
const KEEPS_SESSION = new Set(["online", "rotating", "healing", "degraded"]);

export interface RoutingApplier {
  apply(desired: ModemRouting[]): Promise<unknown>;
}

export interface DataPlaneRouterOptions {
  sql: Sql;
  nodeId: string;
  events: EventStream;
  driver?: DataConnectionDriver;
  routing?: RoutingApplier;
  supervisor: ProxySupervisor;
  /** Writes a state transition (modems + modem_events in one transaction): the modem manager's. */
  setState(modemId: number, state: string, reason: string): Promise<void>;
  atFor?(imei: string): AtChannel | undefined;
  /** Finds the public IP seen from the internet through this modem address (lab: the echo server). */
  probePublicIp?(address: string): Promise<{ ip: string; rttMs: number } | null>;
  pool: PoolRange;
  /** allowLocalTargets: only for loopback tests; a real box never proxies to itself. */
  proxy: { listen: string; whitelist: string[]; maxConnections: number; allowLocalTargets?: boolean };
  apn: string;
  tickMs?: number;
  /** false in dev without root: skip the bind probe of candidate ports on 0.0.0.0. */
  probePorts?: boolean;
  /** Where events go: the app's OutageBuffer (kept through a PostgreSQL outage); the table by default. */
  sink?: EventSink;
}

export class DataPlaneRouter {
  private queues = new Map<number, Promise<void>>();
  private unsubscribe?: () => void;
  private timer?: ReturnType<typeof setInterval>;
  private syncing?: Promise<void>;
  private syncAgain = false;
  private configVersion = 0;
  private lastProxyContent?: string;
  private allocating: Promise<unknown> = Promise.resolve();
  stopped = false;

  private readonly sink: EventSink;

  constructor(private opts: DataPlaneRouterOptions) {
    this.sink = opts.sink ?? eventSink(opts.sql);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.opts.events.subscribe((ev) => this.onEvent(ev));
    // Re-adopt: modems that were online keep their sessions (the data plane kept running); registered ones come up.
    for (const m of await dataPlaneModems(this.opts.sql, this.opts.nodeId)) {
      if (m.state === "registered") this.enqueue(m.id, () => this.bringUp(m.id));
    }
    await this.sync();
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 5000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.queues.values()]);
    await this.syncing?.catch(() => undefined);
  }

  /** Periodic: repair drift, and retry modems left in `registered` by a failed bring-up. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      for (const m of await dataPlaneModems(this.opts.sql, this.opts.nodeId)) {
        if (m.state === "registered" && !this.queues.has(m.id) && this.opts.driver) this.enqueue(m.id, () => this.bringUp(m.id));
      }
    } catch (error) {
      log.warn({ err: (error as Error).message }, "router tick could not read modems");
    }
    await this.sync();
  }

  private onEvent(ev: EventRow): void {
    if (ev.node_id !== this.opts.nodeId || ev.modem_id === null) return;
    if (ev.kind === "modem.state") {
      const { from, to } = ev.payload as { from?: string; to?: string };
      const id = ev.modem_id;
      if (to === "registered") this.enqueue(id, () => this.bringUp(id));
      else if (from && KEEPS_SESSION.has(from) && to && !KEEPS_SESSION.has(to) && to !== "connecting") {
        this.enqueue(id, () => this.tearDown(id, to));
      } else void this.sync();
    } else if (ev.kind === "proxy.users" || ev.kind === "proxy.settings") {
      void this.sync();
    }
  }

  /** One operation at a time per modem, in order. */
  private enqueue(id: number, op: () => Promise<void>): void {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(op).catch((error) => log.error({ modem: id, err: (error as Error).message }, "data-plane step failed"));
    this.queues.set(id, next);
    void next.finally(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    });
  }

  private async event(modemId: number, kind: string, payload: Record<string, unknown>): Promise<void> {
    await this.sink.append({ nodeId: this.opts.nodeId, modemId, kind, payload });
  }

  /** Stable port + table for this IMEI: stored in PostgreSQL, kept across reboots, re-enumeration and restarts. */
  private ensureAssignment(m: DataPlaneModem): Promise<{ port: number; table: number }> {
    if (m.proxy_port !== null && m.route_table !== null) return Promise.resolve({ port: m.proxy_port, table: m.route_table });
    // One allocation at a time in this process: 30 modems registering at once would all pick the same lowest free
    // port. The UNIQUE constraints still guard against another process (retry below).
    const next = this.allocating.then(() => this.allocateNow(m));
    this.allocating = next.catch(() => undefined);
    return next;
  }

  private async allocateNow(m: DataPlaneModem): Promise<{ port: number; table: number }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await assignments(this.opts.sql, this.opts.nodeId);
      const result = await allocate({
        imei: m.imei, existing, range: this.opts.pool,
        probe: this.opts.probePorts === false ? undefined : (p) => probePortFree(p, this.opts.proxy.listen),
      });
      if (result.skippedPorts.length) {
        await this.event(m.id, "proxy.port_skipped", { ports: result.skippedPorts, reason: "held by another process" });
      }
      const { port, table } = result.assignment;
      if (await saveAssignment(this.opts.sql, this.opts.nodeId, m.id, port, table)) {
        await ensurePortUser(this.opts.sql, this.opts.nodeId, m.id, port);
        await this.event(m.id, "proxy.assigned", { port, table });
        return { port, table };
      }
    }
    throw new AppError("POOL_CONTENDED", `could not store a port for ${m.imei} after 5 attempts`);
  }

  private async bringUp(id: number): Promise<void> {
    if (this.stopped) return;
    const m = await dataPlaneModem(this.opts.sql, this.opts.nodeId, id);
    if (!m || m.state !== "registered") return;
    const { port, table } = await this.ensureAssignment(m);
    if (!this.opts.driver) {
      // --net none: identity and radio only; the modem stays registered, without a data plane
      await this.sync();
      return;
    }
    if (!m.ifname) {
      await this.event(id, "data.error", { step: "start", error: "no network interface found for this modem" });
      return;
    }
    await this.opts.setState(id, "connecting", "starting data connection");
    let session: DataSession;
    try {
      await this.event(id, "data.starting", { driver: this.opts.driver.name, ifname: m.ifname });
      session = await this.opts.driver.start({
        imei: m.imei, ifname: m.ifname, qmiPath: m.qmi_path ?? undefined, at: this.opts.atFor?.(m.imei), apn: this.opts.apn, ipType: 4,
      });
    } catch (error) {
      const code = (error as AppError).code ?? "DATA_START_FAILED";
      await this.event(id, "data.error", { step: "start", code, error: (error as Error).message });
      await this.opts.setState(id, "registered", `data connection failed: ${code}`);
      return;
    }
    await saveSession(this.opts.sql, id, {
      address: session.address, prefix: session.prefix, dns: session.dns, mtu: session.mtu,
      session: session as unknown as Record<string, unknown>,
    });
    await this.event(id, "data.up", { address: session.address, prefix: session.prefix, dns: session.dns, mtu: session.mtu, port, table });
    await this.sync();
    const probe = await this.opts.probePublicIp?.(session.address).catch(() => null);
    if (probe) {
      await savePublicIp(this.opts.sql, id, probe.ip, probe.rttMs);
      await this.event(id, "data.public_ip", { ip: probe.ip, rttMs: probe.rttMs });
    }
    await this.opts.setState(id, "online", `port ${port} via ${m.ifname} ${session.address}`);
  }

  private async tearDown(id: number, to: string): Promise<void> {
    const m = await dataPlaneModem(this.opts.sql, this.opts.nodeId, id);
    if (!m) return;
    const session = m.data_session as unknown as DataSession | null;
    if (session && this.opts.driver && to !== "unplugged") {
      // An unplugged modem has no control channel left; its session died with it.
      await this.opts.driver.stop(session).catch((error) => this.event(id, "data.error", { step: "stop", error: (error as Error).message }));
    }
    await clearSession(this.opts.sql, id);
    await this.event(id, "data.down", { reason: to });
    await this.sync();
  }

  /** Applies routes and proxy config for the whole node; coalesced so bursts cost one apply. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.syncOnce();
        } catch (error) {
          log.warn({ err: (error as Error).message }, "data-plane sync failed; next tick retries");
        }
      } while (this.syncAgain && !this.stopped);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const modems = await dataPlaneModems(this.opts.sql, this.opts.nodeId);
    const users = await proxyUsers(this.opts.sql, this.opts.nodeId);
    // `connecting` with an address is routed too: the public-IP probe runs before the modem is declared online.
    const routed = modems.filter((m) => (KEEPS_SESSION.has(m.state) || m.state === "connecting") && m.wan_ip && m.ifname && m.route_table !== null);
    await this.opts.routing?.apply(routed.map((m) => ({
      imei: m.imei, ifname: m.ifname!, address: m.wan_ip!, table: m.route_table!, mtu: m.mtu ?? 1500, dns: m.dns ?? [],
      gateway: ((m.data_session ?? {}) as { gateway?: string }).gateway,
    })));
    const body = {
      whitelist: this.opts.proxy.whitelist,
      ...(this.opts.proxy.allowLocalTargets ? { allowLocalTargets: true } : {}),
      ports: modems.filter((m) => m.proxy_port !== null).map((m) => {
        // degraded = the AT port is struggling while the data path still works: keep serving
        const online = (m.state === "online" || m.state === "degraded") && m.proxy_enabled && m.wan_ip !== null;
        return {
          id: m.imei,
          port: m.proxy_port!,
          listen: this.opts.proxy.listen,
          outAddress: m.wan_ip,
          state: m.proxy_enabled ? (online ? "online" : m.state) : "disabled",
          reason: online ? undefined : (m.proxy_enabled ? (m.state_reason ?? undefined) : "proxy disabled by a technician"),
          users: users.filter((u) => u.modem_id === null || u.modem_id === m.id).map((u) => ({ name: u.username, passwordHash: u.password_hash })),
          maxConnections: this.opts.proxy.maxConnections,
          dns: { servers: m.dns ?? [] },
        };
      }),
    };
    // The engine reloads on every write; write only when something changed (the supervisor restarts a dead engine).
    const content = JSON.stringify(body);
    if (content === this.lastProxyContent) return;
    const config: ProxyConfigInput = { version: `${Date.now()}-${++this.configVersion}`, ...body };
    await this.opts.supervisor.apply(config);
    this.lastProxyContent = content;
  }
}
