/**
 * `lteproxy down`: the emergency stop. Withdraws every proxy port and every route lteproxy owns, and says what it
 * did. Needs no database (it is what you run when things are on fire), and does each step even when an earlier one
 * failed:
 *   1. the control plane (systemd: `systemctl stop lteproxy.service`), so it does not bring ports back on its next
 *      tick; a `serve`/`demo` run by hand must be stopped by whoever started it (reported when its engine is found);
 *   2. the data plane: lteproxy-proxy.service and every 3proxy@*.service under systemd; the engine the child
 *      supervisor started (its pid file in the runtime dir); 3proxy processes of the process mode (pid files);
 *   3. routing: the reconciler applied with no modems removes every owned rule and route. The unreachable guard of
 *      an address that is still on an interface stays (it keeps that address from leaking through main).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config.ts";
import { RoutingReconciler } from "../../net/routing-reconciler.ts";
import { createSystemctl, listUnits, unitState, type SystemctlRunner } from "../../proxy/supervisor/systemctl.ts";
import { pidAlive } from "../../lib/pid-alive.ts";

export interface DownStep {
  step: string;
  ok: boolean;
  detail: string;
}

export interface DownDeps {
  systemctl?: SystemctlRunner;
  /** Whether systemd manages this box (default: /run/systemd/system exists). */
  systemd?: boolean;
  /** Routing reconciler (tests pass one bound to their namespace). */
  routing?: Pick<RoutingReconciler, "apply">;
  /** 3proxy pid directory of the process mode (default /run/3proxy). */
  threeProxyRunDir?: string;
  /** Grace before SIGKILL (default 5 s). */
  killAfterMs?: number;
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** SIGTERM, wait, SIGKILL. True when the process is gone. */
async function terminate(pid: number, graceMs: number): Promise<boolean> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return !pidAlive(pid);
  }
  const end = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < end) await Bun.sleep(50);
  if (pidAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    await Bun.sleep(100);
  }
  return !pidAlive(pid);
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function stopUnits(systemctl: SystemctlRunner, steps: DownStep[]): Promise<void> {
  for (const unit of ["lteproxy.service", "lteproxy-proxy.service"]) {
    const before = await unitState(systemctl, unit);
    if (before !== "active" && before !== "activating" && before !== "reloading") {
      steps.push({ step: `stop ${unit}`, ok: true, detail: `was ${before}` });
      continue;
    }
    const r = await systemctl(["stop", unit]);
    steps.push({ step: `stop ${unit}`, ok: r.code === 0, detail: r.code === 0 ? "stopped" : (r.stderr || r.stdout).trim() || `exit ${r.code}` });
  }
  const instances = (await listUnits(systemctl, "3proxy@*.service")).filter((u) => u.active !== "inactive");
  for (const u of instances) {
    const r = await systemctl(["stop", u.unit]);
    steps.push({ step: `stop ${u.unit}`, ok: r.code === 0, detail: r.code === 0 ? "stopped" : (r.stderr || r.stdout).trim() || `exit ${r.code}` });
  }
  if (instances.length === 0) steps.push({ step: "stop 3proxy@*", ok: true, detail: "no instance running" });
}

/** Runs every step; returns what each did. */
export async function runDown(config: Config, deps: DownDeps = {}): Promise<DownStep[]> {
  const steps: DownStep[] = [];
  const graceMs = deps.killAfterMs ?? 5000;
  const systemd = deps.systemd ?? existsSync("/run/systemd/system");
  if (systemd) await stopUnits(deps.systemctl ?? createSystemctl(), steps);

  // The child supervisor's engine (demo, lab, a box without systemd).
  const pidFile = join(config.paths.runtime_dir, "proxy.pid");
  const pid = readPid(pidFile);
  if (pid && pidAlive(pid) && cmdline(pid).includes("proxy")) {
    const gone = await terminate(pid, graceMs);
    steps.push({ step: "stop data plane", ok: gone, detail: `${gone ? "stopped" : "could not stop"} lteproxy proxy (pid ${pid}); ` +
      "a control plane started by hand (serve, demo) restarts it: stop that too" });
    if (gone) rmSync(pidFile, { force: true });
  } else if (!systemd) {
    steps.push({ step: "stop data plane", ok: true, detail: `no engine running (${pidFile})` });
  }

  // 3proxy instances of the process mode: <run dir>/<imei>.pid, only when the process runs that instance's config.
  const runDir = deps.threeProxyRunDir ?? "/run/3proxy";
  let stopped3 = 0;
  const failed3: string[] = [];
  for (const name of existsSync(runDir) ? readdirSync(runDir).filter((n) => n.endsWith(".pid")) : []) {
    const p = readPid(join(runDir, name));
    const imei = name.slice(0, -4);
    if (!p || !pidAlive(p) || !cmdline(p).some((a) => a.endsWith(`/${imei}.cfg`))) continue;
    if (await terminate(p, graceMs)) stopped3++;
    else failed3.push(imei);
  }
  if (stopped3 || failed3.length) {
    steps.push({ step: "stop 3proxy processes", ok: failed3.length === 0, detail: `${stopped3} stopped${failed3.length ? `; still running: ${failed3.join(", ")}` : ""}` });
  }

  // Routing: everything owned goes, except guards of addresses still present.
  try {
    const routing = deps.routing ?? new RoutingReconciler({
      netns: config.net.netns || undefined,
      owned: {
        priorityMin: config.net.rule_priority_min, priorityMax: config.net.rule_priority_max,
        tableMin: config.proxy.table_min, tableMax: config.proxy.table_max,
      },
    });
    const r = await routing.apply([]);
    const guards = r.guards.map((g) => g.address);
    steps.push({
      step: "remove routes and rules",
      ok: r.failures.length === 0,
      detail: `${r.removed} removed` + (guards.length ? `; unreachable guard kept for ${guards.join(", ")} (address still on an interface)` : "") +
        (r.failures.length ? `; failed: ${r.failures.map((f) => f.line).join("; ")}` : ""),
    });
  } catch (error) {
    steps.push({ step: "remove routes and rules", ok: false, detail: (error as Error).message });
  }
  return steps;
}

export function formatSteps(steps: DownStep[]): string {
  const w = Math.max(...steps.map((s) => s.step.length), 4);
  return steps.map((s) => `${s.ok ? "ok  " : "FAIL"}  ${s.step.padEnd(w)}  ${s.detail}`).join("\n");
}
