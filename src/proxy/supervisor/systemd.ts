/**
 * `systemd` backend (proxy.supervisor = "systemd", what the installer configures). The data plane runs in units the
 * installer laid down (systemd/), independent of lteproxy.service, so a control-plane restart never touches it.
 *
 * - engine builtin: writes `<runtime dir>/proxy.json` atomically; lteproxy-proxy.service reloads it on its own
 *   (inotify). systemctl is called only when needed: `start` when the unit is not active, `reload` (SIGHUP) when the
 *   engine still reports an older config version a while after the write, `restart` when it is active but its stats
 *   socket does not answer.
 * - engine 3proxy: one `3proxy@<imei>.service` per online modem, see three-proxy-backend.ts.
 */
import { join } from "node:path";
import { writeProxyConfigFile } from "../engine/config-file.ts";
import type { ProxyConfigInput } from "../engine/config-schema.ts";
import { childLogger } from "../../lib/logger.ts";
import { engineRequest } from "./stats-client.ts";
import { createSystemctl, unitState, type SystemctlRunner } from "./systemctl.ts";
import { createThreeProxySupervisor, type ThreeProxyBackendOptions } from "./three-proxy-backend.ts";
import { systemdInstances } from "./three-proxy-instances.ts";
import type { DataPlaneStatus, ProxySupervisor } from "./types.ts";

const log = childLogger("proxy-systemd");

export const BUILTIN_UNIT = "lteproxy-proxy.service";

export interface SystemdSupervisorOptions {
  engine: "builtin" | "3proxy";
  /** Shared with lteproxy-proxy.service (Environment=LTEPROXY_RUNTIME_DIR=/run/lteproxy). */
  runtimeDir: string;
  systemctl?: SystemctlRunner;
  /** How long the engine may take to pick up a new file by itself before it gets a `systemctl reload`. */
  reloadGraceMs?: number;
  /** How often to check that the engine (or each 3proxy port) is alive. Default 5 s; 0 = only on apply. */
  checkMs?: number;
  /** Engine 3proxy: where the passwords come from, file locations, probing (see ThreeProxyBackendOptions). */
  threeProxy?: Omit<ThreeProxyBackendOptions, "instances">;
}

type HealthReply = { version?: string | number; uptimeMs?: number; ok?: boolean } | null;

export function createSystemdSupervisor(opts: SystemdSupervisorOptions): ProxySupervisor {
  const systemctl = opts.systemctl ?? createSystemctl();
  if (opts.engine === "3proxy") {
    if (!opts.threeProxy) throw new Error("createSystemdSupervisor: engine 3proxy needs threeProxy.lookupUsers");
    return createThreeProxySupervisor({ checkMs: opts.checkMs, ...opts.threeProxy, instances: systemdInstances(systemctl) });
  }
  return createBuiltinSystemdSupervisor(opts, systemctl);
}

function createBuiltinSystemdSupervisor(opts: SystemdSupervisorOptions, systemctl: SystemctlRunner): ProxySupervisor {
  const configPath = join(opts.runtimeDir, "proxy.json");
  const statsSocket = join(opts.runtimeDir, "proxy-stats.sock");
  const graceMs = opts.reloadGraceMs ?? 2000;
  let desired: ProxyConfigInput | undefined;
  let writtenAt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let ensuring: Promise<void> | undefined;

  const health = () => engineRequest(statsSocket, "/healthz") as Promise<HealthReply>;
  const ctl = async (verb: string) => {
    const r = await systemctl([verb, BUILTIN_UNIT]);
    if (r.code !== 0) log.error({ verb, code: r.code, err: (r.stderr || r.stdout).trim() }, "systemctl failed");
    else log.info({ verb }, `systemctl ${verb} ${BUILTIN_UNIT}`);
    return r.code === 0;
  };

  /** The one decision: is a systemctl call needed to make the engine run `desired`? */
  async function ensure(): Promise<void> {
    if (stopped || !desired) return;
    const h = await health();
    if (h) {
      if (String(h.version) === String(desired.version)) return;
      // The engine reloads on inotify; nudge it with SIGHUP only when it missed the change.
      if (Date.now() - writtenAt >= graceMs) await ctl("reload-or-restart");
      return;
    }
    const state = await unitState(systemctl, BUILTIN_UNIT);
    if (state === "active" || state === "reloading") {
      // Running but not answering: give a freshly started engine a moment, then restart it.
      await Bun.sleep(500);
      if (await health()) return;
      await ctl("restart");
    } else if (state !== "activating") {
      await ctl("start");
    }
  }

  const ensureOnce = () => {
    ensuring ??= ensure().catch((e) => log.error({ err: (e as Error).message }, "data plane check failed")).finally(() => {
      ensuring = undefined;
    });
    return ensuring;
  };

  return {
    async apply(config) {
      desired = config;
      writeProxyConfigFile(configPath, config);
      writtenAt = Date.now();
      await ensureOnce();
      if (!timer && (opts.checkMs ?? 5000) > 0) {
        timer = setInterval(() => void ensureOnce(), opts.checkMs ?? 5000);
        timer.unref?.();
      }
    },
    async status(): Promise<DataPlaneStatus> {
      const h = await health();
      if (!h) return { alive: false, detail: `no answer on ${statsSocket} (systemctl status ${BUILTIN_UNIT})` };
      return { alive: true, version: h.version, uptimeS: h.uptimeMs !== undefined ? Math.round(h.uptimeMs / 1000) : undefined };
    },
    stats: () => engineRequest(statsSocket, "/stats"),
    async stop(o = {}) {
      stopped = true;
      if (timer) clearInterval(timer);
      await ensuring;
      if (o.stopDataPlane) await ctl("stop");
    },
  };
}
