/**
 * The 3proxy data plane behind the ProxySupervisor contract: one 3proxy instance per online modem, rendered from the
 * same desired config the built-in engine gets (three-proxy-desired.ts), started/reloaded/stopped through an
 * instance controller (systemd units or plain processes, three-proxy-instances.ts).
 *
 * 3proxy facts that shape it (3proxy.md §2-3): it exits 0 on a config error, and a reload that fails leaves it alive
 * with NO listeners. So after every start and reload each touched port is health-checked (TCP connect, retried for
 * ~1.5 s) and a dead instance is restarted; a periodic check repeats this for every port. Ports whose modem is not
 * online get no instance (the port refuses connections; routing guards keep it from leaking either way).
 *
 * DNS: 3proxy's nserver sockets are unbound (3proxy.md §3), so every rendered config points nserver at the modem's
 * loopback dns-relay, and each apply writes dns-relay.json (all modems with an instance) for `lteproxy dns-relay`,
 * before any instance starts or reloads.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { childLogger } from "../../lib/logger.ts";
import type { Sql } from "../../db/client.ts";
import type { ProxyConfigInput } from "../engine/config-schema.ts";
import { defaultDnsRelayConfigPath, writeDnsRelayFile } from "../dns-relay/config-file.ts";
import type { DnsRelayEntry } from "../dns-relay/relay.ts";
import { writeThreeProxyFiles } from "../three-proxy/atomic-write.ts";
import type { ThreeProxyModem } from "../three-proxy/model.ts";
import { defaultThreeProxyPaths, renderThreeProxyConfig, type RenderOptions } from "../three-proxy/render.ts";
import { dnsRelayEntries, planThreeProxyPort, type ThreeProxyUserSource } from "./three-proxy-desired.ts";
import type { ThreeProxyInstances } from "./three-proxy-instances.ts";
import { probeHostFor, waitForPort } from "./tcp-probe.ts";
import type { DataPlaneStatus, ProxySupervisor } from "./types.ts";

const log = childLogger("3proxy");

export interface ThreeProxyDirs {
  etc?: string;
  log?: string;
  state?: string;
  run?: string;
}

export interface ThreeProxyBackendOptions {
  instances: ThreeProxyInstances;
  /** Defaults: /etc/3proxy, /var/log/3proxy, /var/lib/3proxy, /run/3proxy (what 3proxy@.service expects). */
  dirs?: ThreeProxyDirs;
  /** Clear passwords and limits for the argon2 hashes in the desired config (default source: dbUserLookup). */
  lookupUsers(hashes: string[]): Promise<Map<string, ThreeProxyUserSource>>;
  portOffset?: number;
  /** Address to probe a port on (default: the listen address, loopback for a wildcard). */
  probeHost?(port: number, listen: string): string;
  /** Periodic health check of every port; 0 disables it. Default 10 s. */
  checkMs?: number;
  /** How long a port may take to accept after a start or reload before it counts as dead. Default 1500 ms. */
  healthWithinMs?: number;
  /** Wait after a reload before probing: the old listeners accept until the new ones replaced them. Default 400 ms. */
  settleMs?: number;
  /** Owner of the rendered files (the installer's lteproxy-3proxy user reads them through group lteproxy). */
  fileOwner?: { uid?: number; gid?: number };
  render?: RenderOptions;
  /**
   * Where the per-modem DNS relay's config goes (read by `lteproxy dns-relay`). Default
   * $LTEPROXY_RUNTIME_DIR/dns-relay.json; null writes no file (an in-process relay below, or tests).
   */
  dnsRelayFile?: string | null;
  /** An in-process relay (createDnsRelay) that gets the same entries on every apply (lab, child mode). */
  dnsRelay?: { apply(entries: DnsRelayEntry[]): Promise<void> | void; close?(): Promise<void> };
}

interface PortHealth {
  imei: string;
  port: number;
  listen: string;
  listening: boolean;
  restarts: number;
  checkedAt: string;
  error?: string;
}

/** Reads clear passwords and limits from proxy_users, by the hash the desired config carries. */
export function dbUserLookup(sql: Sql): (hashes: string[]) => Promise<Map<string, ThreeProxyUserSource>> {
  return async (hashes) => {
    if (hashes.length === 0) return new Map();
    const rows = await sql`
      select id, password, password_hash, quota_mb, bandwidth_bps from proxy_users
      where enabled and password_hash = any(${hashes}::text[])`;
    return new Map(rows.map((r) => [r.password_hash as string, {
      password: r.password as string, id: Number(r.id), quotaMb: r.quota_mb as number | null, bandwidthBps: r.bandwidth_bps as number | null,
    }]));
  };
}

/** IMEIs of the configs we rendered earlier (first line of every rendered cfg), also those of a previous run. */
function renderedInstances(etc: string): string[] {
  let names: string[];
  try {
    names = readdirSync(etc).filter((n) => n.endsWith(".cfg"));
  } catch {
    return [];
  }
  return names.filter((n) => {
    try {
      return readFileSync(join(etc, n), "utf8").startsWith("# Generated by lteproxy");
    } catch {
      return false;
    }
  }).map((n) => n.slice(0, -4));
}

/**
 * 3proxy refuses to start when its pidfile or log directory is missing. Under systemd the unit creates them
 * (RuntimeDirectory=, LogsDirectory=, StateDirectory=) and this best-effort mkdir finds them; in process mode it
 * creates them.
 */
function ensureDirs(dirs: ThreeProxyDirs): void {
  for (const d of [dirs.etc ?? "/etc/3proxy", dirs.log ?? "/var/log/3proxy", dirs.state ?? "/var/lib/3proxy", dirs.run ?? "/run/3proxy"]) {
    try {
      mkdirSync(d, { recursive: true, mode: 0o750 });
    } catch {
      // not ours to create (unprivileged control plane): systemd makes it when the unit starts
    }
  }
}

async function limited<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(n, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

export function createThreeProxySupervisor(opts: ThreeProxyBackendOptions): ProxySupervisor & { health(): PortHealth[] } {
  const dirs = opts.dirs ?? {};
  const paths = (imei: string) => defaultThreeProxyPaths(imei, dirs);
  const probeHost = opts.probeHost ?? ((_port: number, listen: string) => probeHostFor(listen));
  let models = new Map<string, ThreeProxyModem>();
  let knownIds = new Set<string>();
  let version: string | number | undefined;
  let skipped: Array<{ imei: string; why: string }> = [];
  const health = new Map<string, PortHealth>();
  let queue: Promise<unknown> = Promise.resolve();
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn);
    queue = next.catch(() => undefined);
    return next;
  };

  /** Probes each model's port; restarts the dead ones once and probes again. */
  async function check(list: ThreeProxyModem[], withinMs: number): Promise<void> {
    await limited(list, 16, async (m) => {
      const host = probeHost(m.port, m.listen);
      const prev = health.get(m.imei);
      let ok = await waitForPort(host, m.port, { withinMs });
      let restarts = prev?.restarts ?? 0;
      let error: string | undefined;
      if (!ok && !stopped) {
        log.warn({ imei: m.imei, port: m.port }, "3proxy port not listening: restarting the instance");
        try {
          await opts.instances.restart(m.imei, paths(m.imei));
          restarts++;
          ok = await waitForPort(host, m.port, { withinMs: Math.max(withinMs, 3000) });
        } catch (e) {
          error = (e as Error).message;
        }
        if (!ok) error ??= `port ${m.port} still not listening after a restart (see journalctl -u 3proxy@${m.imei})`;
      }
      health.set(m.imei, { imei: m.imei, port: m.port, listen: m.listen, listening: ok, restarts, checkedAt: new Date().toISOString(), error });
    });
  }

  /**
   * Hands the relay its entries before 3proxy starts asking it. A failure is logged, not thrown: the instances still
   * get their configs, and their lookups get no answer (never one through another route) until the relay catches up.
   */
  async function publishDnsRelay(ver: string | number | undefined, entries: DnsRelayEntry[]): Promise<void> {
    const file = opts.dnsRelayFile === undefined ? defaultDnsRelayConfigPath() : opts.dnsRelayFile;
    try {
      if (file) writeDnsRelayFile(file, { version: ver ?? "", entries }, opts.fileOwner ?? {});
      await opts.dnsRelay?.apply(entries);
    } catch (e) {
      log.error({ err: (e as Error).message, file }, "DNS relay config could not be published: 3proxy lookups will fail");
    }
  }

  async function applyNow(desired: ProxyConfigInput): Promise<void> {
    const hashes = [...new Set((desired.ports ?? []).flatMap((p) => (p.users ?? []).map((u) => u.passwordHash)))];
    const users = await opts.lookupUsers(hashes);
    const next = new Map<string, ThreeProxyModem>();
    const nextSkipped: typeof skipped = [];
    for (const port of desired.ports ?? []) {
      const plan = planThreeProxyPort(port, { global: desired, users, paths, portOffset: opts.portOffset });
      if ("skip" in plan) nextSkipped.push({ imei: plan.imei, why: plan.skip });
      else {
        if (plan.missingUsers.length) log.warn({ imei: plan.imei, users: plan.missingUsers }, "users without a stored password are left out of 3proxy");
        next.set(plan.imei, plan.model);
      }
    }
    ensureDirs(dirs);
    await publishDnsRelay(desired.version, dnsRelayEntries(next.values()));
    const running = await opts.instances.running();
    const started: ThreeProxyModem[] = [];
    const reloaded: ThreeProxyModem[] = [];
    await limited([...next.values()], 8, async (m) => {
      try {
        const changed = writeThreeProxyFiles(renderThreeProxyConfig(m, opts.render), m.paths, opts.fileOwner ?? {});
        if (!running.has(m.imei)) {
          if (await opts.instances.start(m.imei, m.paths)) started.push(m);
          else if (changed) {
            await opts.instances.reload(m.imei, m.paths);
            reloaded.push(m);
          }
        } else if (changed) {
          await opts.instances.reload(m.imei, m.paths);
          reloaded.push(m);
        }
      } catch (e) {
        next.delete(m.imei);
        nextSkipped.push({ imei: m.imei, why: (e as Error).message });
        log.error({ imei: m.imei, err: (e as Error).message }, "3proxy instance could not be rendered or started");
      }
    });
    // Instances that should not run: stopped; files of ports that left the config entirely: removed.
    const ids = new Set((desired.ports ?? []).map((p) => p.id));
    await limited([...running].filter((imei) => !next.has(imei)), 8, async (imei) => {
      await opts.instances.stop(imei, paths(imei)).catch((e) => log.warn({ imei, err: (e as Error).message }, "3proxy stop failed"));
      health.delete(imei);
    });
    for (const imei of new Set([...knownIds, ...renderedInstances(dirs.etc ?? "/etc/3proxy")])) {
      if (ids.has(imei)) continue;
      rmSync(paths(imei).cfg, { force: true });
      rmSync(paths(imei).passwd, { force: true });
    }
    for (const imei of health.keys()) if (!next.has(imei)) health.delete(imei);
    models = next;
    knownIds = ids;
    skipped = nextSkipped;
    version = desired.version;
    if (reloaded.length) await Bun.sleep(opts.settleMs ?? 400);
    await check([...started, ...reloaded], opts.healthWithinMs ?? 1500);
  }

  return {
    apply(desired) {
      if (stopped) return Promise.reject(new AppError("SUPERVISOR_STOPPED", "the 3proxy supervisor was stopped"));
      const done = serial(() => applyNow(desired));
      if (!timer && (opts.checkMs ?? 10_000) > 0) {
        timer = setInterval(() => {
          if (!stopped) void serial(() => check([...models.values()], opts.healthWithinMs ?? 1500)).catch(() => undefined);
        }, opts.checkMs ?? 10_000);
        timer.unref?.();
      }
      return done;
    },
    async status(): Promise<DataPlaneStatus> {
      const dead = [...health.values()].filter((h) => !h.listening);
      const unchecked = [...models.keys()].filter((imei) => !health.has(imei));
      const parts = [`${models.size - dead.length - unchecked.length}/${models.size} 3proxy ports listening`];
      if (dead.length) parts.push(`dead: ${dead.map((d) => `${d.imei}:${d.port}`).join(", ")}`);
      if (skipped.length) parts.push(`no instance: ${skipped.map((s) => `${s.imei} (${s.why})`).join(", ")}`);
      return { alive: dead.length === 0, version, detail: parts.join("; ") };
    },
    async stats() {
      return { engine: "3proxy", version: version ?? null, ports: [...health.values()], skipped };
    },
    async stop(o = {}) {
      stopped = true;
      if (timer) clearInterval(timer);
      await queue.catch(() => undefined);
      if (o.stopDataPlane) {
        const running = await opts.instances.running();
        for (const imei of new Set([...running, ...models.keys()])) {
          await opts.instances.stop(imei, paths(imei)).catch((e) => log.warn({ imei, err: (e as Error).message }, "3proxy stop failed"));
        }
      }
      await opts.dnsRelay?.close?.();
    },
    health: () => [...health.values()],
  };
}
