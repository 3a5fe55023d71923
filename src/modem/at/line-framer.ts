/**
 * Bytes → lines for the AT port (ec25.md §3.2, §3.4.1): split on CR or LF, drop empty lines, survive any
 * garbage. Works on bytes so a UTF-8 sequence split across reads decodes correctly; invalid bytes become
 * U+FFFD, control characters and NULs are removed. Also exposes the unterminated tail for the `> ` prompt.
 */
const CR = 0x0d;
const LF = 0x0a;

export interface FramerStats {
  /** Partial lines thrown away because they grew past maxLineBytes without a terminator. */
  overflows: number;
}

export class LineFramer {
  private buf: Uint8Array;
  private len = 0;
  private readonly maxLineBytes: number;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  readonly stats: FramerStats = { overflows: 0 };

  constructor(maxLineBytes = 8192) {
    this.maxLineBytes = maxLineBytes;
    this.buf = new Uint8Array(Math.min(256, maxLineBytes));
  }

  /** Feeds bytes; returns the complete, cleaned, non-empty lines they finished. */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === CR || b === LF) {
        if (this.len > 0) {
          const line = clean(this.decoder.decode(this.buf.subarray(0, this.len)));
          this.len = 0;
          if (line !== "") lines.push(line);
        }
        continue;
      }
      if (this.len >= this.maxLineBytes) {
        // A line this long is garbage (or a modem spewing binary): drop it rather than grow without bound.
        this.len = 0;
        this.stats.overflows++;
      }
      if (this.len === this.buf.length) {
        const bigger = new Uint8Array(Math.min(this.buf.length * 2, this.maxLineBytes));
        bigger.set(this.buf);
        this.buf = bigger;
      }
      this.buf[this.len++] = b;
    }
    return lines;
  }

  /** The unterminated tail, cleaned ("" when empty). */
  partial(): string {
    return this.len === 0 ? "" : clean(this.decoder.decode(this.buf.subarray(0, this.len)));
  }

  /** True when the tail is the SMS input prompt `> ` (no CRLF follows it, ec25.md §3.2). */
  atPrompt(): boolean {
    if (this.len === 0 || this.len > 2) return false;
    return this.buf[0] === 0x3e && (this.len === 1 || this.buf[1] === 0x20);
  }

  /** Forgets the unterminated tail (after a prompt, or to drop stale bytes on resync). */
  reset(): void {
    this.len = 0;
  }
}

function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, "").trim();
}
