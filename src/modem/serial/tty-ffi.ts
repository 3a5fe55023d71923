/**
 * tty calls the serial binding needs beyond src/lib/libc.ts: poll (hang-up watch), flock (exclusive
 * ownership, like serialport's `lock: true`) and ioctl (modem lines, output queue). Loaded lazily.
 * Kept here rather than in src/lib/libc.ts because only the serial binding uses them.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { errno, libc, TCSANOW } from "../../lib/libc.ts";

function load() {
  let lastError: unknown;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      return dlopen(name, {
        poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
      });
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`cannot load libc: ${String(lastError)}`);
}

let lib: ReturnType<typeof load> | undefined;
function sym() {
  lib ??= load();
  return lib.symbols;
}

const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;

/**
 * Non-blocking check whether the tty behind `fd` has hung up (device gone, pty master closed).
 * Returns the poll revents bits that signal it, or 0.
 */
export function hangupBits(fd: number): number {
  const pfd = new Int32Array(2);
  const view = new DataView(pfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  if (sym().poll(ptr(pfd), 1, 0) <= 0) return 0;
  return view.getInt16(6, true) & (POLLERR | POLLHUP | POLLNVAL);
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/**
 * Takes an exclusive advisory lock. Returns null on success, else the errno (EWOULDBLOCK = 11 when another
 * holder exists; 0 when errno could not be read back through FFI, which still means failure).
 */
export function lockExclusive(fd: number): number | null {
  return sym().flock(fd, LOCK_EX | LOCK_NB) === 0 ? null : errno();
}

export function unlock(fd: number): void {
  sym().flock(fd, LOCK_UN);
}

// Linux ioctl numbers (asm-generic, same on x86_64 and aarch64).
const TIOCOUTQ = 0x5411;
const TIOCMGET = 0x5415;
const TIOCMSET = 0x5418;
const TIOCSBRK = 0x5427;
const TIOCCBRK = 0x5428;
export const TIOCM = { DTR: 0x002, RTS: 0x004, CTS: 0x020, CAR: 0x040, DSR: 0x100 } as const;

/** Modem line bits, or null when the tty has none (ptys answer ENOTTY/EINVAL). */
export function getModemBits(fd: number): number | null {
  const out = new Int32Array(1);
  return sym().ioctl(fd, TIOCMGET, ptr(out)) === 0 ? out[0]! : null;
}

/** Sets modem line bits; false when the tty has none. */
export function setModemBits(fd: number, bits: number): boolean {
  const v = new Int32Array([bits]);
  return sym().ioctl(fd, TIOCMSET, ptr(v)) === 0;
}

export function setBreak(fd: number, on: boolean): boolean {
  const dummy = new Int32Array(1);
  return sym().ioctl(fd, on ? TIOCSBRK : TIOCCBRK, ptr(dummy)) === 0;
}

/** Bytes still in the kernel output queue, or null if unknown. */
export function outputQueued(fd: number): number | null {
  const out = new Int32Array(1);
  return sym().ioctl(fd, TIOCOUTQ, ptr(out)) === 0 ? out[0]! : null;
}

// glibc struct termios: c_iflag@0 c_oflag@4 c_cflag@8 c_lflag@12 (u32 each).
const C_CFLAG_OFFSET = 8;
const CREAD = 0o200;
const HUPCL = 0o2000;
const CLOCAL = 0o4000;

/**
 * After makeRaw: CLOCAL|CREAD so that a dropped DCD (EC25 `AT&C1` lowers it outside data mode) never
 * hangs the tty up under us, and HUPCL as asked (drop DTR on close). cfmakeraw leaves these alone.
 */
export function setLocalMode(fd: number, hupcl: boolean): void {
  const t = new Uint8Array(64);
  const c = libc();
  if (c.tcgetattr(fd, ptr(t)) !== 0) throw new Error(`tcgetattr(${fd}) failed: errno ${errno()}`);
  const view = new DataView(t.buffer);
  let cflag = view.getUint32(C_CFLAG_OFFSET, true) | CLOCAL | CREAD;
  cflag = hupcl ? cflag | HUPCL : cflag & ~HUPCL;
  view.setUint32(C_CFLAG_OFFSET, cflag >>> 0, true);
  if (c.tcsetattr(fd, TCSANOW, ptr(t)) !== 0) throw new Error(`tcsetattr(${fd}) failed: errno ${errno()}`);
}
