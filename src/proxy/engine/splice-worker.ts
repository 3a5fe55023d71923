/**
 * The kernel relay thread: established tunnels move through a pipe with splice(2), so their bytes
 * never enter JS (measured on the JS relay: ~27 % of the engine's time was a memmove of every
 * chunk into a fresh Buffer, another ~10 % page faults on those buffers; docs/performance.md).
 * It blocks in epoll_wait, which is why it is a Worker: the main event loop never waits on it.
 *
 * Edge-triggered epoll: any event on either socket of a tunnel pumps both of its directions until
 * the kernel says EAGAIN, so no edge is lost. Backpressure is the pipe itself: when the
 * destination is full the pipe stays full and the source is not read until EPOLLOUT.
 * Commands arrive on a MessagePort read synchronously after a write to an eventfd wakes us.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import type { FromWorker, SpliceAdd, SpliceHow, ToWorker } from "./splice-protocol.ts";
import { WAKE_TOKEN } from "./splice-protocol.ts";
import {
  EAGAIN,
  EINTR,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  errnoName,
  F_SETPIPE_SZ,
  lastErrno,
  O_CLOEXEC,
  O_NONBLOCK,
  SHUT_WR,
  SPLICE_F_MOVE,
  SPLICE_F_NONBLOCK,
  spliceLibc,
} from "./splice-ffi.ts";

const FLAGS = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
/** Pump rounds per tunnel per wake-up before others get their turn (one busy tunnel must not starve the rest). */
const ROUNDS = 16;
const MAX_EVENTS = 256;

interface Dir {
  src: number;
  dst: number;
  pr: number;
  pw: number;
  inPipe: number;
  /** The pipe's capacity. */
  cap: number;
  /** Bytes still allowed (-1 = until EOF). */
  left: number;
  prefix: Uint8Array | null;
  srcEof: boolean;
  done: boolean;
  moved: number;
  slot: 0 | 1;
}

interface Tun {
  id: number;
  a: number;
  b: number;
  halfClose: boolean;
  dirs: Dir[];
  counts: Float64Array;
  error: string | null;
}

const c = spliceLibc();
const { port, wakeFd, pipeBytes } = workerData as { port: MessagePort; wakeFd: number; pipeBytes: number };
const post = (m: FromWorker) => parentPort!.postMessage(m);
const ep = c.epoll_create1(O_CLOEXEC);
const ev = new Uint8Array(EPOLL_EVENT_SIZE);
const evView = new DataView(ev.buffer);
const tunnels = new Map<number, Tun>();
const again = new Set<Tun>();

function ctl(op: number, fd: number, events: number, token: number): number {
  evView.setUint32(0, events >>> 0, true);
  evView.setUint32(EPOLL_DATA_OFFSET, token, true);
  evView.setUint32(EPOLL_DATA_OFFSET + 4, 0, true);
  return c.epoll_ctl(ep, op, fd, ev);
}

if (ep < 0 || ctl(EPOLL_CTL_ADD, wakeFd, EPOLLIN, WAKE_TOKEN) < 0) {
  post({ t: "fatal", error: `epoll setup failed: ${errnoName(lastErrno())}` });
} else {
  post({ t: "ready" });
  loop();
}

function openPipe(): [number, number, number] | null {
  const fds = new Int32Array(2);
  if (c.pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return null;
  // A bigger pipe means fewer splice calls per MB; failure (quota) just keeps the 64 KiB default.
  const size = c.fcntl(fds[1], F_SETPIPE_SZ, pipeBytes);
  return [fds[0], fds[1], size > 0 ? size : 65536];
}

function add(m: SpliceAdd): void {
  const dirs: Dir[] = [];
  const specs: [number, number, number, Uint8Array | null, 0 | 1][] = [
    [m.a, m.b, m.ab, m.toB, 0],
    [m.b, m.a, m.ba, m.toA, 1],
  ];
  for (const [src, dst, budget, prefix, slot] of specs) {
    if (budget === 0 && !prefix) continue;
    const p = openPipe();
    if (!p) {
      const err = errnoName(lastErrno());
      for (const d of dirs) c.close(d.pr), c.close(d.pw);
      c.close(m.a);
      c.close(m.b);
      post({ t: "done", id: m.id, how: "setup_failed", error: `pipe2: ${err}`, eofA: false, eofB: false });
      return;
    }
    dirs.push({ src, dst, pr: p[0], pw: p[1], inPipe: 0, cap: p[2], left: budget, prefix: prefix && prefix.length > 0 ? prefix : null, srcEof: false, done: false, moved: 0, slot });
  }
  const t: Tun = { id: m.id, a: m.a, b: m.b, halfClose: m.halfClose, dirs, counts: m.counts, error: null };
  tunnels.set(t.id, t);
  // Only the events this job can use: a body splice never reads the client here.
  const wantA = (m.ab !== 0 ? EPOLLIN | EPOLLRDHUP : 0) | (m.ba !== 0 || m.toA ? EPOLLOUT : 0);
  const wantB = (m.ba !== 0 ? EPOLLIN | EPOLLRDHUP : 0) | (m.ab !== 0 || m.toB ? EPOLLOUT : 0);
  if (ctl(EPOLL_CTL_ADD, t.a, wantA | EPOLLET, t.id * 2) < 0 || ctl(EPOLL_CTL_ADD, t.b, wantB | EPOLLET, t.id * 2 + 1) < 0) {
    t.error = `epoll_ctl: ${errnoName(lastErrno())}`;
    return finish(t, "error");
  }
  pump(t);
}

function finish(t: Tun, how: SpliceHow): void {
  tunnels.delete(t.id);
  again.delete(t);
  for (const d of t.dirs) t.counts[d.slot] = d.moved;
  // DEL before close: the dup shares its open file description with Bun's fd, so closing ours
  // alone would not take it out of this epoll set.
  ctl(EPOLL_CTL_DEL, t.a, 0, 0);
  ctl(EPOLL_CTL_DEL, t.b, 0, 0);
  for (const d of t.dirs) c.close(d.pr), c.close(d.pw);
  c.close(t.a);
  c.close(t.b);
  const eofA = t.dirs.some((d) => d.slot === 0 && d.srcEof);
  const eofB = t.dirs.some((d) => d.slot === 1 && d.srcEof);
  post({ t: "done", id: t.id, how, error: t.error, eofA, eofB });
}

function pump(t: Tun): void {
  let busy = false;
  for (const d of t.dirs) {
    if (d.done) continue;
    if (pumpDir(t, d)) busy = true;
    if (t.error) return finish(t, "error");
  }
  if (t.dirs.every((d) => d.done)) {
    const limited = t.dirs.some((d) => d.left === 0 && !d.srcEof);
    return finish(t, limited ? "limit" : "eof");
  }
  if (busy) again.add(t);
  else again.delete(t);
}

/** Moves what can move now. True when it stopped only because its rounds ran out. */
function pumpDir(t: Tun, d: Dir): boolean {
  for (let round = 0; round < ROUNDS; round++) {
    let progress = false;
    if (d.prefix) {
      const w = c.write(d.dst, d.prefix, d.prefix.length);
      if (w < 0) {
        const e = lastErrno();
        if (e === EAGAIN) return false;
        if (e !== EINTR) return fail(t, "write", e);
        continue;
      }
      d.prefix = w === d.prefix.length ? null : d.prefix.subarray(w);
      if (d.prefix) continue;
      progress = true;
    }
    let dstFull = false;
    if (d.inPipe > 0) {
      const w = c.splice(d.pr, null, d.dst, null, d.inPipe, FLAGS);
      if (w > 0) {
        d.inPipe -= w;
        d.moved += w;
        t.counts[d.slot] = d.moved;
        progress = true;
      } else if (w < 0) {
        const e = lastErrno();
        if (e === EAGAIN) dstFull = true;
        else if (e !== EINTR) return fail(t, "splice out", e);
      }
    }
    if (d.inPipe === 0 && (d.srcEof || d.left === 0)) {
      d.done = true;
      if (d.srcEof && t.halfClose) c.shutdown(d.dst, SHUT_WR);
      return false;
    }
    if (!d.srcEof && d.left !== 0 && d.inPipe < d.cap && !dstFull) {
      const want = d.left > 0 ? Math.min(d.left, d.cap - d.inPipe) : d.cap - d.inPipe;
      const r = c.splice(d.src, null, d.pw, null, want, FLAGS);
      if (r > 0) {
        d.inPipe += r;
        if (d.left > 0) d.left -= r;
        progress = true;
      } else if (r === 0) {
        d.srcEof = true;
        progress = true;
      } else {
        const e = lastErrno();
        if (e !== EAGAIN && e !== EINTR) return fail(t, "splice in", e);
      }
    }
    if (!progress) return false;
  }
  return true;
}

function fail(t: Tun, what: string, e: number): false {
  t.error = `${what}: ${errnoName(e)}`;
  return false;
}

/** Returns true when asked to stop. */
function commands(): boolean {
  const buf = new BigUint64Array(1);
  c.read(wakeFd, buf, 8); // eventfd: resets the counter; EAGAIN when a previous read already did
  for (;;) {
    const r = receiveMessageOnPort(port);
    if (!r) return false;
    const m = r.message as ToWorker;
    if (m.t === "add") add(m);
    else if (m.t === "abort") {
      const t = tunnels.get(m.id);
      if (t) finish(t, "error");
    } else if (m.t === "stop") return true;
  }
}

function loop(): void {
  const evs = new Uint8Array(EPOLL_EVENT_SIZE * MAX_EVENTS);
  const dv = new DataView(evs.buffer);
  for (;;) {
    const n = c.epoll_wait(ep, evs, MAX_EVENTS, again.size > 0 ? 0 : -1);
    if (n < 0) {
      if (lastErrno() === EINTR) continue;
      post({ t: "fatal", error: `epoll_wait: ${errnoName(lastErrno())}` });
      return;
    }
    for (let i = 0; i < n; i++) {
      const token = dv.getUint32(i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET, true);
      if (token === WAKE_TOKEN) {
        if (commands()) return shutdownAll();
        continue;
      }
      const t = tunnels.get(token >>> 1);
      if (!t) continue; // already finished in this batch
      const events = dv.getUint32(i * EPOLL_EVENT_SIZE, true);
      if (events & (EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT | EPOLLRDHUP)) pump(t);
    }
    if (again.size > 0) for (const t of [...again]) if (tunnels.has(t.id)) pump(t);
  }
}

function shutdownAll(): void {
  for (const t of [...tunnels.values()]) finish(t, "error");
  c.close(ep);
  port.close();
  process.exit(0);
}
