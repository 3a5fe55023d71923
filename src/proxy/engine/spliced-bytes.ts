/**
 * A connection's running splice job (splice-relay.ts) and how much of what it moved the connection already counted.
 * The kernel moves the bytes; poll() folds the new ones into the port and user counters and the connection log
 * record, which also moves the idle clock. Called on the sweeper's tick and before the record closes.
 */
import type { ClientConn } from "./client-conn.ts";
import type { SpliceHandle } from "./splice-relay.ts";

export class SplicedBytes {
  private countedUp = 0;
  private countedDown = 0;

  constructor(
    private conn: ClientConn,
    private handle: SpliceHandle,
  ) {}

  /** Client → target bytes the kernel moved so far. */
  get up(): number {
    return this.handle.up;
  }

  /** Target → client bytes the kernel moved so far. */
  get down(): number {
    return this.handle.down;
  }

  poll(): void {
    const up = this.handle.up - this.countedUp;
    const down = this.handle.down - this.countedDown;
    if (up > 0) {
      this.countedUp += up;
      this.conn.countUp(up);
    }
    if (down > 0) {
      this.countedDown += down;
      this.conn.countDown(down);
    }
  }

  /** Counts what moved, then stops the job (the worker closes its fds; onDone is not called). */
  abort(): void {
    this.poll();
    this.handle.abort();
  }
}
