/**
 * The libc calls the kernel relay needs (bun:ffi): pipe2, splice, epoll, eventfd, dup, shutdown;
 * and listen, which the port listeners use to raise their accept backlog. Loaded lazily, separately on each thread that uses them (the main thread only dups fds and
 * wakes the worker; the splice worker does the rest). Linux only: a dlopen failure elsewhere
 * simply leaves the engine on its JS relay.
 */
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";

export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const SPLICE_F_MOVE = 1;
export const SPLICE_F_NONBLOCK = 2;
export const F_SETPIPE_SZ = 1031;
export const SHUT_WR = 1;
export const EINTR = 4;
export const EAGAIN = 11;

/**
 * struct epoll_event is packed on x86_64 (12 bytes: u32 events, u64 data at offset 4) and
 * naturally aligned elsewhere (16 bytes, data at offset 8) — <sys/epoll.h> __EPOLL_PACKED.
 */
export const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === "x64" ? 4 : 8;

function load() {
  let lastError: unknown;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      return dlopen(name, {
        pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
        // ssize_t return read as i32: every request is ≤ a pipe's size (1 MiB), so it fits.
        splice: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.u32], returns: FFIType.i32 },
        write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
        read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
        close: { args: [FFIType.i32], returns: FFIType.i32 },
        dup: { args: [FFIType.i32], returns: FFIType.i32 },
        shutdown: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        epoll_create1: { args: [FFIType.i32], returns: FFIType.i32 },
        epoll_ctl: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
        epoll_wait: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
        __errno_location: { args: [], returns: FFIType.ptr },
      });
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`cannot load libc: ${String(lastError)}`);
}

export type SpliceLibc = ReturnType<typeof load>["symbols"];

let lib: SpliceLibc | null = null;
let errnoPtr: Pointer | null = null;

/** The libc symbols for this thread; throws when libc cannot be loaded. */
export function spliceLibc(): SpliceLibc {
  if (!lib) {
    lib = load().symbols;
    errnoPtr = lib.__errno_location() as Pointer | null;
  }
  return lib;
}

/** errno of the last failed call on this thread (its location is fixed per thread). */
export function lastErrno(): number {
  return errnoPtr ? read.i32(errnoPtr, 0) : 0;
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE",
  32: "EPIPE", 103: "ECONNABORTED", 104: "ECONNRESET", 107: "ENOTCONN", 110: "ETIMEDOUT", 113: "EHOSTUNREACH",
};

export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}
