/**
 * One serial port of a simulated modem: a real pseudo-terminal (no helper process). The host opens the slave
 * (/dev/pts/N, reached through DIR/<slot>/at) exactly like /dev/ttyUSB2.
 *
 * Host presence: a pty master reads EIO while no process holds the slave open. The port starts "absent" (we open and
 * close the slave once so that the kernel marks the other side closed), polls cheaply while absent, and streams with
 * Bun.file(fd).stream() while a host is there. Output written while nobody listens is dropped, like URCs a real
 * module emits before the host opened its ttyUSB.
 */
import fs from "node:fs";
import { dlopen, FFIType, ptr, toArrayBuffer } from "bun:ffi";
import { errno, openPty, O_NOCTTY, O_NONBLOCK, O_RDWR } from "../../lib/libc.ts";

const POLL_MS = 50;
const EAGAIN = 11;

/**
 * A raw read(2) for the presence poll: fs.readSync throws a JS exception on every EIO/EAGAIN, which costs ~5× more
 * (100 modems = 4000 polls/s: ~4.5 % of a core with exceptions, <1 % this way; bench/lab.ts).
 */
let rawRead: ((fd: number, buf: Buffer) => number) | undefined;
/** errno of the JS thread, read through a view made once (libc's errno() allocates per call). */
let errnoView: Int32Array | undefined;

/** read(2) on a non-blocking fd: bytes read, or -errno. */
function pollRead(fd: number, buf: Buffer): number {
  if (!rawRead) {
    const lib = dlopen("libc.so.6", {
      read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    rawRead = (f, b) => Number(lib.symbols.read(f, ptr(b), b.length));
    const loc = lib.symbols.__errno_location();
    errnoView = loc ? new Int32Array(toArrayBuffer(loc, 0, 4)) : undefined;
  }
  const n = rawRead(fd, buf);
  return n >= 0 ? n : -(errnoView?.[0] ?? errno());
}
const absentPorts = new Set<PtyPort>();
let poller: ReturnType<typeof setInterval> | undefined;

function ensurePoller(): void {
  if (poller || absentPorts.size === 0) return;
  poller = setInterval(() => {
    for (const port of absentPorts) port.poll();
    if (absentPorts.size === 0 && poller) { clearInterval(poller); poller = undefined; }
  }, POLL_MS);
  poller.unref?.();
}

const errCode = (e: unknown) => (e as { code?: string }).code;

export class PtyPort {
  readonly slavePath: string;
  private readonly masterFd: number;
  private reader?: ReadableStreamDefaultReader<Uint8Array>;
  private present = false;
  private closed = false;
  private readonly buf = Buffer.alloc(4096);

  constructor(private readonly onData: (bytes: Uint8Array) => void) {
    const pty = openPty();
    this.masterFd = pty.masterFd;
    this.slavePath = pty.slavePath;
    // openPty() made the master raw, and on Linux that sets the slave's termios, so the host sees no line
    // discipline echo even before it calls makeRaw. Open+close the slave once: the master now reads EIO until a host
    // opens it, which is how we tell "nobody is listening".
    try {
      fs.closeSync(fs.openSync(this.slavePath, O_RDWR | O_NOCTTY | O_NONBLOCK));
    } catch { /* the poll below copes either way */ }
    absentPorts.add(this);
    ensurePoller();
  }

  /** True while a host process holds the slave open. */
  get hostPresent(): boolean {
    return this.present;
  }

  /** Writes to the host; dropped while absent or when the host does not read (full buffer). */
  write(data: string | Uint8Array): void {
    if (this.closed || !this.present) return;
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    let off = 0;
    try {
      while (off < bytes.length) off += fs.writeSync(this.masterFd, bytes, off, bytes.length - off);
    } catch (e) {
      if (errCode(e) !== "EAGAIN") this.markAbsent();
    }
  }

  /** Called by the shared poller while absent. */
  poll(): void {
    if (this.closed || this.present) return;
    let n = pollRead(this.masterFd, this.buf);
    if (n === -EAGAIN) n = 0; // a host holds the slave open, nothing written yet
    else if (n <= 0) return; // -EIO: still nobody on the slave side

    this.present = true;
    absentPorts.delete(this);
    if (n > 0) this.onData(Uint8Array.from(this.buf.subarray(0, n)));
    this.stream();
  }

  private stream(): void {
    const reader = Bun.file(this.masterFd).stream().getReader();
    this.reader = reader;
    (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || this.closed) break;
          if (value && value.length > 0) this.onData(value);
        }
      } catch { /* EIO: the host closed the slave */ }
      if (this.reader === reader) this.reader = undefined;
      if (!this.closed) this.markAbsent();
    })();
  }

  private markAbsent(): void {
    if (this.closed) return;
    this.present = false;
    absentPorts.add(this);
    ensurePoller();
  }

  /** The port vanishes: the host's reads end (EOF) and /dev/pts/N disappears. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    absentPorts.delete(this);
    const reader = this.reader;
    this.reader = undefined;
    if (reader) await reader.cancel().catch(() => {});
    try { fs.closeSync(this.masterFd); } catch { /* already closed */ }
  }
}
