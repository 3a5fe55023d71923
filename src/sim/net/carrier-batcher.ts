/**
 * Coalesces carrier changes. When 100 simulated modems dial at once, their sessionUp calls land in one batch: one
 * `nft -f`, one hosts-file rewrite + SIGHUP, one `ip -batch`, instead of three processes per modem.
 * Batches run one at a time, in submission order; changes submitted while a batch runs go into the next one.
 */
export interface CarrierChange {
  /** nft commands, e.g. "add element ip ltpx snat4 { a : b }". */
  nft?: string[];
  /** The DHCP reservations changed (the hosts file is rewritten from the lab's state at flush time). */
  hosts?: boolean;
  /** `ip -n <carrier> -batch` lines, e.g. "link set dev m3 up". */
  ip?: string[];
}

export interface CarrierBatch {
  nft: string[];
  hosts: boolean;
  ip: string[];
}

type Waiter = { resolve: () => void; reject: (e: unknown) => void };

export class CarrierBatcher {
  private pending: CarrierBatch = { nft: [], hosts: false, ip: [] };
  private waiters: Waiter[] = [];
  private running = false;
  private scheduled = false;
  private closed = false;

  constructor(private readonly apply: (batch: CarrierBatch) => Promise<void>) {}

  /** Queues a change; resolves once the batch that carries it has been applied (rejects with its error). */
  submit(change: CarrierChange): Promise<void> {
    if (this.closed) return Promise.reject(new Error("carrier batcher closed"));
    this.pending.nft.push(...(change.nft ?? []));
    this.pending.ip.push(...(change.ip ?? []));
    this.pending.hosts ||= change.hosts ?? false;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /** Rejects whatever is still queued; later submits reject at once. */
  close(): void {
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error("lab destroyed"));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // A macrotask, not a microtask: lets every caller of a Promise.all(...) submit before the batch is cut.
    setTimeout(() => void this.flush(), 0);
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.closed || this.waiters.length === 0) return;
    this.running = true;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = { nft: [], hosts: false, ip: [] };
    this.waiters = [];
    try {
      await this.apply(batch);
      for (const w of waiters) w.resolve();
    } catch (error) {
      for (const w of waiters) w.reject(error);
    } finally {
      this.running = false;
      if (this.waiters.length > 0) this.schedule();
    }
  }
}
