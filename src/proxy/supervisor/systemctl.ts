/**
 * systemctl behind an injectable runner: the systemd backends call it, tests pass a fake `systemctl` script that
 * records its arguments (systemd is not running in CI). On an appliance the control plane runs as user lteproxy;
 * the polkit rule the installer writes lets it start/stop/reload exactly lteproxy-proxy and 3proxy@* (appliance/).
 */
import { run, type ExecResult } from "../../lib/exec.ts";

export type SystemctlRunner = (args: string[]) => Promise<ExecResult>;

export interface SystemctlOptions {
  /** argv prefix (default ["systemctl"]); a test points it at a recording script. */
  command?: string[];
  timeoutMs?: number;
}

/** A runner that never throws on a non-zero exit (is-active answers 3 for "inactive"): callers read `code`. */
export function createSystemctl(opts: SystemctlOptions = {}): SystemctlRunner {
  const command = opts.command ?? ["systemctl"];
  return (args) => run([...command, ...args], { check: false, timeoutMs: opts.timeoutMs ?? 30_000 });
}

/** `systemctl is-active UNIT` → "active", "inactive", "failed", "activating", … ("unknown" when it printed nothing). */
export async function unitState(systemctl: SystemctlRunner, unit: string): Promise<string> {
  const r = await systemctl(["is-active", unit]);
  return r.stdout.trim().split("\n")[0] || "unknown";
}

export interface UnitListing {
  unit: string;
  /** ACTIVE column: active, inactive, failed, activating, deactivating, reloading. */
  active: string;
  /** SUB column: running, dead, exited, auto-restart, … */
  sub: string;
}

/** Loaded units matching a glob, e.g. "3proxy@*.service", parsed from `list-units --plain --no-legend`. */
export async function listUnits(systemctl: SystemctlRunner, pattern: string): Promise<UnitListing[]> {
  const r = await systemctl(["list-units", "--all", "--plain", "--no-legend", "--no-pager", "--type=service", pattern]);
  if (r.code !== 0) return [];
  return parseListUnits(r.stdout);
}

/** Pure: `UNIT LOAD ACTIVE SUB DESCRIPTION…` lines → listings (a leading "●" of failed units is dropped). */
export function parseListUnits(stdout: string): UnitListing[] {
  const out: UnitListing[] = [];
  for (const line of stdout.split("\n")) {
    const f = line.replace(/^\s*[●*]\s*/, "").trim().split(/\s+/);
    if (f.length < 4 || !f[0]!.endsWith(".service")) continue;
    out.push({ unit: f[0]!, active: f[2]!, sub: f[3]! });
  }
  return out;
}
