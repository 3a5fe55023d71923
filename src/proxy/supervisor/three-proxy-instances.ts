/**
 * How 3proxy instances (one per modem, named by IMEI) are started, reloaded and stopped. `systemd` drives the
 * `3proxy@<imei>.service` template the installer lays down (systemd/3proxy@.service: it reads /etc/3proxy/%i.cfg);
 * `process` runs the binary directly, detached, for labs and tests where systemd is not running.
 * Reload is SIGUSR1 in both (3proxy.md §2); a failed reload is caught by the backend's port health check.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { childLogger } from "../../lib/logger.ts";
import { listUnits, type SystemctlRunner } from "./systemctl.ts";
import { pidAlive } from "../../lib/pid-alive.ts";

const log = childLogger("3proxy-instances");

export interface ThreeProxyInstanceFiles {
  cfg: string;
  /** The `pidfile` of the rendered config: 3proxy writes its own PID there. */
  pid: string;
}

export interface ThreeProxyInstances {
  readonly kind: "systemd" | "process";
  /** IMEIs of the instances that run now (systemd: active or activating units). */
  running(): Promise<Set<string>>;
  /** Starts the instance unless it runs already; true when it was started now (false: found running, adopted). */
  start(imei: string, files: ThreeProxyInstanceFiles): Promise<boolean>;
  reload(imei: string, files: ThreeProxyInstanceFiles): Promise<void>;
  restart(imei: string, files: ThreeProxyInstanceFiles): Promise<void>;
  stop(imei: string, files?: ThreeProxyInstanceFiles): Promise<void>;
}

export const unitFor = (imei: string) => `3proxy@${imei}.service`;

/** `3proxy@<imei>.service` through systemctl (the unit's ExecStart fixes the config path to /etc/3proxy/<imei>.cfg). */
export function systemdInstances(systemctl: SystemctlRunner): ThreeProxyInstances {
  const call = async (verb: string, imei: string) => {
    const r = await systemctl([verb, unitFor(imei)]);
    if (r.code !== 0) {
      throw new AppError("SYSTEMCTL_FAILED", `systemctl ${verb} ${unitFor(imei)} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`, {
        verb, unit: unitFor(imei), code: r.code,
      });
    }
  };
  return {
    kind: "systemd",
    async running() {
      const units = await listUnits(systemctl, "3proxy@*.service");
      const live = units.filter((u) => ["active", "activating", "reloading"].includes(u.active));
      return new Set(live.map((u) => u.unit.slice("3proxy@".length, -".service".length)));
    },
    async start(imei) {
      // `systemctl start` of an active unit is a no-op: ask first so the caller knows to reload changed files.
      const r = await systemctl(["is-active", unitFor(imei)]);
      if (r.stdout.trim() === "active") return false;
      await call("start", imei);
      return true;
    },
    reload: (imei) => call("reload", imei),
    restart: (imei) => call("restart", imei),
    stop: (imei) => call("stop", imei),
  };
}

export interface ProcessInstancesOptions {
  /** The 3proxy executable. */
  binary: string;
  /** argv prefix, e.g. ["ip", "netns", "exec", "box"] in the lab. `ip netns exec` execs, so the PID stays 3proxy's. */
  wrapper?: string[];
  /** Where stdout/stderr of each instance go (default: next to its pidfile, <imei>.out). */
  outputDir?: string;
  /**
   * Finds instances a previous control plane started (after a restart of this process): every `<imei>.pid` in
   * pidDir whose process runs `<cfgDir>/<imei>.cfg`.
   */
  scan?: { pidDir: string; cfgDir: string };
}

/** The PID in `files.pid` when that process still runs this config (guards against a recycled PID). */
function runningPid(files: ThreeProxyInstanceFiles): number | undefined {
  try {
    const pid = Number(readFileSync(files.pid, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return cmdline.includes(files.cfg) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Runs 3proxy processes directly (no systemd): detached, so they outlive a control-plane restart like the units. */
export function processInstances(opts: ProcessInstancesOptions): ThreeProxyInstances {
  const known = new Map<string, ThreeProxyInstanceFiles>();
  const spawned = new Map<string, number>();
  const pidOf = (imei: string, files?: ThreeProxyInstanceFiles) => {
    const f = files ?? known.get(imei);
    const fromFile = f ? runningPid(f) : undefined;
    if (fromFile) return fromFile;
    const pid = spawned.get(imei);
    return pid && pidAlive(pid) ? pid : undefined;
  };
  const start = async (imei: string, files: ThreeProxyInstanceFiles) => {
    known.set(imei, files);
    if (pidOf(imei, files)) return false;
    mkdirSync(dirname(files.pid), { recursive: true });
    const outDir = opts.outputDir ?? dirname(files.pid);
    mkdirSync(outDir, { recursive: true });
    const out = openSync(join(outDir, `${imei}.out`), "a");
    const argv = [...(opts.wrapper ?? []), opts.binary, files.cfg];
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", out, out] });
    closeSync(out);
    child.on("error", (error) => log.error({ imei, err: error.message }, "3proxy could not be started"));
    child.unref();
    if (child.pid) spawned.set(imei, child.pid);
    log.info({ imei, pid: child.pid }, "3proxy started");
    return true;
  };
  const stop = async (imei: string, files?: ThreeProxyInstanceFiles) => {
    const pid = pidOf(imei, files);
    known.delete(imei);
    spawned.delete(imei);
    if (!pid) return;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    // 3proxy needs about 3 s to exit on SIGTERM (its main loop sleeps between checks).
    for (let i = 0; i < 100 && pidAlive(pid); i++) await Bun.sleep(50);
    if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  };
  return {
    kind: "process",
    async running() {
      const out = new Set<string>();
      if (opts.scan) {
        let names: string[] = [];
        try {
          names = readdirSync(opts.scan.pidDir);
        } catch {
          // no pid dir yet: nothing was started
        }
        for (const name of names) {
          const imei = name.endsWith(".pid") ? name.slice(0, -4) : "";
          if (!imei || known.has(imei)) continue;
          const files = { pid: join(opts.scan.pidDir, name), cfg: join(opts.scan.cfgDir, `${imei}.cfg`) };
          if (runningPid(files)) known.set(imei, files);
        }
      }
      for (const imei of new Set([...known.keys(), ...spawned.keys()])) if (pidOf(imei)) out.add(imei);
      return out;
    },
    start,
    async reload(imei, files) {
      known.set(imei, files);
      const pid = pidOf(imei, files);
      if (!pid) {
        await start(imei, files);
        return;
      }
      process.kill(pid, "SIGUSR1");
    },
    async restart(imei, files) {
      await stop(imei, files);
      await start(imei, files);
    },
    stop,
  };
}
