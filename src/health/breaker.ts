/**
 * A per-modem circuit breaker for the heal ladder. Closed: ladders may start. A ladder that ends `failed` opens it
 * for the cool-down; then one ladder may run (half-open). Another failure opens it again for twice as long (up to
 * the cap), so a dead modem is retried a few times a day, not every sweep; a recovery closes it.
 */
export interface BreakerOptions {
  /** First cool-down after a failed ladder (default 30 min). */
  cooldownMs: number;
  /** Longest cool-down (default 6 h). */
  maxCooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { cooldownMs: 30 * 60_000, maxCooldownMs: 6 * 3_600_000 };

interface Entry {
  openUntil: number;
  failures: number;
}

export class Breakers {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly opts: BreakerOptions = DEFAULT_BREAKER) {}

  /** Whether a ladder may start for `modemId` at `now`. */
  allows(modemId: number, now: number): boolean {
    const e = this.entries.get(modemId);
    return !e || now >= e.openUntil;
  }

  /** A ladder failed: open for the (growing) cool-down. Returns the time it closes. */
  trip(modemId: number, now: number): number {
    const e = this.entries.get(modemId) ?? { openUntil: 0, failures: 0 };
    e.failures++;
    e.openUntil = now + Math.min(this.opts.maxCooldownMs, this.opts.cooldownMs * 2 ** (e.failures - 1));
    this.entries.set(modemId, e);
    return e.openUntil;
  }

  /**
   * After a restart a `failed` modem's breaker is unknown: treat it as tripped when the modem became failed, so the
   * cool-down runs from then rather than retrying at once.
   */
  restore(modemId: number, failedSince: number): void {
    if (!this.entries.has(modemId)) this.entries.set(modemId, { openUntil: failedSince + this.opts.cooldownMs, failures: 1 });
  }

  reset(modemId: number): void {
    this.entries.delete(modemId);
  }

  openUntil(modemId: number): number | null {
    return this.entries.get(modemId)?.openUntil ?? null;
  }

  /** Modems whose breaker is open at `now`. */
  open(now: number): number[] {
    return [...this.entries].filter(([, e]) => now < e.openUntil).map(([id]) => id);
  }
}
