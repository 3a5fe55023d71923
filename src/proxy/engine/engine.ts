/**
 * The data plane: every modem's port in one process (100 Bun processes would cost gigabytes),
 * no database, config in from a file, counters and logs out. `startProxyEngine` is what the CLI
 * (`lteproxy proxy`) and the tests call; `reload` applies a new config without dropping a
 * connection (Tailscale's idempotent Set(config)).
 */
import type { Logger } from "../../lib/logger.ts";
import { childLogger } from "../../lib/logger.ts";
import { parseProxyConfig, type ProxyConfig } from "./config-schema.ts";
import { ConnLogSpool } from "./conn-log-spool.ts";
import type { EngineContext } from "./context.ts";
import { createPasswordVerifier } from "./password-cache.ts";
import { SpliceRelay } from "./splice-relay.ts";
import { PortRuntime } from "./port-runtime.ts";
import { defaultPaths, defaultRuntimeDir } from "./runtime-dir.ts";
import type { EngineStats } from "./stats.ts";
import { startStatsServer, type StatsServer } from "./stats-server.ts";
import { Sweeper, sweepIntervalFor } from "./sweeper.ts";
import { createTargetPolicy } from "./target-policy.ts";

export interface ProxyEngineOptions {
  /** The initial config: a parsed ProxyConfig or raw JSON (validated here; throws when invalid). */
  config: unknown;
  /** Where statsSocket / logSpoolDir default to when the config leaves them out. */
  runtimeDir?: string;
  log?: Logger;
  /** How long a refused client may keep its side open to read our answer. */
  lingerMs?: number;
  /** Retry binding ports that failed (EADDRINUSE) this often. */
  listenRetryMs?: number;
  /** Path of the config file, reported in stats. */
  configPath?: string | null;
  /**
   * Move established tunnels and large response bodies with splice(2) in a worker thread
   * (default on; LTEPROXY_SPLICE=0 turns it off). Falls back to the JS relay when unavailable.
   */
  splice?: boolean | { pipeBytes?: number; workerUrl?: string | URL };
  /** Smallest Content-Length remainder handed to the splice relay (default 256 KiB). */
  spliceBodyMin?: number;
  /** Bytes a tunnel relays in JS before the splice relay takes it (default 128 KiB; 0 = at once). */
  spliceTunnelMin?: number;
}

export type ReloadResult =
  | { ok: true; version: string | number; added: number[]; removed: number[]; changed: number[]; failed: { port: number; error: string }[] }
  | { ok: false; error: string };

export interface ProxyEngine {
  /** Validates and applies a new config. A bad one is refused and the old one stays in force. */
  reload(config: unknown): ReloadResult;
  stats(): EngineStats;
  /** Stops accepting, lets connections finish for up to `drainMs`, then closes the rest. */
  stop(opts?: { drainMs?: number }): Promise<void>;
  /** Records a config problem found outside reload (unreadable file) for /healthz. */
  noteConfigError(message: string): void;
  /** The config in force. */
  readonly config: ProxyConfig;
}

function spliceRelayFor(o: NonNullable<ProxyEngineOptions["splice"]>, log: Logger): SpliceRelay | null {
  if (o === false) return null;
  return SpliceRelay.create({ log, ...(o === true ? {} : o) });
}

export async function startProxyEngine(opts: ProxyEngineOptions): Promise<ProxyEngine> {
  const log = opts.log ?? childLogger("proxy");
  const runtimeDir = opts.runtimeDir ?? defaultRuntimeDir();
  let config = parseProxyConfig(opts.config);
  const startedAt = new Date();
  const ctx: EngineContext = {
    log,
    verifier: createPasswordVerifier(),
    sweeper: new Sweeper(sweepIntervalFor(config.timeouts)),
    timeouts: config.timeouts,
    spool: null,
    targets: createTargetPolicy({ allowLocal: config.allowLocalTargets }),
    stopping: false,
    lingerMs: opts.lingerMs ?? 1000,
    splice: spliceRelayFor(opts.splice ?? process.env.LTEPROXY_SPLICE !== "0", log),
    // Below this, handing over costs more than copying: one message to the worker and back.
    spliceBodyMin: opts.spliceBodyMin ?? 256 * 1024,
    spliceTunnelMin: opts.spliceTunnelMin ?? 128 * 1024,
  };
  const ports = new Map<number, PortRuntime>();
  const draining = new Set<PortRuntime>();
  let statsServer: StatsServer | null = null;
  let lastError: string | null = null;
  let reloads = 0;
  let loadedAt: Date | null = null;

  const pathsOf = (c: ProxyConfig) => {
    const d = defaultPaths(runtimeDir);
    return { statsSocket: c.statsSocket ?? d.statsSocket, logSpoolDir: c.logSpoolDir ?? d.logSpoolDir };
  };

  function applyOutputs(next: ProxyConfig, prev: ProxyConfig | null): void {
    const p = pathsOf(next);
    const old = prev ? pathsOf(prev) : null;
    const spoolChanged =
      !old || old.logSpoolDir !== p.logSpoolDir || prev!.spool.rollEntries !== next.spool.rollEntries || prev!.spool.rollSeconds !== next.spool.rollSeconds;
    if (spoolChanged) {
      ctx.spool?.close();
      ctx.spool = new ConnLogSpool({ dir: p.logSpoolDir, rollSeconds: next.spool.rollSeconds, rollEntries: next.spool.rollEntries, log });
    }
    if (!old || old.statsSocket !== p.statsSocket) {
      statsServer?.stop();
      statsServer = null;
      try {
        statsServer = startStatsServer(p.statsSocket, stats);
      } catch (e) {
        log.error({ err: e, path: p.statsSocket }, "cannot open the stats socket");
      }
    }
  }

  function bind(rt: PortRuntime, failed: { port: number; error: string }[]): void {
    if (!rt.listen()) {
      failed.push({ port: rt.cfg.port, error: rt.listenError ?? "" });
      log.error({ port: rt.cfg.port, id: rt.cfg.id, error: rt.listenError }, "cannot listen; will retry");
    }
  }

  function retire(rt: PortRuntime): void {
    draining.add(rt);
    rt.onDrained = () => draining.delete(rt);
    rt.drain();
  }

  function applyPorts(next: ProxyConfig): Omit<Extract<ReloadResult, { ok: true }>, "ok" | "version"> {
    const added: number[] = [];
    const removed: number[] = [];
    const changed: number[] = [];
    const failed: { port: number; error: string }[] = [];
    const wanted = new Map(next.ports.map((p) => [p.port, p]));
    for (const [num, rt] of ports) {
      const want = wanted.get(num);
      if (!want || want.listen !== rt.cfg.listen) {
        ports.delete(num);
        retire(rt);
        if (!want) removed.push(num);
      }
    }
    for (const cfg of next.ports) {
      const rt = ports.get(cfg.port);
      if (rt) {
        if (JSON.stringify(rt.cfg) !== JSON.stringify(cfg) || next.whitelist.join() !== config.whitelist.join()) {
          rt.update(cfg, next.whitelist);
          changed.push(cfg.port);
        }
        if (!rt.listener) bind(rt, failed);
        continue;
      }
      const fresh = new PortRuntime(ctx, cfg, next.whitelist);
      ports.set(cfg.port, fresh);
      added.push(cfg.port);
      bind(fresh, failed);
    }
    return { added, removed, changed, failed };
  }

  function reload(input: unknown): ReloadResult {
    let next: ProxyConfig;
    try {
      next = parseProxyConfig(input);
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      log.error({ err: e }, "proxy config refused; the previous one stays in force");
      return { ok: false, error: lastError };
    }
    const prev = config;
    ctx.timeouts = next.timeouts;
    ctx.targets = createTargetPolicy({ allowLocal: next.allowLocalTargets });
    ctx.sweeper.setInterval(sweepIntervalFor(next.timeouts));
    const diff = applyPorts(next);
    config = next;
    applyOutputs(next, prev);
    lastError = null;
    reloads++;
    loadedAt = new Date();
    log.info({ version: next.version, ...diff }, "proxy config applied");
    return { ok: true, version: next.version, ...diff };
  }

  function stats(): EngineStats {
    const list = [...ports.values(), ...draining].map((rt) => rt.stats());
    const totals = { accepted: 0, connections: 0, bytesUp: 0, bytesDown: 0, authFailures: 0 };
    let active = 0;
    for (const p of list) {
      totals.accepted += p.accepted;
      totals.connections += p.connections;
      totals.bytesUp += p.bytesUp;
      totals.bytesDown += p.bytesDown;
      totals.authFailures += p.authFailures;
      active += p.active;
    }
    return {
      version: config.version,
      startedAt: startedAt.toISOString(),
      uptimeMs: Date.now() - startedAt.getTime(),
      active,
      totals,
      ports: list,
      config: { path: opts.configPath ?? null, lastError, reloads, loadedAt: loadedAt?.toISOString() ?? null },
      spool: { written: ctx.spool?.written ?? 0, dropped: ctx.spool?.dropped ?? 0, rolled: ctx.spool?.rolled ?? 0 },
      passwordChecks: ctx.verifier.computed,
      passwordShed: ctx.verifier.shed,
      splice: ctx.splice
        ? { enabled: !ctx.splice.broken, active: ctx.splice.active, started: ctx.splice.started, fallbacks: ctx.splice.fallbacks, error: ctx.splice.broken }
        : { enabled: false, active: 0, started: 0, fallbacks: 0, error: null },
    };
  }

  // Ports that could not bind (another process held them) are retried quietly.
  const retry = setInterval(() => {
    for (const rt of ports.values()) if (!rt.listener && rt.listen()) log.info({ port: rt.cfg.port }, "listening after retry");
  }, opts.listenRetryMs ?? 5000);
  retry.unref?.();

  const initial = applyPorts(config);
  applyOutputs(config, null);
  loadedAt = new Date();
  log.info({ version: config.version, ports: config.ports.length, failed: initial.failed }, "proxy engine started");

  let stopped: Promise<void> | null = null;
  async function stop({ drainMs = 5000 } = {}): Promise<void> {
    if (stopped) return stopped;
    stopped = (async () => {
      ctx.stopping = true;
      clearInterval(retry);
      for (const rt of [...ports.values(), ...draining]) rt.stopListening();
      const all = () => [...ports.values(), ...draining].flatMap((rt) => rt.allConns());
      for (const c of all()) if (!c.handler || c.handler.isIdle?.()) c.close("shutdown");
      const until = Date.now() + drainMs;
      while (all().length > 0 && Date.now() < until) await Bun.sleep(25);
      for (const c of all()) c.close("shutdown", true);
      ctx.sweeper.stop();
      ctx.splice?.stop();
      ctx.spool?.close();
      statsServer?.stop();
      log.info("proxy engine stopped");
    })();
    return stopped;
  }

  return {
    reload,
    stats,
    stop,
    noteConfigError(message: string) {
      lastError = message;
    },
    get config() {
      return config;
    },
  };
}
