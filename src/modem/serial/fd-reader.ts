/**
 * Pulls bytes from a tty fd through `Bun.file(fd).stream()` (Bun polls it with epoll; no thread per port)
 * and hands them out in caller-sized pieces, as serialport's `read(buffer, offset, length)` wants.
 *
 * Bun dups the fd for the stream, so the stream must be canceled before the fd is closed, or the tty stays
 * open behind our back (a pty slave then never sees its master go). Canceling resolves a pending read.
 */
export class FdReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private leftover: Uint8Array | null = null;
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  private canceled = false;

  constructor(fd: number) {
    this.reader = Bun.file(fd).stream().getReader();
  }

  /**
   * Resolves with 1..max bytes, or null at end of stream. Rejects with the underlying read error,
   * or with whatever `interrupt` rejects with first (hang-up detected elsewhere, close).
   */
  async next(max: number, interrupt: Promise<never>): Promise<Uint8Array | null> {
    for (;;) {
      if (this.leftover) return this.take(this.leftover, max);
      if (this.canceled) return null;
      if (!this.pending) {
        const read = this.reader.read();
        // The race below may abandon this promise; never let its rejection go unhandled.
        read.catch(() => undefined);
        this.pending = read as Promise<ReadableStreamReadResult<Uint8Array>>;
      }
      const result: ReadableStreamReadResult<Uint8Array> = await Promise.race([this.pending, interrupt]);
      this.pending = null;
      if (result.done) return null;
      if (result.value && result.value.byteLength > 0) this.leftover = result.value;
    }
  }

  /** Drops bytes already pulled from the kernel but not handed out (flush). */
  discard(): void {
    this.leftover = null;
  }

  /** Ends the stream; never waits longer than `timeoutMs` for Bun to let go. */
  async cancel(timeoutMs = 500): Promise<void> {
    if (this.canceled) return;
    this.canceled = true;
    this.leftover = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.reader.cancel().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private take(chunk: Uint8Array, max: number): Uint8Array {
    if (chunk.byteLength <= max) {
      this.leftover = null;
      return chunk;
    }
    this.leftover = chunk.subarray(max);
    return chunk.subarray(0, max);
  }
}
