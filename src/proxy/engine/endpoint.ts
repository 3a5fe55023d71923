/**
 * One side of a proxied connection with backpressure. Bun's raw sockets do not buffer: write()
 * returns how many bytes the kernel took and the rest is ours to keep until `drain`. An Endpoint
 * keeps that remainder (at most about one read's worth, because the producer is paused as soon as
 * anything is queued) and tells the producer when it may read again.
 */
import type { Socket } from "bun";

export class Endpoint {
  private queue: Uint8Array[] = [];
  queuedBytes = 0;
  /** Set by the producer: called once everything queued has reached the kernel. */
  onDrained: (() => void) | null = null;
  private ending = false;
  closed = false;
  /** Reading paused by us (tracked so that redundant pause/resume syscalls are skipped). */
  paused = false;

  constructor(readonly sock: Socket<unknown>) {}

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.sock.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.sock.resume();
  }

  /** Writes or queues `chunk`. Returns false when the caller should pause its source. */
  write(chunk: Uint8Array): boolean {
    if (this.closed || this.ending) return true;
    if (this.queuedBytes > 0) {
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
      return false;
    }
    const n = this.sock.write(chunk);
    if (n === chunk.length) return true;
    if (n < 0) {
      this.closed = true;
      return true;
    }
    const rest = n > 0 ? chunk.subarray(n) : chunk;
    this.queue.push(rest);
    this.queuedBytes += rest.length;
    return false;
  }

  /** Call from the socket's `drain` handler. */
  drain(): void {
    while (this.queue.length > 0) {
      const c = this.queue[0];
      const n = this.sock.write(c);
      if (n < 0) {
        this.closed = true;
        return;
      }
      if (n < c.length) {
        this.queue[0] = c.subarray(n);
        this.queuedBytes -= n;
        return;
      }
      this.queue.shift();
      this.queuedBytes -= c.length;
    }
    if (this.ending) return this.finish();
    const cb = this.onDrained;
    this.onDrained = null;
    cb?.();
  }

  /** Sends FIN once the queue is flushed; the socket can still receive (half-close). */
  shutdownWrite(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.closeWhenFlushed = false;
    if (this.queuedBytes === 0) this.finish();
  }

  /** Closes gracefully once everything queued is written. */
  end(): void {
    if (this.closed) return;
    if (this.queuedBytes === 0) return this.close();
    this.ending = true;
    this.closeWhenFlushed = true;
  }

  private closeWhenFlushed = false;

  private finish(): void {
    if (this.closed) return;
    if (this.closeWhenFlushed) return this.close();
    try {
      this.sock.shutdown();
    } catch {}
  }

  /** Closes now: close(2) (FIN) by default, a reset with `abort`. Anything queued is dropped. */
  close(abort = false): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    try {
      if (abort) this.sock.terminate();
      else this.sock.end();
    } catch {}
  }

  /** What is queued and not yet written (for a writer that takes the socket over), or null. */
  peekQueued(): Uint8Array | null {
    if (this.queuedBytes === 0) return null;
    return this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue);
  }

  /** Forgets the queue after another writer took it (see peekQueued); nothing waits for drain. */
  dropQueued(): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.onDrained = null;
  }

  get isEnding(): boolean {
    return this.ending;
  }
}

/**
 * Forwards `chunk` from `src`'s socket to `dst`; pauses `src` while `dst` is congested and
 * resumes it when `dst` drains. This is the whole flow-control story: no body is ever buffered
 * beyond one socket read.
 */
export function forward(src: Endpoint, dst: Endpoint, chunk: Uint8Array): void {
  if (!dst.write(chunk)) {
    src.pause();
    dst.onDrained = () => {
      if (!src.closed) src.resume();
    };
  }
}
