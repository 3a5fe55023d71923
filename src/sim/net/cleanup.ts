/**
 * Removes lab objects by the naming convention (names.ts): namespaces and the processes in them, the root-ns LAN
 * link, /etc/netns/<ns>/, the lab directory and the registry record. Used by destroy(), by `lteproxy sim cleanup`
 * and by test suites before they start, so that a crashed run never breaks the next one.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { AppError } from "../../lib/errors.ts";
import { labNames, parseLabNs, parseLanIf } from "./names.ts";
import { ipBatch, killPids, listNetns, listRootLinks, nsPids } from "./netns.ts";
import { listRecordIds, ownerAlive, readRecord, removeRecord } from "./registry.ts";

export interface CleanupReport {
  /** Lab ids whose objects were removed. */
  removed: string[];
  /** Lab ids left alone because their owner process still runs (pass force to remove them anyway). */
  skipped: string[];
}

const ETC_NETNS = "/etc/netns";

/** Every lab object of `labId`, whether or not it exists; missing objects are fine. */
export async function removeLabObjects(labId: string, dir?: string): Promise<void> {
  const n = labNames(labId);
  const namespaces = new Set(await listNetns());
  const mine = [n.boxNs, n.carrierNs, n.inetNs].filter((ns) => namespaces.has(ns));
  // Processes first: a namespace with processes in it outlives `ip netns del` (and so would its veths).
  const pids = (await Promise.all(mine.map(nsPids))).flat();
  if (pids.length > 0) await killPids([...new Set(pids)]);
  const lines: string[] = [];
  // Deleting the root end removes the pair at once; namespace teardown would do it too, but asynchronously.
  if ((await listRootLinks()).includes(n.lanHostIf)) lines.push(`link del ${n.lanHostIf}`);
  for (const ns of mine) lines.push(`netns del ${ns}`);
  if (lines.length > 0) await ipBatch(lines);
  for (const ns of [n.boxNs, n.carrierNs, n.inetNs]) rmSync(`${ETC_NETNS}/${ns}`, { recursive: true, force: true });
  const recDir = dir ?? readRecord(labId)?.dir;
  if (recDir && recDir.includes(n.dirName)) rmSync(recDir, { recursive: true, force: true });
  removeRecord(labId);
}

/** Lab ids with any trace on this machine: namespaces, root links, /etc/netns entries, registry records. */
export async function findLabIds(): Promise<string[]> {
  const ids = new Set<string>(listRecordIds());
  for (const ns of await listNetns()) {
    const p = parseLabNs(ns);
    if (p) ids.add(p.labId);
  }
  for (const link of await listRootLinks()) {
    const id = parseLanIf(link);
    if (id) ids.add(id);
  }
  if (existsSync(ETC_NETNS)) {
    for (const entry of readdirSync(ETC_NETNS)) {
      const p = parseLabNs(entry);
      if (p) ids.add(p.labId);
    }
  }
  return [...ids].sort();
}

/**
 * Removes every lab whose id starts with `prefix` (all labs when empty). A lab whose owner process is still alive is
 * skipped unless `force` (another test run or a running `lteproxy sim` may own it).
 */
export async function cleanupLabs(prefix = "", opts: { force?: boolean } = {}): Promise<CleanupReport> {
  if (!/^[a-z0-9]{0,8}$/.test(prefix)) throw new AppError("LAB_BAD_ID", `lab id prefix must be 0-8 chars of a-z0-9: ${prefix}`);
  const report: CleanupReport = { removed: [], skipped: [] };
  for (const labId of await findLabIds()) {
    if (!labId.startsWith(prefix)) continue;
    const rec = readRecord(labId);
    if (rec && !opts.force && ownerAlive(rec)) {
      report.skipped.push(labId);
      continue;
    }
    await removeLabObjects(labId, rec?.dir);
    report.removed.push(labId);
  }
  return report;
}
