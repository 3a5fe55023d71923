/**
 * Messages between the engine (main thread) and the splice worker. Side a is the client, side b
 * the upstream; "ab" is client → upstream. A direction's byte budget: -1 = until EOF, 0 = not
 * spliced, n > 0 = exactly n bytes (an HTTP response body), then the worker hands the sockets back.
 */

export interface SpliceAdd {
  t: "add";
  id: number;
  /** dup()s of the Bun sockets' fds: the worker owns and closes these, never Bun's. */
  a: number;
  b: number;
  /** Bytes to write before splicing (leftovers and queued writes the engine already holds). */
  toA: Uint8Array | null;
  toB: Uint8Array | null;
  ab: number;
  ba: number;
  /** Pass a direction's EOF on as shutdown(SHUT_WR) (a CONNECT tunnel); off for a body splice. */
  halfClose: boolean;
  /** Shared Float64Array(2): bytes moved a→b, b→a (prefixes excluded), written by the worker. */
  counts: Float64Array;
}

export type ToWorker = SpliceAdd | { t: "abort"; id: number } | { t: "stop" };

export type SpliceHow =
  /** Every direction ended with EOF (or its budget, for mixed jobs). */
  | "eof"
  /** Every limited direction moved exactly its budget. */
  | "limit"
  /** A read or write failed (reset, broken pipe). */
  | "error"
  /** Pipes could not be created: nothing was read or written, the JS relay can take over. */
  | "setup_failed";

export interface SpliceDoneMessage {
  t: "done";
  id: number;
  how: SpliceHow;
  error: string | null;
  /** EOF seen on a's / b's read side. */
  eofA: boolean;
  eofB: boolean;
}

export type FromWorker = SpliceDoneMessage | { t: "ready" } | { t: "fatal"; error: string };

/** Token of the wake-up eventfd in the worker's epoll set (tunnel tokens are id*2+side). */
export const WAKE_TOKEN = 0xffffffff;
