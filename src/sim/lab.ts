/**
 * The simulated modem farm: N EC25s on a USB tree, their device dir, sysfs tree, qmi sockets and control API.
 *
 *   const lab = await startSimLab({ modems: 30, timeScale: 0.01, seed: 1 });
 *   await lab.ready();                       // every modem registered
 *   await lab.ctl(lab.modems[0].slot, "no-sim");
 *   lab.list();                              // what `sim ctl list --json` prints
 *   await lab.stop();                        // removes every file, socket and session it made
 *
 * A LabNetwork (src/sim/net) is optional: with one, data calls get real addresses and ifnames come from it.
 */
import fs from "node:fs";
import path from "node:path";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import { ACTION_NAMES, runAction, type ActionResult } from "./ctl/actions.ts";
import { CtlServer } from "./ctl/server.ts";
import { modemIdentity } from "./identity.ts";
import { SimModem, type ModemSummary } from "./modem/modem.ts";
import type { LabNetInfo, LabNetwork } from "./net/types.ts";
import { isAlive, newSimLabId, processStart, readRecords, registryDir, removeLabFiles, writeRecord, type LabRecord } from "./registry.ts";
import { scaledTimings, type SimTimings } from "./timings.ts";
import { DEFAULT_PORTS_PER_HUB, slotTopology } from "./topology.ts";
import { UsbHost } from "./usb/usb-host.ts";

export const DEFAULT_FIRMWARE = "EC25EUXGAR08A04M1G";

export interface SimLabOptions {
  /** Number of modems (default 30). */
  modems?: number;
  /** Where the udev-style slot links go (default <runDir>/devices). */
  deviceDir?: string;
  /** Root of the sysfs-shaped tree (default <runDir>/sys). */
  sysfsRoot?: string;
  /** Where ttyUSBn → /dev/pts/N links and cdc-wdmN sockets live (default <runDir>/dev). */
  devRoot?: string;
  /** A lab network; the lab calls setup(modems) and, on stop, destroy(). */
  net?: LabNetwork;
  /** Multiplies every timing (0.01 for fast tests). Default 1 (realistic). */
  timeScale?: number;
  /** Per-timing overrides (ms, before scaling). */
  timings?: Partial<SimTimings>;
  /** Seed of IMEIs, operators, signal drift. Default 1. */
  seed?: number;
  labId?: string;
  portsPerHub?: number;
  firmware?: string;
  roamingShare?: number;
  /** Control API: unix socket in the run dir (default on) and/or a loopback port (0 = any). */
  control?: { socket?: boolean; port?: number };
  /** Remove files left by labs whose process died (default true). */
  cleanStale?: boolean;
}

export interface SimLabInfo {
  labId: string;
  runDir: string;
  deviceDir: string;
  sysfsRoot: string;
  devRoot: string;
  ctlSocket?: string;
  ctlPort?: number;
  qmicli: string;
  modems: number;
  timeScale: number;
  seed: number;
  net?: LabNetInfo;
}

export interface SimLab {
  readonly labId: string;
  readonly info: SimLabInfo;
  readonly modems: readonly SimModem[];
  /** Fault injection: same actions as `sim ctl`. */
  ctl(target: string, action: string, ...args: string[]): Promise<ActionResult>;
  list(): ModemSummary[];
  /** The modem with this slot, IMEI or index. */
  modem(target: string | number): SimModem;
  /** Polls until `pred` holds (every 10 ms); rejects with SIM_WAIT_TIMEOUT. */
  waitFor(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Every attached modem is registered (home or roaming). */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const log = childLogger("sim");

/** Where the lab qmicli entry lives when running from source. */
const QMICLI_SOURCE = path.join(import.meta.dir, "qmi", "qmicli-main.ts");

function writeQmicliWrapper(runDir: string): string {
  const bin = path.join(runDir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const file = path.join(bin, "qmicli");
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const fromSource = fs.existsSync(QMICLI_SOURCE);
  const exec = fromSource ? `${q(process.execPath)} ${q(QMICLI_SOURCE)}` : `${q(process.execPath)} sim qmicli`;
  fs.writeFileSync(file, `#!/bin/sh\n# lteproxy lab qmicli (talks to DIR/<slot>/qmi sockets)\nexec ${exec} "$@"\n`, { mode: 0o755 });
  return file;
}

/** A directory we may use: absent, empty, or left by a dead lab. */
function claimDir(dir: string, what: string, stale: LabRecord[]): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  if (entries.length === 0) return;
  const owner = stale.find((r) => [r.deviceDir, r.sysfsRoot, r.devRoot].includes(dir));
  if (owner) { fs.rmSync(dir, { recursive: true, force: true }); return; }
  throw new AppError("SIM_DIR_NOT_EMPTY", `${what} ${dir} is not empty and no dead lab owns it; pick another or empty it`, { dir });
}

/** Removes the files of labs whose process is gone. Returns their records (network cleanup is the caller's). */
export function cleanStaleLabs(): LabRecord[] {
  const stale = readRecords().filter((r) => !isAlive(r));
  for (const r of stale) removeLabFiles(r);
  return stale;
}

export async function startSimLab(opts: SimLabOptions = {}): Promise<SimLab> {
  const count = opts.modems ?? 30;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new AppError("SIM_BAD_ARGS", `modems must be 1..1000, got ${count}`);
  const timeScale = opts.timeScale ?? 1;
  const seed = opts.seed ?? 1;
  const labId = opts.labId ?? opts.net?.info().labId ?? newSimLabId();
  const stale = opts.cleanStale === false ? [] : readRecords().filter((r) => !isAlive(r));
  const runDir = path.join(registryDir(), labId);
  const deviceDir = path.resolve(opts.deviceDir ?? path.join(runDir, "devices"));
  const sysfsRoot = path.resolve(opts.sysfsRoot ?? path.join(runDir, "sys"));
  const devRoot = path.resolve(opts.devRoot ?? path.join(runDir, "dev"));
  claimDir(deviceDir, "device dir", stale);
  claimDir(sysfsRoot, "sysfs root", stale);
  claimDir(devRoot, "dev root", stale);
  for (const r of stale) removeLabFiles(r);
  fs.mkdirSync(runDir, { recursive: true });

  const timings = scaledTimings(timeScale, opts.timings);
  const net = opts.net;
  try {
    if (net) await net.setup(count);
  } catch (error) {
    await net?.destroy().catch(() => undefined);
    removeLabFiles({ deviceDir, sysfsRoot, devRoot, runDir });
    throw error;
  }
  const usb = new UsbHost({ deviceDir, sysfsRoot, devRoot }, { ifname: net ? (i) => net.ifname(i) : undefined });
  const firmware = opts.firmware ?? DEFAULT_FIRMWARE;
  const modems = Array.from({ length: count }, (_, index) => new SimModem({
    index, seed, timings, usb, net, firmware,
    qgmr: `${firmware}_01.001.01.001`,
    identity: modemIdentity(index, { seed, roamingShare: opts.roamingShare }),
    topology: slotTopology(index, opts.portsPerHub ?? DEFAULT_PORTS_PER_HUB),
  }));

  const qmicli = writeQmicliWrapper(runDir);
  const control = opts.control ?? { socket: true };
  const ctlSocket = control.socket === false ? undefined : path.join(runDir, "ctl.sock");
  const info: SimLabInfo = { labId, runDir, deviceDir, sysfsRoot, devRoot, ctlSocket, qmicli, modems: count, timeScale, seed, net: net?.info() };

  const byTarget = (target: string | number): SimModem => {
    const m = typeof target === "number" ? modems[target]
      : modems.find((x) => x.topology.slot === target || x.identity.imei === target) ?? (/^\d+$/.test(target) ? modems[Number(target)] : undefined);
    if (!m) throw new AppError("SIM_UNKNOWN_TARGET", `no modem ${JSON.stringify(target)}`);
    return m;
  };
  const actionLab = {
    modems,
    async failHub(hub: number): Promise<number> {
      const on = modems.filter((m) => m.topology.hub === hub);
      await Promise.all(on.map((m) => m.unplug("hub-failed")));
      usb.failHub(hub);
      return on.length;
    },
    restoreHub(hub: number): number {
      usb.restoreHub(hub);
      const on = modems.filter((m) => m.topology.hub === hub && m.usbState === "hub-failed");
      for (const m of on) m.replug();
      return on.length;
    },
  };

  let stopped: Promise<void> | undefined;
  const lab: SimLab = {
    labId,
    info,
    modems,
    ctl: (target, action, ...args) => runAction(actionLab, target, action, args),
    list: () => modems.map((m) => m.summary()),
    modem: byTarget,
    async waitFor(pred, timeoutMs = 10_000, what = "condition") {
      const until = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > until) throw new AppError("SIM_WAIT_TIMEOUT", `timed out after ${timeoutMs} ms waiting for ${what}`);
        await Bun.sleep(10);
      }
    },
    ready(timeoutMs = Math.max(10_000, timings.registerMs + timings.simInitMs + timings.rdyMs + 5_000)) {
      return lab.waitFor(() => modems.every((m) => m.usbState !== "attached" || m.radio.registered), timeoutMs, "all modems registered");
    },
    stop() {
      // Every step runs even when an earlier one fails: a half-stopped lab must not leave files or namespaces.
      stopped ??= (async () => {
        const steps: [string, () => Promise<unknown> | unknown][] = [
          ["control API", () => ctl.stop()],
          ["modems", () => Promise.all(modems.map((m) => m.stop()))],
          ["usb files", () => usb.destroy()],
          ["lab network", () => net?.destroy()],
          ["run dir", () => removeLabFiles({ deviceDir, sysfsRoot, devRoot, runDir })],
        ];
        for (const [what, step] of steps) {
          try {
            await step();
          } catch (error) {
            log.warn({ labId, error: String(error) }, `sim lab stop: ${what} failed`);
          }
        }
        log.info({ labId }, "sim lab stopped");
      })();
      return stopped;
    },
  };

  const ctl = new CtlServer({ info: () => info, list: lab.list, ctl: lab.ctl }, ctlSocket);
  try {
    usb.init();
    ctl.start({ port: control.port });
    info.ctlPort = ctl.port;
    writeRecord({
      labId, pid: process.pid, pidStart: processStart(process.pid), runDir, deviceDir, sysfsRoot, devRoot,
      ctlSocket, ctlPort: ctl.port, qmicli, netMode: net?.mode ?? "none", modems: count, startedAt: new Date().toISOString(),
    });
    await Promise.all(modems.map((m) => m.powerOn()));
  } catch (error) {
    await lab.stop();
    throw error;
  }
  log.info({ labId, modems: count, deviceDir, sysfsRoot }, "sim lab started");
  return lab;
}

export { ACTION_NAMES };
