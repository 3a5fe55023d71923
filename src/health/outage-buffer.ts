/**
 * Events survive a PostgreSQL outage. Every event goes through one FIFO and one writer: while PostgreSQL answers,
 * the writer inserts whatever is queued as one multi-row statement (group commit; rows take their seq in queue order)
 * and resolves each caller with its seq. When PostgreSQL goes away the callers are released at once (resolved with
 * null: accepted, buffered), the queue keeps growing up to `capacity`, and the writer retries with backoff; on
 * reconnect it writes the queue in order. So the control plane keeps running from memory and loses no event it
 * accepted; the event stream then replays from its last sequence (event-stream.ts).
 *
 *   const outage = new OutageBuffer({ sql, nodeId });
 *   await outage.append({ nodeId, modemId, kind: "data.up", payload });   // seq, or null when buffered
 *   outage.healthy();                                                      // false while PostgreSQL is away
 *   await outage.drained(5000); outage.close();                            // shutdown
 *
 * Exactly once: a statement that failed after it was sent (connection cut mid-commit) may have committed; before
 * writing that batch again the writer looks for its first row (same kind, node, payload, seq above the last one it
 * wrote). A statement is atomic, so the first row answers for the whole batch.
 *
 * Overflow is never silent: the oldest waiting events are dropped (the newest say what the modems are doing now),
 * counted, logged at error level, and on reconnect an `events.dropped` event ({dropped, kinds, firstAt, lastAt}) is
 * written where they were, and `onOverflow` runs (default: a system alert, dedup key `events.dropped`).
 */
import type { Sql } from "../db/client.ts";
import type { NewEvent } from "../db/queries/events.ts";
import { openAlert } from "../db/queries/alerts.ts";
import { backoffMs } from "../lib/clock.ts";
import { childLogger } from "../lib/logger.ts";
import { isConnectionError, mayHaveCommitted, withDbTimeout } from "./outage-errors.ts";

const log = childLogger("outage");

export interface OverflowInfo {
  dropped: number;
  /** Dropped events by kind. */
  kinds: Record<string, number>;
  firstAt: Date;
  lastAt: Date;
}

export interface OutageBufferOptions {
  sql: Sql;
  /** Node of the `events.dropped` event and alert. */
  nodeId: string | null;
  /** Events kept while PostgreSQL is away (default 10 000; ~1 KB each). */
  capacity?: number;
  /** Rows per INSERT (default 500). */
  batchSize?: number;
  /** Reconnect backoff (default 200 ms doubling to 5 s, jittered). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** A write that hangs this long (half-dead connection) is abandoned and retried (default 15 s). */
  statementTimeoutMs?: number;
  /** Runs after reconnect when events were dropped. Default: opens a warning alert. */
  onOverflow?(info: OverflowInfo): Promise<void> | void;
}

export interface OutageStats {
  /** Waiting to be written now. */
  queued: number;
  down: boolean;
  downSince: Date | null;
  /** Times PostgreSQL went away. */
  outages: number;
  /** Events that had to wait for a reconnect. */
  buffered: number;
  dropped: number;
  written: number;
  /** Events PostgreSQL refused (bad payload): logged and skipped. */
  refused: number;
}

interface Item {
  ev: NewEvent;
  at: number;
  buffered: boolean;
  settled: boolean;
  /** The row as last sent (an ambiguous failure is checked against exactly this). */
  sent?: { node_id: string | null; modem_id: number | null; kind: string; payload: Record<string, unknown> };
  resolve(seq: number | null): void;
  reject(error: unknown): void;
}

export class OutageBuffer {
  private queue: Item[] = [];
  /** The batch being written (front of the queue); overflow never drops these. */
  private inflight: Item[] | null = null;
  /** The last attempt of `inflight` failed after it was sent. */
  private unsure = false;
  /** Batches that failed for a reason other than the connection are retried one row at a time. */
  private singleRows = 0;
  private pumping = false;
  private closed = false;
  private down = false;
  private downSince: Date | null = null;
  private lastSeq = 0;
  private drop: OverflowInfo | null = null;
  private s = { outages: 0, buffered: 0, dropped: 0, written: 0, refused: 0 };
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: OutageBufferOptions) {
    this.capacity = Math.max(1, opts.capacity ?? 10_000);
    this.batchSize = Math.max(1, opts.batchSize ?? 500);
    this.timeoutMs = opts.statementTimeoutMs ?? 15_000;
  }

  /**
   * Queues one event. Resolves with its seq once written, or with null at once when PostgreSQL is away (the event is
   * kept and written on reconnect). Rejects only when PostgreSQL refuses the event itself (and it was not released).
   */
  append(ev: NewEvent): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const item: Item = { ev, at: Date.now(), buffered: false, settled: false, resolve: () => undefined, reject: () => undefined };
      item.resolve = (seq) => {
        if (item.settled) return;
        item.settled = true;
        resolve(seq);
      };
      item.reject = (error) => {
        if (item.settled) return;
        item.settled = true;
        reject(error);
      };
      if (this.closed) {
        log.error({ kind: ev.kind }, "event after shutdown: not written");
        this.s.dropped++;
        return item.resolve(null);
      }
      this.push(item);
    });
  }

  /** Queues several events in order (a health sweep's batch); resolves when written or buffered. */
  async appendMany(events: NewEvent[]): Promise<void> {
    await Promise.all(events.map((e) => this.append(e)));
  }

  /** False while PostgreSQL is unreachable (the panel's read-only banner). */
  healthy(): boolean {
    return !this.down;
  }

  stats(): OutageStats {
    return { queued: this.queue.length, down: this.down, downSince: this.downSince, ...this.s };
  }

  /** Resolves true once everything queued is written, false after `timeoutMs` (shutdown with PostgreSQL away). */
  async drained(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length || this.drop) {
      if (Date.now() >= deadline) return false;
      if (!this.pumping) void this.pump();
      await Bun.sleep(20);
    }
    return true;
  }

  /** Stops the writer. Whatever is still queued is lost: call drained() first. */
  close(): void {
    this.closed = true;
    if (this.queue.length) log.error({ lost: this.queue.length }, "shutting down with events that PostgreSQL never received");
    for (const item of this.queue) item.resolve(null);
  }

  private push(item: Item): void {
    if (this.queue.length >= this.capacity) this.overflow();
    this.queue.push(item);
    if (this.down) this.park(item);
    if (!this.pumping) void this.pump();
  }

  /** The queue is full: drop the oldest event that is not being written right now. */
  private overflow(): void {
    const at = this.inflight?.length ?? 0;
    const [victim] = this.queue.splice(at, 1);
    if (!victim) return;
    victim.resolve(null);
    this.s.dropped++;
    const when = new Date(victim.at);
    if (!this.drop) {
      this.drop = { dropped: 0, kinds: {}, firstAt: when, lastAt: when };
      log.error({ capacity: this.capacity }, "event buffer full while PostgreSQL is away: dropping the oldest events");
    }
    this.drop.dropped++;
    this.drop.kinds[victim.ev.kind] = (this.drop.kinds[victim.ev.kind] ?? 0) + 1;
    this.drop.lastAt = when;
    if (this.drop.dropped % 1000 === 0) log.error({ dropped: this.drop.dropped }, "still dropping events");
  }

  /** Releases the caller: the event waits for PostgreSQL. */
  private park(item: Item): void {
    if (!item.buffered) {
      item.buffered = true;
      this.s.buffered++;
    }
    item.resolve(null);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let failures = 0;
    try {
      while (!this.closed) {
        try {
          if (!this.inflight && this.drop) {
            await this.writeDropNotice();
            continue;
          }
          if (!this.inflight) {
            if (!this.queue.length) break;
            this.inflight = this.queue.slice(0, this.singleRows > 0 ? 1 : this.batchSize);
          }
          const batch = this.inflight;
          if (this.unsure && (await this.committed(batch[0]!))) {
            this.complete(batch, null);
          } else {
            this.complete(batch, await this.insert(batch));
          }
          failures = 0;
        } catch (error) {
          if (isConnectionError(error)) {
            // once a batch may have committed it stays "unsure" until a check or a write settles it
            this.unsure = this.inflight !== null && (this.unsure || mayHaveCommitted(error));
            this.wentDown(error);
            await Bun.sleep(backoffMs(failures++, this.opts.retryBaseMs ?? 200, this.opts.retryCapMs ?? 5000));
          } else {
            this.refused(error);
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private rowOf(item: Item) {
    const payload = item.buffered ? { ...(item.ev.payload ?? {}), bufferedAt: new Date(item.at).toISOString() } : (item.ev.payload ?? {});
    return { node_id: item.ev.nodeId, modem_id: item.ev.modemId ?? null, kind: item.ev.kind, payload };
  }

  private async insert(batch: Item[]): Promise<number[]> {
    const { sql } = this.opts;
    const rows = batch.map((i) => (i.sent = this.rowOf(i)));
    const out = await withDbTimeout(sql`insert into modem_events ${sql(rows as never, "node_id", "modem_id", "kind", "payload")} returning seq`, this.timeoutMs);
    return out.map((r) => Number(r.seq));
  }

  /** Whether the ambiguous attempt of `item`'s batch committed after all. */
  private async committed(item: Item): Promise<boolean> {
    const row = item.sent;
    if (!row) return false;
    const { sql } = this.opts;
    const found = await withDbTimeout(sql`
      select seq from modem_events
      where seq > ${this.lastSeq} and kind = ${row.kind} and node_id is not distinct from ${row.node_id}
        and modem_id is not distinct from ${row.modem_id} and payload = ${sql.json(row.payload as never)}::jsonb
      order by seq limit 1`, this.timeoutMs);
    if (found.length) log.warn({ seq: Number(found[0]!.seq), kind: row.kind }, "a write cut off by the outage had committed: not writing it twice");
    return found.length > 0;
  }

  /** The batch is in PostgreSQL: release its callers and take it off the queue. */
  private complete(batch: Item[], seqs: number[] | null): void {
    const done = new Set(batch);
    while (this.queue.length && done.has(this.queue[0]!)) this.queue.shift();
    batch.forEach((item, i) => item.resolve(seqs?.[i] ?? null));
    if (seqs?.length) this.lastSeq = Math.max(this.lastSeq, ...seqs);
    this.s.written += batch.length;
    if (this.singleRows > 0) this.singleRows = Math.max(0, this.singleRows - batch.length);
    this.inflight = null;
    this.unsure = false;
    if (this.down) {
      this.down = false;
      log.warn({ downMs: Date.now() - (this.downSince?.getTime() ?? Date.now()), queued: this.queue.length }, "PostgreSQL is back: writing buffered events");
      this.downSince = null;
    }
  }

  private wentDown(error: unknown): void {
    if (!this.down) {
      this.down = true;
      this.downSince = new Date();
      this.s.outages++;
      log.warn({ err: (error as Error).message, queued: this.queue.length }, "PostgreSQL unreachable: buffering events in memory");
    }
    for (const item of this.queue) this.park(item);
  }

  /** PostgreSQL refused the statement itself. A batch is retried row by row; a single row is skipped. */
  private refused(error: unknown): void {
    const batch = this.inflight;
    this.inflight = null;
    this.unsure = false;
    if (!batch) {
      // the drop notice itself was refused: keep the count in the log, do not loop
      log.error({ err: (error as Error).message, drop: this.drop }, "could not write the events.dropped notice");
      this.drop = null;
      return;
    }
    if (batch.length > 1) {
      this.singleRows = batch.length;
      return;
    }
    const item = batch[0]!;
    this.queue = this.queue.filter((i) => i !== item);
    this.s.refused++;
    this.singleRows = Math.max(0, this.singleRows - 1);
    log.error({ err: (error as Error).message, kind: item.ev.kind, modemId: item.ev.modemId }, "PostgreSQL refused an event: skipped");
    item.reject(error);
  }

  private async writeDropNotice(): Promise<void> {
    const info = this.drop!;
    const { sql } = this.opts;
    const payload = { dropped: info.dropped, kinds: info.kinds, firstAt: info.firstAt.toISOString(), lastAt: info.lastAt.toISOString() };
    const out = await withDbTimeout(sql`
      insert into modem_events (node_id, kind, payload) values (${this.opts.nodeId}, 'events.dropped', ${sql.json(payload as never)})
      returning seq`, this.timeoutMs);
    this.lastSeq = Math.max(this.lastSeq, Number(out[0]!.seq));
    this.drop = null;
    const notify = this.opts.onOverflow ?? ((i: OverflowInfo) => this.defaultAlert(i));
    await Promise.resolve(notify(info)).catch((e) => log.error({ err: String(e) }, "overflow alert failed"));
  }

  private async defaultAlert(info: OverflowInfo): Promise<void> {
    if (!this.opts.nodeId) return;
    await openAlert(this.opts.sql, {
      nodeId: this.opts.nodeId, kind: "events_dropped", severity: "warning", scope: "system", dedupKey: "events.dropped",
      message: `${info.dropped} events were dropped while PostgreSQL was unreachable (buffer full)`,
      details: { ...info, firstAt: info.firstAt.toISOString(), lastAt: info.lastAt.toISOString() },
    });
  }
}
