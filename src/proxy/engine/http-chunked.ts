import type { BodyFraming } from "./http-head.ts";

/**
 * Finds where a chunked body ends without changing a byte of it: the proxy forwards chunks as
 * they come and only needs to know when the message is over (to read the next request on a
 * keep-alive connection). Incremental: feed it every chunk of the stream.
 */

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

const MAX_LINE = 4096;

export class ChunkedTracker {
  private s = S.Size;
  private size = 0;
  private digits = 0;
  private lineLen = 0;
  private trailerBytes = 0;

  get done(): boolean {
    return this.s === S.Done;
  }

  /**
   * Consumes bytes from `buf[from..]`. Returns the index just past the end of the body when it
   * ends inside this buffer, or -1 when it needs more. Throws on malformed framing.
   */
  feed(buf: Uint8Array, from = 0): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.s) {
        case S.Data: {
          const take = Math.min(this.size, n - i);
          this.size -= take;
          i += take;
          if (this.size === 0) this.s = S.DataCr;
          continue;
        }
        case S.Size: {
          const c = buf[i++];
          const hex = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
          if (hex >= 0) {
            if (++this.digits > 12) throw new Error("chunk size too large");
            this.size = this.size * 16 + hex;
          } else if (this.digits === 0) {
            throw new Error("chunk size missing");
          } else if (c === 0x0d) {
            this.s = S.SizeLf;
          } else if (c === 0x0a) {
            this.endSizeLine();
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.s = S.Ext;
            this.lineLen = 0;
          } else throw new Error("bad chunk size");
          continue;
        }
        case S.Ext: {
          const c = buf[i++];
          if (++this.lineLen > MAX_LINE) throw new Error("chunk extension too long");
          if (c === 0x0a) this.endSizeLine();
          else if (c === 0x0d) this.s = S.SizeLf;
          continue;
        }
        case S.SizeLf:
          if (buf[i++] !== 0x0a) throw new Error("bad chunk line end");
          this.endSizeLine();
          continue;
        case S.DataCr: {
          const c = buf[i++];
          if (c === 0x0d) this.s = S.DataLf;
          else if (c === 0x0a) this.startSize();
          else throw new Error("chunk data not followed by CRLF");
          continue;
        }
        case S.DataLf:
          if (buf[i++] !== 0x0a) throw new Error("chunk data not followed by CRLF");
          this.startSize();
          continue;
        case S.TrailerStart: {
          const c = buf[i++];
          if (c === 0x0d) this.s = S.FinalLf;
          else if (c === 0x0a) this.s = S.Done;
          else {
            this.s = S.Trailer;
            this.lineLen = 1;
          }
          if (++this.trailerBytes > 16384) throw new Error("trailers too large");
          if (this.s === S.Done) return i;
          continue;
        }
        case S.Trailer: {
          const c = buf[i++];
          if (++this.trailerBytes > 16384) throw new Error("trailers too large");
          if (c === 0x0a) this.s = S.TrailerStart;
          else if (c === 0x0d) this.s = S.TrailerLf;
          continue;
        }
        case S.TrailerLf:
          if (buf[i++] !== 0x0a) throw new Error("bad trailer line end");
          this.s = S.TrailerStart;
          continue;
        case S.FinalLf:
          if (buf[i++] !== 0x0a) throw new Error("bad final line end");
          this.s = S.Done;
          return i;
        case S.Done:
          return i;
      }
    }
    return this.s === S.Done ? i : -1;
  }

  private startSize(): void {
    this.s = S.Size;
    this.size = 0;
    this.digits = 0;
  }

  private endSizeLine(): void {
    this.s = this.size === 0 ? S.TrailerStart : S.Data;
  }
}

/**
 * Where a message body ends, for any framing: `take` says how many of the bytes from `start`
 * belong to the body and whether the body is complete. Throws on malformed chunked framing.
 */
export class BodyTracker {
  private remaining: number;
  private chunked: ChunkedTracker | null;

  constructor(readonly framing: BodyFraming) {
    this.remaining = framing.kind === "length" ? framing.length : 0;
    this.chunked = framing.kind === "chunked" ? new ChunkedTracker() : null;
  }

  /** True for framings that end without any byte (no body, Content-Length: 0). */
  get empty(): boolean {
    return this.framing.kind === "none" || (this.framing.kind === "length" && this.remaining === 0);
  }

  /** Content-Length bytes still to come (0 for other framings). */
  get lengthLeft(): number {
    return this.framing.kind === "length" ? this.remaining : 0;
  }

  /** Records `n` body bytes that went past without `take` (spliced in the kernel). */
  skip(n: number): boolean {
    if (this.framing.kind === "length") this.remaining = Math.max(0, this.remaining - n);
    return this.framing.kind === "length" && this.remaining === 0;
  }

  take(buf: Uint8Array, start = 0): { end: number; done: boolean } {
    const avail = buf.length - start;
    switch (this.framing.kind) {
      case "none":
        return { end: 0, done: true };
      case "close":
        return { end: avail, done: false };
      case "length": {
        const end = Math.min(this.remaining, avail);
        this.remaining -= end;
        return { end, done: this.remaining === 0 };
      }
      case "chunked": {
        const e = this.chunked!.feed(start === 0 ? buf : buf.subarray(start));
        return e >= 0 ? { end: e, done: true } : { end: avail, done: false };
      }
    }
  }
}
