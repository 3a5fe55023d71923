/**
 * The few libc calls Bun does not expose: pseudo-terminals and termios.
 * Loaded lazily so that code paths which never touch a tty (proxy engine, http) do not dlopen libc.
 */
import { dlopen, FFIType, ptr, CString, toArrayBuffer } from "bun:ffi";

const LIBC_CANDIDATES = ["libc.so.6", "libc.so"];

/** termios struct on Linux (x86_64 and aarch64 glibc): 60 bytes; we allocate generously. */
export const TERMIOS_SIZE = 64;

function load() {
  let lastError: unknown;
  for (const name of LIBC_CANDIDATES) {
    try {
      return dlopen(name, {
        posix_openpt: { args: [FFIType.i32], returns: FFIType.i32 },
        grantpt: { args: [FFIType.i32], returns: FFIType.i32 },
        unlockpt: { args: [FFIType.i32], returns: FFIType.i32 },
        ptsname: { args: [FFIType.i32], returns: FFIType.ptr },
        tcgetattr: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
        tcsetattr: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
        cfmakeraw: { args: [FFIType.ptr], returns: FFIType.void },
        cfsetspeed: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
        tcflush: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        __errno_location: { args: [], returns: FFIType.ptr },
      });
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`cannot load libc: ${String(lastError)}`);
}

let lib: ReturnType<typeof load> | undefined;
/** The libc symbols; dlopen happens on first use. */
export function libc() {
  lib ??= load();
  return lib.symbols;
}

/** errno of the last failed libc call on this thread. */
export function errno(): number {
  const p = libc().__errno_location();
  if (!p) return 0;
  return new Int32Array(toArrayBuffer(p, 4))[0] ?? 0;
}


export const O_RDWR = 0o2;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
export const TCSANOW = 0;
export const TCIOFLUSH = 2;

/** Speed constants for cfsetspeed (Linux termios Bxxx values). */
export const BAUD: Record<number, number> = {
  9600: 0o15, 19200: 0o16, 38400: 0o17, 57600: 0o10001, 115200: 0o10002,
  230400: 0o10003, 460800: 0o10004, 921600: 0o10007,
};

/**
 * Puts an open tty fd into raw mode at the given baud rate (USB serial ignores the rate, a UART does not).
 * Throws with errno on failure.
 */
export function makeRaw(fd: number, baudRate = 115200): void {
  const t = new Uint8Array(TERMIOS_SIZE);
  const c = libc();
  if (c.tcgetattr(fd, ptr(t)) !== 0) throw new Error(`tcgetattr(${fd}) failed: errno ${errno()}`);
  c.cfmakeraw(ptr(t));
  const speed = BAUD[baudRate];
  if (speed === undefined) throw new Error(`unsupported baud rate ${baudRate}`);
  if (c.cfsetspeed(ptr(t), speed) !== 0) throw new Error(`cfsetspeed failed: errno ${errno()}`);
  if (c.tcsetattr(fd, TCSANOW, ptr(t)) !== 0) throw new Error(`tcsetattr(${fd}) failed: errno ${errno()}`);
}

export interface Pty {
  /** Master side fd, owned by the simulator. */
  masterFd: number;
  /** Path of the slave side (/dev/pts/N), which the host opens like /dev/ttyUSB2. */
  slavePath: string;
}

/** Opens a new pseudo-terminal pair without any helper process. The master is O_NONBLOCK. */
export function openPty(): Pty {
  const c = libc();
  const masterFd = c.posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
  if (masterFd < 0) throw new Error(`posix_openpt failed: errno ${errno()}`);
  if (c.grantpt(masterFd) !== 0 || c.unlockpt(masterFd) !== 0) {
    throw new Error(`grantpt/unlockpt failed: errno ${errno()}`);
  }
  const name = c.ptsname(masterFd);
  if (!name) throw new Error(`ptsname failed: errno ${errno()}`);
  const slavePath = new CString(name).toString();
  // Raw mode on the master too: no line discipline echo or CRLF translation between the two sides.
  makeRaw(masterFd);
  return { masterFd, slavePath };
}
