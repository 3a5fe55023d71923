/**
 * One timer for every connection's handshake, idle and linger timeouts. A per-connection
 * setTimeout refreshed on every chunk would cost more than the data path it guards; instead each
 * connection stamps `sweeper.now` (a cached clock) when bytes move and the sweeper looks at all
 * of them a few times per timeout period.
 */

export interface Sweepable {
  /** Called with the cached clock; the connection decides whether a deadline passed. */
  sweep(now: number): void;
}

export class Sweeper {
  /** Coarse clock (ms), refreshed every tick; cheap to read on the data path. */
  now = Date.now();
  private items = new Set<Sweepable>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private intervalMs: number) {}

  add(item: Sweepable): void {
    this.items.add(item);
    if (this.items.size === 1) this.now = Date.now();
    if (!this.timer) this.start();
  }

  delete(item: Sweepable): void {
    this.items.delete(item);
  }

  get size(): number {
    return this.items.size;
  }

  /** Shorter timeouts (tests, a reload) need a faster tick. */
  setInterval(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  private start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  tick(): void {
    this.now = Date.now();
    for (const item of this.items) item.sweep(this.now);
    if (this.items.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Tick so that a timeout fires at most ~25% late, within [20 ms, 1 s]. */
export function sweepIntervalFor(timeouts: { handshakeMs: number; idleMs: number }): number {
  return Math.max(20, Math.min(1000, Math.floor(Math.min(timeouts.handshakeMs, timeouts.idleMs) / 4)));
}
