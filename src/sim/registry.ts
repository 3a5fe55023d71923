/**
 * Where running labs are recorded, so that `sim ctl` finds a lab and `sim cleanup` (or the next start) removes what a
 * crashed run left behind. One directory per lab: <registry>/<labId>/ holds lab.json, ctl.sock, dev/, bin/qmicli and,
 * unless given elsewhere, devices/ and sys/. The registry is $LTEPROXY_SIM_DIR, else /dev/shm/lteproxy-sim (or
 * <tmpdir>/lteproxy-sim without /dev/shm).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { LabNetMode } from "./net/types.ts";

export interface LabRecord {
  labId: string;
  pid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is not mistaken for the lab. */
  pidStart: string;
  runDir: string;
  deviceDir: string;
  sysfsRoot: string;
  devRoot: string;
  ctlSocket?: string;
  ctlPort?: number;
  qmicli: string;
  netMode: LabNetMode;
  modems: number;
  startedAt: string;
}

/**
 * A memory-backed base directory when there is one (/dev/shm): the lab writes ~100 small files per modem, and on a
 * disk-backed /tmp that costs ~20× more (measured: ~75 ms vs ~4 ms per modem). Real /sys and /dev live in memory too.
 */
export function fastTmpBase(): string {
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    return "/dev/shm";
  } catch {
    return os.tmpdir();
  }
}

export function registryDir(): string {
  return process.env.LTEPROXY_SIM_DIR ?? path.join(fastTmpBase(), "lteproxy-sim");
}

/** A fresh lab id: 6 characters of [a-z0-9] (short: the lab network puts it into interface names). */
export function newSimLabId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return "s" + Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join("");
}

export function processStart(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime); the command name (field 2) may contain spaces, so count after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

export function isAlive(rec: LabRecord): boolean {
  try {
    process.kill(rec.pid, 0);
  } catch {
    return false;
  }
  return processStart(rec.pid) === rec.pidStart;
}

export function writeRecord(rec: LabRecord): void {
  fs.mkdirSync(rec.runDir, { recursive: true });
  const file = path.join(rec.runDir, "lab.json");
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export function readRecords(): LabRecord[] {
  const dir = registryDir();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: LabRecord[] = [];
  for (const name of names) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, name, "lab.json"), "utf8")) as LabRecord);
    } catch { /* not a lab dir, or half-written */ }
  }
  return out;
}

/** Removes a lab's files (device dir, sysfs tree, dev root, run dir). */
export function removeLabFiles(rec: Pick<LabRecord, "deviceDir" | "sysfsRoot" | "devRoot" | "runDir">): void {
  for (const d of [rec.deviceDir, rec.sysfsRoot, rec.devRoot, rec.runDir]) fs.rmSync(d, { recursive: true, force: true });
}
