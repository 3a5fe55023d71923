/**
 * Wires the system: the ONLY place that picks real or simulated parts. `serve` and `demo` both come here.
 * Parts: database (+ migrations, node row, heartbeat) → event stream → modem manager (detector, AT, EC25 driver)
 * → data-plane router (data connection, routing reconciler, proxy supervisor) → health (sweeps, heal ladder, hub
 * watch, alerts) → IP rotation → HTTP panel/API. Events from the router, the heal ladder and rotation go through
 * the OutageBuffer, so a PostgreSQL outage loses none of them.
 */
import { hostname } from "node:os";
import type { Config } from "./config.ts";
import { openDatabase, type OpenDatabase } from "./db/open.ts";
import { migrate } from "./db/migrate.ts";
import { registerNode, heartbeat } from "./db/queries/nodes.ts";
import { EventStream } from "./events/event-stream.ts";
import { DataPlaneRouter } from "./events/data-plane-router.ts";
import { createHttpApp } from "./http/server.ts";
import { ensureAdmin, type EnsureAdminResult } from "./http/auth/ensure-admin.ts";
import { ModemManager } from "./modem/manager.ts";
import { serveConsoleRequests } from "./modem/console-requests.ts";
import { createModemActions } from "./jobs/modem-actions.ts";
import { fleetActions, serveActionRequests } from "./jobs/fleet-actions.ts";
import { startSmsInbox } from "./modem/sms-inbox.ts";
import { atFamilies, proxyFamilies } from "./jobs/metrics-sources.ts";
import { startHealth, type HealthOptions, type RunningHealth } from "./jobs/health-jobs.ts";
import { OutageBuffer } from "./health/outage-buffer.ts";
import { routeRotations } from "./health/rotation-actions.ts";
import { startRotation, type RunningRotation } from "./health/rotation-start.ts";
import { MetricsRegistry } from "./http/metrics-registry.ts";
import { createDataConnectionDriver, QmiDriver, type DataConnectionDriver } from "./net/data-connection/index.ts";
import { IpCommand } from "./net/ip-command.ts";
import { RoutingReconciler } from "./net/routing-reconciler.ts";
import { createConfiguredSupervisor } from "./proxy/supervisor/from-config.ts";
import { startIngestJob } from "./proxy/ingest/index.ts";
import type { ProxySupervisor } from "./proxy/supervisor/types.ts";
import { run } from "./lib/exec.ts";
import { childLogger } from "./lib/logger.ts";
import { VERSION } from "./version.ts";

const log = childLogger("app");

export interface RunningApp {
  config: Config;
  db: OpenDatabase;
  events: EventStream;
  manager: ModemManager;
  router: DataPlaneRouter;
  supervisor: ProxySupervisor;
  /** IP rotation: jobs with the unique-IP guarantee, `lteproxy rotate` requests, schedules. */
  rotation: RunningRotation;
  /** Health sweeps, heal ladder, hub watch, alerts and the node's job registry. */
  health: RunningHealth;
  /** What /metrics renders. */
  metrics: MetricsRegistry;
  /** Event writes that survive a PostgreSQL outage. */
  outage: OutageBuffer;
  url: string;
  /** Whether this start created the first admin (and its one-time password when generated). */
  admin: EnsureAdminResult;
  stop(opts?: { stopDataPlane?: boolean }): Promise<void>;
}

/** Simulated parts the demo and the lab tests swap in. Production passes nothing. */
export interface AppParts {
  /** "loopback": the lab gives each modem a 127.64.x.y address; there is no interface or route to configure. */
  netMode?: "real" | "loopback";
  /** argv prefix that runs commands inside the box namespace (lab), e.g. ["ip","netns","exec","ltpx-x-box"]. */
  nsExec?: string[];
  /** Modem manager timings (tests speed them up). */
  manager?: { pollMs?: number; fastPollMs?: number; rescanMs?: number; devRoot?: string };
  routerTickMs?: number;
  /** Health timings and observers (lab tests); merged over what the config gives. */
  health?: HealthOptions;
  /** Rotation timings (the demo scales the 5 s airplane hold with its time scale). */
  rotation?: { airplaneHoldMs?: number; onlineTimeoutMs?: number };
}

function splitCommand(cmd: string): string[] {
  return cmd.trim().split(/\s+/).filter(Boolean);
}

function pickDriver(config: Config, parts: AppParts, manager: ModemManager): DataConnectionDriver | undefined {
  const qmicli = splitCommand(config.net.qmicli);
  if (parts.netMode === "loopback" && config.net.driver !== "none") {
    // 127/8 is all local: the lab's address is usable as is, so the interface steps are skipped.
    const noIp = new IpCommand({ run: async () => ({ code: 0, stdout: "", stderr: "" }) });
    return new QmiDriver({ qmicli, ip: noIp, dataFormat: "none" });
  }
  return createDataConnectionDriver({
    driver: config.net.driver,
    qmicli,
    udhcpc: config.net.udhcpc,
    netns: config.net.netns || undefined,
    runtimeDir: config.paths.runtime_dir,
    sysfsRoot: config.paths.sysfs_root,
    dataFormat: config.net.qmi_data_format,
    atFor: (imei) => {
      try {
        return manager.channel(imei);
      } catch {
        return undefined;
      }
    },
  });
}

/** The public IP seen through a modem: GET health.check_url bound to the modem's address (lab: the echo server). */
function publicIpProbe(config: Config, parts: AppParts) {
  if (!config.health.check_url) return undefined;
  return async (address: string) => {
    const started = performance.now();
    const r = await run([...(parts.nsExec ?? []), "curl", "-sS", "-m", "5", "--interface", address, config.health.check_url], {
      check: false, timeoutMs: 8000,
    });
    const ip = r.stdout.trim();
    if (r.code !== 0 || !/^[0-9a-f.:]+$/i.test(ip)) return null;
    return { ip, rttMs: Math.round(performance.now() - started) };
  };
}

export async function startApp(config: Config, parts: AppParts = {}): Promise<RunningApp> {
  const db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: config.database.max_connections });
  const cleanups: Array<() => Promise<void> | void> = [() => db.close()];
  try {
    const applied = await migrate(db.sql);
    if (applied.length) log.info({ applied }, "migrations applied");
    await registerNode(db.sql, { id: config.node.id, hostname: hostname(), version: VERSION });
    const admin = await ensureAdmin(db.sql, config);
    // The heartbeat doubles as the database health flag the panel uses for its read-only banner.
    let dbHealthy = true;
    const beat = setInterval(() => {
      heartbeat(db.sql, config.node.id, { pid: process.pid })
        .then(() => {
          dbHealthy = true;
        })
        .catch((e) => {
          dbHealthy = false;
          log.warn({ err: e.message }, "heartbeat failed");
        });
    }, 5_000);
    cleanups.unshift(() => clearInterval(beat));

    const events = new EventStream(db.sql);
    await events.start();
    cleanups.unshift(() => events.stop());
    // One writer for the events that are not part of a state transaction: kept in order through an outage.
    const outage = new OutageBuffer({ sql: db.sql, nodeId: config.node.id });
    cleanups.unshift(async () => {
      await outage.drained(5000);
      outage.close();
    });

    const manager = new ModemManager({
      sql: db.sql, nodeId: config.node.id, deviceDir: config.paths.device_dir, sysfsRoot: config.paths.sysfs_root,
      devRoot: parts.manager?.devRoot, pollMs: parts.manager?.pollMs, fastPollMs: parts.manager?.fastPollMs, rescanMs: parts.manager?.rescanMs,
    });

    const { supervisor, logs } = createConfiguredSupervisor({
      engine: config.proxy.engine, supervisor: config.proxy.supervisor, runtimeDir: config.paths.runtime_dir, sql: db.sql,
      wrapper: parts.nsExec,
    });
    const netReal = parts.netMode !== "loopback" && config.net.driver !== "none" && process.getuid?.() === 0;
    const routing = netReal
      ? new RoutingReconciler({
          netns: config.net.netns || undefined,
          owned: {
            priorityMin: config.net.rule_priority_min, priorityMax: config.net.rule_priority_max,
            tableMin: config.proxy.table_min, tableMax: config.proxy.table_max,
          },
        })
      : undefined;
    // The public IP through a modem: the router asks once a session is up, rotation after each attempt.
    const probe = publicIpProbe(config, parts);
    const router = new DataPlaneRouter({
      sql: db.sql, nodeId: config.node.id, events, supervisor, routing,
      driver: pickDriver(config, parts, manager),
      setState: async (id, state, reason) => {
        await manager.setState(id, state as never, reason);
      },
      atFor: (imei) => {
        try {
          return manager.channel(imei);
        } catch {
          return undefined;
        }
      },
      probePublicIp: probe,
      pool: { ports: { min: config.proxy.port_min, max: config.proxy.port_max }, tables: { min: config.proxy.table_min, max: config.proxy.table_max } },
      proxy: {
        listen: config.proxy.listen, whitelist: config.proxy.whitelist, maxConnections: config.proxy.max_connections,
        // in the loopback lab the "internet" (echo server) is on this machine
        allowLocalTargets: parts.netMode === "loopback",
      },
      apn: config.net.apn,
      tickMs: parts.routerTickMs,
      probePorts: !parts.nsExec,
      sink: outage,
    });
    await router.start();
    cleanups.unshift(() => router.stop());
    // Modem byte counters come from the health sweep (AT+QGDCNT); the ingest fills connection_log only.
    const ingest = startIngestJob({ sql: db.sql, nodeId: config.node.id, ...logs, stats: () => supervisor.stats(), countBytes: false });
    cleanups.unshift(() => ingest.stop());
    await manager.start();
    // `lteproxy at` from another process asks through the event stream while this process owns the ports.
    const unserveConsole = serveConsoleRequests(manager, (fn) => events.subscribe(fn));
    // Incoming SMS: +CMTI and periodic sweeps into sms_messages, deleted from the SIM only once stored.
    const inbox = startSmsInbox({ sql: db.sql, nodeId: config.node.id, manager });
    cleanups.unshift(async () => {
      unserveConsole();
      await inbox.stop();
      await manager.stop();
    });

    const metrics = new MetricsRegistry();
    // Rotation holds a modem (radio off, reboot): health neither probes nor heals it meanwhile.
    let rotation: RunningRotation | undefined;
    const webhook = config.health.alert_webhook_url
      ? { url: config.health.alert_webhook_url, token: config.health.alert_webhook_token || undefined }
      : undefined;
    const health = await startHealth({
      sql: db.sql, nodeId: config.node.id, config, manager, events, metrics, sink: outage,
      busy: (id) => rotation?.service.busy(id) ?? false,
      options: { ...parts.health, alerts: { webhook, ...parts.health?.alerts } },
    });
    cleanups.unshift(() => health.stop());
    rotation = await startRotation({
      sql: db.sql, nodeId: config.node.id, modems: manager, events: outage, probePublicIp: probe,
      syncDataPlane: () => router.sync(), subscribe: (fn) => events.subscribe(fn), scheduleTimer: false,
      airplaneHoldMs: parts.rotation?.airplaneHoldMs, onlineTimeoutMs: parts.rotation?.onlineTimeoutMs,
    });
    const running = rotation;
    // Before health and the manager stop: a running rotation finishes (or is cancelled with the radio back on).
    cleanups.unshift(() => running.stop({ drainMs: 20_000 }));
    health.jobs.register({
      id: "rotation.schedule",
      description: "Starts the scheduled IP rotations that are due (per modem, or the rotation interval setting)",
      everySeconds: () => 15,
      async run() {
        const asked = await running.scheduler.tick();
        return asked.length ? `rotation requested for modems ${asked.join(", ")}` : "none due";
      },
    });
    // This node's own modems: rotations through the rotation service. Another node's modem: forwarded through the
    // event stream to that node's control plane (fleetActions must be outermost), which serves them here too.
    const local = routeRotations(createModemActions({ sql: db.sql, nodeId: config.node.id, manager }), running.service);
    const actions = fleetActions(local, { sql: db.sql, nodeId: config.node.id });
    cleanups.unshift(serveActionRequests(local, (fn) => events.subscribe(fn), { nodeId: config.node.id, events: outage }));
    metrics.collect(() => atFamilies(manager));
    metrics.collect(() => proxyFamilies(supervisor));
    const app = createHttpApp({
      sql: db.sql, config, nodeId: config.node.id, events, actions, metrics, db: { healthy: () => dbHealthy && outage.healthy() },
      jobs: health.jobs, conditions: () => health.conditions(),
    });
    const tls = config.http.tls_cert && config.http.tls_key
      ? { cert: Bun.file(config.http.tls_cert), key: Bun.file(config.http.tls_key) }
      : undefined;
    app.listen({ hostname: config.http.host, port: config.http.port, tls });
    cleanups.unshift(async () => {
      await app.stop();
    });
    const shownHost = config.http.host === "0.0.0.0" ? "127.0.0.1" : config.http.host;
    const url = config.http.public_url || `${tls ? "https" : "http"}://${shownHost}:${app.server?.port ?? config.http.port}/`;
    log.info({ url, node: config.node.id }, "control plane listening");
    let stopped = false;
    return {
      config, db, events, manager, router, supervisor, rotation: running, outage, health, metrics, url, admin,
      async stop(opts = {}) {
        if (stopped) return;
        stopped = true;
        for (const c of cleanups) await Promise.resolve(c()).catch((e) => log.warn({ err: String(e) }, "cleanup failed"));
        // The data plane outlives the control plane (restart, crash) unless asked: demo exit, `lteproxy down`.
        await supervisor.stop({ stopDataPlane: opts.stopDataPlane }).catch(() => undefined);
      },
    };
  } catch (error) {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => undefined);
    throw error;
  }
}
