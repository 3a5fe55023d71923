/**
 * Connection log out of the data plane without a database: JSON lines appended to
 * `<dir>/current.jsonl`, rolled to `<dir>/<utc-ts>-<seq>.jsonl` every `rollSeconds` or
 * `rollEntries`. The control plane ingests rolled files into `connection_log` and deletes them;
 * it never touches current.jsonl. Same contract as 3proxy's `log file` + `rotate` (3proxy.md §2).
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../lib/logger.ts";
import type { ResultCode } from "./results.ts";

export interface ConnLogEntry {
  /** When the connection (or HTTP request) started, ISO 8601 UTC. */
  ts: string;
  port: number;
  /** The modem IMEI the port belongs to. */
  portId: string;
  /** "ip:port" of the client. */
  client: string;
  user: string | null;
  /** "host:port" as the client asked for it (a name stays a name). */
  target: string | null;
  proto: "http" | "connect" | "socks5" | "unknown";
  /** Bytes client → target and target → client. */
  up: number;
  down: number;
  ms: number;
  result: ResultCode;
  /** HTTP status sent or relayed, or the SOCKS5 reply code. */
  status: number;
}

export interface SpoolOptions {
  dir: string;
  rollSeconds: number;
  rollEntries: number;
  /** Pending lines are written at least this often. */
  flushMs?: number;
  /** Lines held in memory when the disk refuses writes; beyond this they are dropped and counted. */
  maxPending?: number;
  log?: Logger;
}

export const CURRENT_FILE = "current.jsonl";

export class ConnLogSpool {
  written = 0;
  dropped = 0;
  rolled = 0;
  private pending: string[] = [];
  private inCurrent = 0;
  private seq = 0;
  private flushTimer: ReturnType<typeof setInterval>;
  private rollTimer: ReturnType<typeof setInterval>;
  private lastErrorLog = 0;

  constructor(private opts: SpoolOptions) {
    this.prepareDir();
    this.flushTimer = setInterval(() => this.flush(), opts.flushMs ?? 200);
    this.rollTimer = setInterval(() => this.inCurrent > 0 && this.roll(), opts.rollSeconds * 1000);
    this.flushTimer.unref?.();
    this.rollTimer.unref?.();
  }

  get dir(): string {
    return this.opts.dir;
  }

  write(entry: ConnLogEntry): void {
    if (this.pending.length >= (this.opts.maxPending ?? 50_000)) {
      this.dropped++;
      return;
    }
    this.pending.push(JSON.stringify(entry) + "\n");
    if (this.inCurrent + this.pending.length >= this.opts.rollEntries) this.flush();
  }

  /** Appends pending lines; rolls when current.jsonl reached rollEntries. */
  flush(): void {
    if (this.pending.length === 0) return;
    const room = this.opts.rollEntries - this.inCurrent;
    const batch = this.pending.splice(0, Math.max(1, room));
    try {
      appendFileSync(join(this.opts.dir, CURRENT_FILE), batch.join(""), { mode: 0o640 });
      this.written += batch.length;
      this.inCurrent += batch.length;
    } catch (e) {
      this.pending.unshift(...batch);
      this.complain(e);
      this.prepareDir();
      return;
    }
    if (this.inCurrent >= this.opts.rollEntries) this.roll(false);
    if (this.pending.length > 0) this.flush();
  }

  /** Closes current.jsonl under a new name (flushing pending lines into it first). */
  roll(flushFirst = true): void {
    if (flushFirst) this.flushPendingOnly();
    const cur = join(this.opts.dir, CURRENT_FILE);
    if (!existsSync(cur)) {
      this.inCurrent = 0;
      return;
    }
    const ts = new Date().toISOString().replace(/[:.]/g, "-");
    try {
      renameSync(cur, join(this.opts.dir, `${ts}-${String(this.seq++).padStart(6, "0")}.jsonl`));
      this.rolled++;
      this.inCurrent = 0;
    } catch (e) {
      this.complain(e);
    }
  }

  /** Flush and roll everything, stop the timers (engine stop). */
  close(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.rollTimer);
    this.flush();
    if (this.inCurrent > 0) this.roll();
  }

  private flushPendingOnly(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0);
    try {
      appendFileSync(join(this.opts.dir, CURRENT_FILE), batch.join(""), { mode: 0o640 });
      this.written += batch.length;
      this.inCurrent += batch.length;
    } catch (e) {
      this.pending.unshift(...batch);
      this.complain(e);
    }
  }

  private prepareDir(): void {
    try {
      mkdirSync(this.opts.dir, { recursive: true });
      const cur = join(this.opts.dir, CURRENT_FILE);
      // A current.jsonl left by a crash is complete lines from a previous run: hand it over.
      if (this.written === 0 && existsSync(cur) && statSync(cur).size > 0) this.roll();
    } catch (e) {
      this.complain(e);
    }
  }

  private complain(e: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 60_000) return;
    this.lastErrorLog = now;
    this.opts.log?.error({ err: e, dir: this.opts.dir }, "connection log spool write failed");
  }
}
