/**
 * Doctor checks of the box itself (no database needed): udev rules installed, modems visible per slot,
 * ModemManager kept off our ports, qmicli runnable, clock sane. Each returns the CheckResult shape of
 * src/cli/doctor.ts; OS access goes through injectable runners so the checks are testable without a real box.
 */
import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config.ts";
import { run, type ExecResult } from "../../lib/exec.ts";
import type { CheckResult } from "../doctor.ts";

export type Runner = (argv: string[]) => Promise<ExecResult>;
export const defaultRunner: Runner = (argv) => run(argv, { check: false, timeoutMs: 10_000 }).catch((e: Error) => ({ code: 127, stdout: "", stderr: e.message }));

export const UDEV_RULE_PATHS = ["/etc/udev/rules.d/99-lteproxy-ec25.rules", "/lib/udev/rules.d/99-lteproxy-ec25.rules", "/usr/lib/udev/rules.d/99-lteproxy-ec25.rules"];
const ROLES = ["at", "modem", "qmi"] as const;

/** The rules file that names /dev/modems/<slot>/*; only required when the device dir is udev's (/dev/modems). */
export function checkUdevRules(config: Config, paths: string[] = UDEV_RULE_PATHS): CheckResult {
  const found = paths.find((p) => existsSync(p));
  if (found) return { name: "udev rules", level: "ok", detail: found };
  const needed = config.paths.device_dir === "/dev/modems";
  return {
    name: "udev rules", level: needed ? "fail" : "warn",
    detail: `99-lteproxy-ec25.rules not installed (${paths[0]})${needed ? ": no /dev/modems links will appear; re-run the installer" : ""}`,
  };
}

export interface SlotView {
  slot: string;
  /** Roles whose link resolves to a device. */
  present: string[];
  /** Roles whose link exists but points nowhere (modem re-enumerating or gone). */
  dangling: string[];
}

/** Reads <device dir>/<slot>/{at,modem,qmi}. */
export function readSlots(dir: string): SlotView[] {
  let slots: string[];
  try {
    slots = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return slots.flatMap((slot) => {
    const base = join(dir, slot);
    try {
      if (!statSync(base).isDirectory()) return [];
    } catch {
      return [];
    }
    const present: string[] = [];
    const dangling: string[] = [];
    for (const role of ROLES) {
      const p = join(base, role);
      let isLink = false;
      try {
        isLink = lstatSync(p) !== undefined;
      } catch {
        continue;
      }
      if (isLink && existsSync(p)) present.push(role);
      else dangling.push(role);
    }
    return [{ slot, present, dangling }];
  });
}

/** Every slot should have at, modem and qmi (a QMI-mode EC25); fewer means wrong composition or a modem in trouble. */
export function checkSlots(config: Config, expected?: { slots: string[] }): CheckResult {
  const views = readSlots(config.paths.device_dir);
  if (views.length === 0) {
    return { name: "modems per slot", level: "warn", detail: `no slot under ${config.paths.device_dir} (no modem plugged in, or udev rules missing)` };
  }
  const complete = views.filter((v) => ROLES.every((r) => v.present.includes(r)));
  const problems = views.filter((v) => !complete.includes(v)).map((v) => {
    const missing = ROLES.filter((r) => !v.present.includes(r));
    return `${v.slot}: no ${missing.join("/")}${v.dangling.length ? ` (dangling ${v.dangling.join("/")})` : ""}`;
  });
  const absent = (expected?.slots ?? []).filter((s) => !views.some((v) => v.slot === s));
  if (absent.length) problems.push(`known to the database but not visible: ${absent.join(", ")}`);
  const detail = `${views.length} slot(s), ${complete.length} complete (at, modem, qmi)${problems.length ? `; ${problems.slice(0, 5).join("; ")}` : ""}`;
  return { name: "modems per slot", level: problems.length ? "warn" : "ok", detail };
}

/**
 * ModemManager opens every ttyUSB it likes and sends AT commands into our sessions. Fine when it is not running, or
 * when udev gave every one of our AT ports ID_MM_DEVICE_IGNORE=1.
 */
export async function checkModemManager(config: Config, opts: { systemctl?: Runner; udevadm?: Runner } = {}): Promise<CheckResult> {
  const systemctl = opts.systemctl ?? ((a: string[]) => defaultRunner(["systemctl", ...a]));
  const udevadm = opts.udevadm ?? ((a: string[]) => defaultRunner(["udevadm", ...a]));
  const state = (await systemctl(["is-active", "ModemManager.service"])).stdout.trim().split("\n")[0] || "unknown";
  if (state !== "active") return { name: "ModemManager", level: "ok", detail: `not running (${state})` };
  const ports = readSlots(config.paths.device_dir).filter((v) => v.present.includes("at")).map((v) => join(config.paths.device_dir, v.slot, "at"));
  const grabbed: string[] = [];
  for (const port of ports) {
    const r = await udevadm(["info", "-q", "property", "-n", port]);
    if (!/^ID_MM_DEVICE_IGNORE=1$/m.test(r.stdout)) grabbed.push(port);
  }
  if (grabbed.length === 0) {
    return { name: "ModemManager", level: "ok", detail: `running, but all ${ports.length} AT port(s) carry ID_MM_DEVICE_IGNORE=1` };
  }
  return {
    name: "ModemManager", level: "fail",
    detail: `running and may grab ${grabbed.length} port(s) without ID_MM_DEVICE_IGNORE (${grabbed.slice(0, 3).join(", ")}): ` +
      "reload the udev rules or `systemctl disable --now ModemManager`",
  };
}

/** qmicli runs and says which libqmi it is (the qmi driver needs it; other drivers only warn). */
export async function checkQmicli(config: Config, runner: Runner = defaultRunner): Promise<CheckResult> {
  const argv = config.net.qmicli.trim().split(/\s+/).filter(Boolean);
  const needed = config.net.driver === "qmi";
  const r = await runner([...argv, "--version"]);
  const version = /qmicli\s+([\d.]+)/.exec(r.stdout)?.[1];
  if (r.code === 0 && version) return { name: "qmicli", level: "ok", detail: `${argv.join(" ")} ${version}` };
  if (r.code === 0) return { name: "qmicli", level: "ok", detail: `${argv.join(" ")} runs` };
  return { name: "qmicli", level: needed ? "fail" : "warn", detail: `${argv.join(" ")} --version failed: ${(r.stderr || r.stdout).trim().split("\n")[0] || `exit ${r.code}`}${needed ? " (install libqmi-utils)" : ""}` };
}

/**
 * A clock before the build date is certainly wrong (TLS and JWT expiry break); the database's clock differing by more
 * than a few seconds skews every timestamp the panel shows; an unsynchronised clock drifts.
 */
export async function checkClock(opts: { dbNow?: Date; buildDate?: string; now?: Date; timedatectl?: Runner } = {}): Promise<CheckResult> {
  const now = opts.now ?? new Date();
  const problems: string[] = [];
  const built = opts.buildDate && opts.buildDate !== "dev" ? new Date(opts.buildDate) : new Date("2025-01-01T00:00:00Z");
  if (!Number.isNaN(built.getTime()) && now.getTime() < built.getTime() - 86_400_000) {
    return { name: "clock", level: "fail", detail: `${now.toISOString()} is before this build (${built.toISOString()}): set the time (NTP)` };
  }
  if (opts.dbNow) {
    const skew = Math.abs(opts.dbNow.getTime() - now.getTime()) / 1000;
    if (skew > 5) problems.push(`PostgreSQL's clock differs by ${skew.toFixed(1)} s`);
  }
  const td = opts.timedatectl ? await opts.timedatectl(["show", "-p", "NTPSynchronized", "--value"]) : undefined;
  const synced = td?.code === 0 ? td.stdout.trim() : undefined;
  if (synced === "no") problems.push("not synchronised (timedatectl: NTPSynchronized=no)");
  return { name: "clock", level: problems.length ? "warn" : "ok", detail: problems.length ? problems.join("; ") : `${now.toISOString()}${synced === "yes" ? ", NTP synchronised" : ""}` };
}
