/**
 * The event stream core: one LISTEN connection; on each NOTIFY (which carries only a sequence number) read every
 * event with seq > last processed, in order. postgres.js re-LISTENs after a reconnect and calls onlisten, where we
 * replay from the last processed sequence, so a dropped connection loses nothing. A slow safety poll covers a
 * NOTIFY lost in between. Subscribers are called synchronously in sequence order, each event once.
 *
 * The reads run on a connection of their own (dedicatedConnection): on the shared pool, postgres.js pipelines a
 * query behind a busy connection's queue when every connection is busy (a history page, a health sweep's insert),
 * and a pool connection that idled out costs a connect + SCRAM auth + type fetch + prepare (~50 ms measured,
 * docs/performance.md) on the next burst. Both land straight in the live path's latency.
 */
import postgres from "postgres";
import type { Sql } from "../db/client.ts";
import { eventsAfter, lastEventSeq, type EventRow } from "../db/queries/events.ts";
import { backoffMs } from "../lib/clock.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("events");

export const EVENTS_CHANNEL = "lteproxy_events";

export type EventListener = (event: EventRow) => void;

export interface EventStreamOptions {
  /** Start after this sequence; default: the current last sequence (only new events). */
  fromSeq?: number;
  /** Safety poll interval. */
  pollMs?: number;
  batchSize?: number;
  /** A read that hangs on a half-dead connection is abandoned and retried after this long. */
  queryTimeoutMs?: number;
  /** Read on a connection of our own (default) rather than on the shared pool. */
  dedicatedReader?: boolean;
}

/**
 * A one-connection client with the pool's settings (types, transforms, credentials), connected on first use and
 * never idled out: for a reader on the live path, which must not queue behind other queries nor reconnect on a
 * burst. postgres.js builds its own LISTEN connection the same way. A handle without pool options (a transaction)
 * is returned as it is. End it with `.end()`.
 */
export function dedicatedConnection(sql: Sql, name: string): Sql {
  const options = (sql as { options?: postgres.ParsedOptions<Record<string, postgres.PostgresType>> & { shared?: unknown } }).options;
  if (!options?.shared) return sql;
  const appName = options.connection?.application_name ?? "lteproxy";
  return postgres({
    ...options,
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    connection: { ...options.connection, application_name: `${appName}-${name}` },
  } as unknown as postgres.Options<Record<string, postgres.PostgresType>>) as unknown as Sql;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`event read timed out after ${ms} ms`)), ms);
    }),
  ]);
}

export class EventStream {
  private last = 0;
  private listeners = new Set<EventListener>();
  private draining = false;
  private again = false;
  private stopped = false;
  private failures = 0;
  private poll?: ReturnType<typeof setInterval>;
  private unlisten?: () => Promise<void>;
  /** Where event rows are read: a dedicated connection, or the shared pool. */
  private reader: Sql;
  /** Commit-to-delivery lag of the last event, for metrics. */
  lastLagMs = 0;
  delivered = 0;

  constructor(private sql: Sql, private opts: EventStreamOptions = {}) {
    this.reader = sql;
  }

  /** The last sequence delivered to subscribers. */
  get lastSeq(): number {
    return this.last;
  }

  async start(): Promise<void> {
    if (this.opts.dedicatedReader !== false && this.reader === this.sql) this.reader = dedicatedConnection(this.sql, "events");
    // Connects (and warms) the reader before the first NOTIFY, even when fromSeq is given.
    const current = await lastEventSeq(this.reader);
    this.last = this.opts.fromSeq ?? current;
    const sub = await this.sql.listen(EVENTS_CHANNEL, () => this.onNotify(), () => this.kick());
    this.unlisten = () => sub.unlisten();
    this.poll = setInterval(() => this.kick(), this.opts.pollMs ?? 5000);
    this.kick();
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every event up to `seq` has been delivered (tests, graceful shutdown). */
  async waitFor(seq: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.last < seq) {
      if (Date.now() > deadline) throw new Error(`event ${seq} not delivered within ${timeoutMs} ms (at ${this.last})`);
      this.kick();
      await Bun.sleep(10);
    }
  }

  /** A NOTIFY carries only the sequence (issue 2: never rely on the payload): read from the last delivered one. */
  private onNotify(): void {
    if (this.stopped) return;
    this.kick();
  }

  /** Schedules a drain; coalesces bursts of NOTIFYs into one read loop. */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        for (;;) {
          const rows = await withTimeout(eventsAfter(this.reader, this.last, this.opts.batchSize ?? 1000), this.opts.queryTimeoutMs ?? 10_000);
          for (const row of rows) this.deliver(row);
          if (rows.length < (this.opts.batchSize ?? 1000)) break;
        }
      } while (this.again && !this.stopped);
      this.failures = 0;
      this.draining = false;
    } catch (error) {
      if (this.stopped) return;
      // DB down or connection killed: keep `last`, retry with backoff; LISTEN's onlisten also kicks on reconnect.
      // A timed-out read may still occupy the dedicated connection (a half-dead peer): start a fresh one.
      if (/timed out/.test((error as Error).message)) this.renewReader();
      this.failures++;
      log.warn({ err: (error as Error).message, last: this.last }, "event read failed; will replay from last seq");
      setTimeout(() => {
        this.draining = false;
        this.kick();
      }, backoffMs(this.failures, 200, 5000));
    }
  }

  private deliver(row: EventRow): void {
    if (row.seq <= this.last) return;
    this.last = row.seq;
    this.delivered++;
    this.lastLagMs = Math.max(0, Date.now() - new Date(row.created_at).getTime());
    for (const listener of this.listeners) {
      try {
        listener(row);
      } catch (error) {
        log.error({ err: (error as Error).message, seq: row.seq }, "event listener failed");
      }
    }
  }

  private renewReader(): void {
    if (this.reader === this.sql) return;
    const old = this.reader;
    this.reader = dedicatedConnection(this.sql, "events");
    void old.end({ timeout: 0 }).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.unlisten?.().catch(() => undefined);
    if (this.reader !== this.sql) await this.reader.end({ timeout: 1 }).catch(() => undefined);
  }
}
