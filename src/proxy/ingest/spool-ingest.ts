/**
 * Built-in engine → connection_log: reads the rolled spool files (`<utc-ts>-<seq>.jsonl`, conn-log-spool.ts; never
 * current.jsonl, which the engine still appends to), inserts their rows in batches, and deletes a file only after
 * its rows committed.
 *
 * Exactly once: the rows of one file and a done-marker (`internal.ingested:<file>`) commit in one transaction. A
 * crash after the commit but before the unlink leaves the marker, so the next run deletes the file instead of
 * inserting it again; a crash before the commit leaves nothing, so the file is simply ingested again.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { childLogger } from "../../lib/logger.ts";
import { CURRENT_FILE } from "../engine/conn-log-spool.ts";
import { deleteInternal, readInternalPrefix, writeInternal } from "./internal-state.ts";
import { insertConnectionRows, modemIdsByImei, rowFromSpoolLine, type ConnectionLogRow } from "./rows.ts";

const log = childLogger("ingest");

const MARKER = "internal.ingested:";
/** Rolled spool files; anything else in the directory (current.jsonl, temp files) is left alone. */
const ROLLED_RE = /^\d{4}-\d{2}-\d{2}T[0-9-]+Z-\d+\.jsonl$/;

export interface IngestResult {
  files: number;
  rows: number;
  /** Lines that were not a valid entry (counted, skipped, logged with a sample). */
  garbage: number;
  /** Files left in place because they could not be read or inserted (retried next run). */
  failed: Array<{ file: string; error: string }>;
}

export interface SpoolIngestOptions {
  nodeId: string;
  spoolDir: string;
  /** IMEI → modems.id; default: read from the modems table of this node. */
  imeiToModem?: Map<string, number>;
  /** At most this many files per run (a backlog after an outage is worked off over several runs). */
  maxFiles?: number;
}

export function rolledSpoolFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n !== CURRENT_FILE && ROLLED_RE.test(n)).sort();
  } catch {
    return [];
  }
}

/** Ingests every rolled spool file (oldest first). Never throws for a bad file; a database error stops the run. */
export async function ingestConnectionLogs(sql: Sql, opts: SpoolIngestOptions): Promise<IngestResult> {
  const result: IngestResult = { files: 0, rows: 0, garbage: 0, failed: [] };
  const files = rolledSpoolFiles(opts.spoolDir);
  const markers = await readInternalPrefix(sql, opts.nodeId, MARKER);
  // Markers whose file is gone: the unlink happened, only the marker delete did not.
  const present = new Set(files);
  await deleteInternal(sql, opts.nodeId, [...markers.keys()].filter((k) => !present.has(k.slice(MARKER.length))));
  if (files.length === 0) return result;
  const ids = opts.imeiToModem ?? (await modemIdsByImei(sql, opts.nodeId));
  const modemFor = (imei: string) => ids.get(imei);

  for (const file of files.slice(0, opts.maxFiles ?? 500)) {
    const path = join(opts.spoolDir, file);
    const key = MARKER + file;
    if (markers.has(key)) {
      rmSync(path, { force: true });
      await deleteInternal(sql, opts.nodeId, [key]);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      result.failed.push({ file, error: (error as Error).message });
      continue;
    }
    const rows: ConnectionLogRow[] = [];
    let garbage = 0;
    let sample: string | undefined;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const row = rowFromSpoolLine(line, opts.nodeId, modemFor);
      if (typeof row === "string") {
        garbage++;
        sample ??= `${row}: ${line.slice(0, 120)}`;
      } else rows.push(row);
    }
    await sql.begin(async (tx) => {
      await insertConnectionRows(tx as unknown as Sql, rows);
      await writeInternal(tx as unknown as Sql, opts.nodeId, key, { rows: rows.length, garbage, at: new Date().toISOString() });
    });
    rmSync(path, { force: true });
    await deleteInternal(sql, opts.nodeId, [key]);
    if (garbage) log.warn({ file, garbage, sample }, "connection log lines skipped");
    result.files++;
    result.rows += rows.length;
    result.garbage += garbage;
  }
  return result;
}
