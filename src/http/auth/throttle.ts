/** In-memory sliding-window counters for login throttling and offence counting (per process; bounded). */

export class SlidingCounter {
  private hits = new Map<string, number[]>();

  constructor(private windowMs: number, private maxKeys = 10_000) {}

  /** Records one hit and returns the hits inside the window, this one included. */
  hit(key: string, now: number): number {
    const list = this.prune(key, now);
    list.push(now);
    this.hits.set(key, list);
    if (this.hits.size > this.maxKeys) this.evict(now);
    return list.length;
  }

  count(key: string, now: number): number {
    return this.prune(key, now).length;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private prune(key: string, now: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.hits.set(key, list);
    else this.hits.delete(key);
    return list;
  }

  /** Keeps memory bounded under a flood of distinct keys: drop expired keys, then the oldest. */
  private evict(now: number): void {
    for (const key of [...this.hits.keys()]) this.prune(key, now);
    while (this.hits.size > this.maxKeys) {
      const first = this.hits.keys().next().value;
      if (first === undefined) break;
      this.hits.delete(first);
    }
  }
}
