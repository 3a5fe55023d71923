/**
 * Alert webhook: a JSON POST per alert opened or resolved, retried with backoff on network errors, 408, 429 and
 * 5xx (a receiver that is restarting), not on other 4xx (a wrong URL or secret will not fix itself). Deliveries
 * go out one at a time in order, so a receiver never sees "resolved" before "opened"; the queue is bounded and an
 * overflow is counted and logged, never silent.
 */
import { backoffMs } from "../lib/clock.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("alerts");

export interface WebhookOptions {
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Tries per delivery (default 4). */
  attempts?: number;
  timeoutMs?: number;
  backoffBaseMs?: number;
  /** Pending deliveries kept; older ones are dropped past this (default 1000). */
  maxQueue?: number;
}

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** One delivery with retries. Never throws. */
export async function postJson(opts: WebhookOptions, body: unknown, fetchImpl: typeof fetch = fetch): Promise<DeliveryResult> {
  const attempts = opts.attempts ?? 4;
  let last: DeliveryResult = { ok: false, attempts: 0 };
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await Bun.sleep(backoffMs(i - 1, opts.backoffBaseMs ?? 1000, 30_000));
    try {
      const res = await fetchImpl(opts.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "lteproxy-alerts", ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, attempts: i + 1, status: res.status };
      last = { ok: false, attempts: i + 1, status: res.status, error: `HTTP ${res.status}` };
      if (!retryable(res.status)) return last;
    } catch (e) {
      last = { ok: false, attempts: i + 1, error: e instanceof Error ? e.message : String(e) };
    }
  }
  return last;
}

/** An ordered, bounded delivery queue. */
export class WebhookQueue {
  private queue: unknown[] = [];
  private draining: Promise<void> | null = null;
  dropped = 0;

  constructor(private readonly opts: WebhookOptions, private readonly onResult: (r: DeliveryResult) => void = () => {}, private readonly fetchImpl: typeof fetch = fetch) {}

  push(body: unknown): void {
    this.queue.push(body);
    const max = this.opts.maxQueue ?? 1000;
    if (this.queue.length > max) {
      const n = this.queue.length - max;
      this.queue.splice(0, n);
      this.dropped += n;
      log.error({ dropped: n, total: this.dropped }, "alert webhook queue full: oldest deliveries dropped");
    }
    // The drain clears `draining` itself, in the same synchronous step in which it finds the queue empty. With a
    // `.finally()` doing it one microtask later, a push landing in between (a delivery from another promise chain)
    // saw a drain still "running" and sat in the queue until the next alert came along.
    this.draining ??= this.drain();
  }

  /** Resolves when everything queued so far was delivered or given up. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // Yield first, so that `draining` is assigned before the loop can end (push calls this with a non-empty queue).
    await Promise.resolve();
    try {
      while (this.queue.length) {
        const body = this.queue.shift();
        const r = await postJson(this.opts, body, this.fetchImpl);
        if (!r.ok) log.warn({ url: this.opts.url, attempts: r.attempts, err: r.error }, "alert webhook delivery failed");
        try {
          this.onResult(r);
        } catch (e) {
          log.warn({ err: String(e) }, "webhook result observer threw");
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
