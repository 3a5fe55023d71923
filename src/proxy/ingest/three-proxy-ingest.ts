/**
 * 3proxy → connection_log: tails each instance's log (`<imei>.log`, or `<imei>.log.YYYY.MM.DD` with the daily
 * rotation the renderer configures; 3proxy's dologname()) from a stored offset, parses complete lines with
 * parseThreeProxyLog and inserts them. 3proxy has no counter socket, so the same transaction adds the logged bytes
 * to modems.bytes_tx (upload, %O) / bytes_rx (download, %I).
 *
 * The offset of each file (`internal.3proxy_log:<file>` = {ino, offset}) commits with its rows, so an interrupted run
 * neither loses nor doubles lines. A partial last line stays in the file until 3proxy finishes it. A file whose
 * inode changed or that shrank is read from the start.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { childLogger } from "../../lib/logger.ts";
import { parseThreeProxyLog, type ParseLogOptions } from "../three-proxy/log-parser.ts";
import { deleteInternal, readInternalPrefix, writeInternal } from "./internal-state.ts";
import { insertConnectionRows, modemIdsByImei, rowFromThreeProxy } from "./rows.ts";
import type { IngestResult } from "./spool-ingest.ts";

const log = childLogger("ingest-3proxy");

const CURSOR = "internal.3proxy_log:";
const LOG_RE = /^([A-Za-z0-9_-]{1,64})\.log(?:\.\d{4}(?:\.\d{2}(?:\.\d{2}(?:-\d{2}(?:\.\d{2})?)?)?)?)?$/;

interface Cursor {
  ino: number;
  offset: number;
}

export interface ThreeProxyIngestOptions {
  nodeId: string;
  /** 3proxy's log directory (default layout: /var/log/3proxy). */
  logDir: string;
  imeiToModem?: Map<string, number>;
  /** Bytes read per file per run; the rest waits for the next run. Default 8 MiB. */
  maxBytesPerFile?: number;
  timezone?: ParseLogOptions["timezone"];
  /** Add the logged bytes to modems.bytes_tx/rx (default true). Off when another source (AT+QGDCNT) owns them. */
  countBytes?: boolean;
}

/** Log files in `dir` with the instance (IMEI) each belongs to, oldest name first. */
export function threeProxyLogFiles(dir: string): Array<{ file: string; imei: string }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.sort().flatMap((file) => {
    const m = LOG_RE.exec(file);
    return m ? [{ file, imei: m[1]! }] : [];
  });
}

function readFrom(path: string, offset: number, max: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(max);
    let got = 0;
    while (got < max) {
      const n = readSync(fd, buf, got, max - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export async function ingestThreeProxyLogs(sql: Sql, opts: ThreeProxyIngestOptions): Promise<IngestResult> {
  const result: IngestResult = { files: 0, rows: 0, garbage: 0, failed: [] };
  const files = threeProxyLogFiles(opts.logDir);
  const cursors = await readInternalPrefix<Cursor>(sql, opts.nodeId, CURSOR);
  const present = new Set(files.map((f) => CURSOR + f.file));
  // 3proxy's `rotate` deleted these files: forget their offsets.
  await deleteInternal(sql, opts.nodeId, [...cursors.keys()].filter((k) => !present.has(k)));
  if (files.length === 0) return result;
  const ids = opts.imeiToModem ?? (await modemIdsByImei(sql, opts.nodeId));

  for (const { file, imei } of files) {
    const path = join(opts.logDir, file);
    const key = CURSOR + file;
    let ino: number, size: number;
    try {
      const st = statSync(path);
      ino = st.ino;
      size = st.size;
    } catch (error) {
      result.failed.push({ file, error: (error as Error).message });
      continue;
    }
    const prev = cursors.get(key);
    const start = prev && prev.ino === ino && prev.offset <= size ? prev.offset : 0;
    if (start >= size) continue;
    let chunk: Buffer;
    try {
      chunk = readFrom(path, start, Math.min(size - start, opts.maxBytesPerFile ?? 8 << 20));
    } catch (error) {
      result.failed.push({ file, error: (error as Error).message });
      continue;
    }
    // Only whole lines: stop after the last newline of the chunk.
    const end = chunk.lastIndexOf(0x0a);
    if (end < 0) continue;
    const parsed = parseThreeProxyLog(chunk.subarray(0, end + 1).toString("utf8"), { timezone: opts.timezone });
    const modemId = ids.get(imei);
    const rows = parsed.records.map((r) => rowFromThreeProxy(r, imei, opts.nodeId, modemId));
    const up = rows.reduce((s, r) => s + r.bytes_up, 0);
    const down = rows.reduce((s, r) => s + r.bytes_down, 0);
    await sql.begin(async (tx) => {
      const t = tx as unknown as Sql;
      await insertConnectionRows(t, rows);
      if (opts.countBytes !== false && modemId !== undefined && (up > 0 || down > 0)) {
        await t`update modems set bytes_tx = bytes_tx + ${up}, bytes_rx = bytes_rx + ${down} where id = ${modemId}`;
      }
      await writeInternal(t, opts.nodeId, key, { ino, offset: start + end + 1 } satisfies Cursor);
    });
    if (parsed.rejected.length) {
      log.warn({ file, rejected: parsed.rejected.length, sample: parsed.rejected[0]?.reason }, "3proxy log lines skipped");
    }
    result.files++;
    result.rows += rows.length;
    result.garbage += parsed.rejected.length;
  }
  return result;
}
