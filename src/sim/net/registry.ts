/**
 * A small on-disk registry of live labs: <registry>/<labId>.json says who owns the lab and where its files are.
 * It lets `cleanupLabs` find a crashed lab's files (the runDir is the caller's choice) and tell a crashed lab
 * (owner gone) from one that another process is still running (owner alive: left alone unless forced).
 * Written before the first namespace is created, removed after the last object is gone.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LabNetMode } from "./types.ts";
import { LAB_ID_RE } from "./names.ts";
import { pidAlive, pidStartTime } from "./netns.ts";

export interface LabRecord {
  labId: string;
  mode: LabNetMode;
  ownerPid: number;
  /** Owner's start time (clock ticks since boot), to see through pid reuse. */
  ownerStart?: number;
  /** The lab's own directory (<runDir>/ltpx-<id>-net), removed with the lab. */
  dir: string;
  createdAt: string;
}

/** Where records live: $LTEPROXY_LAB_REGISTRY, else /run/lteproxy-labs (root) or $TMPDIR/lteproxy-labs-<uid>. */
export function registryDir(): string {
  const env = process.env.LTEPROXY_LAB_REGISTRY;
  if (env) return env;
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? "/run/lteproxy-labs" : join(tmpdir(), `lteproxy-labs-${uid}`);
}

const recordPath = (labId: string) => join(registryDir(), `${labId}.json`);

export function writeRecord(rec: LabRecord): void {
  mkdirSync(registryDir(), { recursive: true, mode: 0o700 });
  const tmp = `${recordPath(rec.labId)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(rec)}\n`);
  renameSync(tmp, recordPath(rec.labId));
}

export function readRecord(labId: string): LabRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(labId), "utf8")) as LabRecord;
  } catch {
    return undefined;
  }
}

export function removeRecord(labId: string): void {
  rmSync(recordPath(labId), { force: true });
}

/** Lab ids that have a record. */
export function listRecordIds(): string[] {
  try {
    return readdirSync(registryDir())
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .filter((id) => LAB_ID_RE.test(id));
  } catch {
    return [];
  }
}

/** A record for a lab owned by this process. */
export function ownRecord(labId: string, mode: LabNetMode, dir: string): LabRecord {
  return { labId, mode, ownerPid: process.pid, ownerStart: pidStartTime(process.pid), dir, createdAt: new Date().toISOString() };
}

/** True while the process that created the lab still runs (same pid and same start time). */
export function ownerAlive(rec: LabRecord): boolean {
  if (!pidAlive(rec.ownerPid)) return false;
  return rec.ownerStart === undefined || pidStartTime(rec.ownerPid) === rec.ownerStart;
}
