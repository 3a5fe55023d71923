/**
 * `child` backend: runs `lteproxy proxy --config FILE` as a detached process with its output in a log file, so it
 * survives a crash or kill -9 of the control plane (no pipe to break, own session). On start the supervisor first
 * asks the stats socket whether an engine already runs and adopts it instead of starting a second one.
 * Config changes reach the engine through the atomically replaced file (the engine watches it) plus SIGHUP.
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeProxyConfigFile } from "../engine/config-file.ts";
import type { ProxyConfigInput } from "../engine/config-schema.ts";
import { engineRequest } from "./stats-client.ts";
import type { DataPlaneStatus, ProxySupervisor } from "./types.ts";
import { backoffMs } from "../../lib/clock.ts";
import { childLogger } from "../../lib/logger.ts";
import { selfCommand } from "../../lib/self.ts";
import { pidAlive } from "../../lib/pid-alive.ts";

const log = childLogger("proxy-supervisor");

export interface ChildSupervisorOptions {
  runtimeDir: string;
  /** argv prefix that runs lteproxy (default: this program). */
  command?: string[];
  /** Wrap the engine, e.g. ["ip", "netns", "exec", "box"] in the lab. */
  wrapper?: string[];
  /** How often to check that the engine is alive. */
  checkMs?: number;
}

export function createChildSupervisor(opts: ChildSupervisorOptions): ProxySupervisor {
  const configPath = join(opts.runtimeDir, "proxy.json");
  const statsSocket = join(opts.runtimeDir, "proxy-stats.sock");
  const pidFile = join(opts.runtimeDir, "proxy.pid");
  const logPath = join(opts.runtimeDir, "proxy.log");
  let desired: ProxyConfigInput | undefined;
  let pid: number | undefined;
  let failures = 0;
  let stopped = false;
  let starting: Promise<void> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const readPid = (): number | undefined => {
    try {
      const n = Number(readFileSync(pidFile, "utf8").trim());
      return Number.isInteger(n) && n > 0 && pidAlive(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };

  async function healthy(): Promise<boolean> {
    return (await engineRequest(statsSocket, "/healthz")) !== null;
  }

  async function launch(): Promise<void> {
    mkdirSync(opts.runtimeDir, { recursive: true });
    const out = openSync(logPath, "a");
    const argv = [...(opts.wrapper ?? []), ...(opts.command ?? selfCommand()), "proxy", "--config", configPath];
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ["ignore", out, out],
      env: { ...process.env, LTEPROXY_RUNTIME_DIR: opts.runtimeDir },
    });
    closeSync(out);
    child.unref();
    pid = child.pid;
    if (pid) writeFileSync(pidFile, String(pid));
    log.info({ pid, argv }, "data plane started");
    for (let i = 0; i < 100; i++) {
      if (await healthy()) return;
      if (pid && !pidAlive(pid)) break;
      await Bun.sleep(50);
    }
    throw new Error(`data plane did not become healthy; see ${logPath}`);
  }

  /** Adopt a running engine or start one; restart with backoff when it died. */
  async function ensureRunning(): Promise<void> {
    if (stopped || !desired) return;
    if (await healthy()) {
      pid ??= readPid();
      failures = 0;
      return;
    }
    const existing = readPid();
    if (existing) {
      // alive but not answering yet (just started, or busy): give it a moment before declaring it dead
      await Bun.sleep(300);
      if (await healthy()) return;
      log.warn({ pid: existing }, "data plane not answering: restarting it");
      try {
        process.kill(existing, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (failures > 0) await Bun.sleep(backoffMs(failures, 200, 10_000));
    try {
      await launch();
      failures = 0;
    } catch (error) {
      failures++;
      log.error({ err: (error as Error).message, failures }, "data plane start failed");
    }
  }

  const ensure = () => {
    starting ??= ensureRunning().finally(() => {
      starting = undefined;
    });
    return starting;
  };

  return {
    async apply(config) {
      desired = config;
      writeProxyConfigFile(configPath, config);
      const running = pid ?? readPid();
      if (running) {
        try {
          process.kill(running, "SIGHUP");
        } catch {
          // gone: ensure() restarts it
        }
      }
      await ensure();
      timer ??= setInterval(() => void ensure(), opts.checkMs ?? 2000);
    },
    async status(): Promise<DataPlaneStatus> {
      const h = (await engineRequest(statsSocket, "/healthz")) as { version?: string | number; uptimeS?: number; pid?: number } | null;
      if (!h) return { alive: false, pid: readPid(), detail: `no answer on ${statsSocket}` };
      return { alive: true, version: h.version, uptimeS: h.uptimeS, pid: h.pid ?? readPid() };
    },
    stats() {
      return engineRequest(statsSocket, "/stats");
    },
    async stop(o = {}) {
      stopped = true;
      if (timer) clearInterval(timer);
      await starting?.catch(() => undefined);
      if (o.stopDataPlane) {
        const running = pid ?? readPid();
        if (running) {
          try {
            process.kill(running, "SIGTERM");
          } catch {
            // already gone
          }
          for (let i = 0; i < 100 && pidAlive(running); i++) await Bun.sleep(50);
          if (pidAlive(running)) process.kill(running, "SIGKILL");
        }
        rmSync(pidFile, { force: true });
      }
    },
  };
}
