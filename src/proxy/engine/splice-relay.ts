/**
 * Main-thread side of the kernel relay. A tunnel (or an HTTP response body) whose bytes no
 * longer need looking at is handed to the splice worker: both Bun sockets are paused, their fds
 * dup()ed and the dups given away; the worker moves the bytes with splice(2) and reports once,
 * when it is done. Byte counts live in a small SharedArrayBuffer per job, so counters and the
 * connection log read them synchronously (the sweeper folds them in; close reads the last value).
 *
 * Why dups: Bun still owns its fds. A paused Bun socket ignores FIN and HUP (verified), but on a
 * reset (EPOLLERR) Bun reads and closes its fd on its own; with our own reference the worker's fd
 * stays valid until the worker closes it, and Bun is never surprised by a close behind its back.
 * The engine closes the Bun sockets itself once the worker reports.
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { Logger } from "../../lib/logger.ts";
import type { Endpoint } from "./endpoint.ts";
import { O_CLOEXEC, O_NONBLOCK, spliceLibc } from "./splice-ffi.ts";
import type { FromWorker, SpliceHow, ToWorker } from "./splice-protocol.ts";

export interface SpliceJob {
  /** Their sockets' reading is paused for each direction that is spliced. */
  client: Endpoint;
  upstream: Endpoint;
  /** Bytes for the upstream / the client before any spliced byte (leftovers, queued writes). */
  toUpstream: Uint8Array | null;
  toClient: Uint8Array | null;
  /** Budget client → upstream and upstream → client: -1 until EOF, 0 off, n exactly n bytes. */
  up: number;
  down: number;
  /** Pass EOF on as a half-close (tunnels); off for a response body. */
  halfClose: boolean;
  /** Called once when the worker is done (not after abort()). */
  onDone(r: SpliceResult): void;
}

export interface SpliceResult {
  how: SpliceHow;
  error: string | null;
  clientEof: boolean;
  upstreamEof: boolean;
}

/** A running job. up/down are cumulative spliced bytes (prefixes excluded). */
export interface SpliceHandle {
  readonly up: number;
  readonly down: number;
  /** Stops the job; the worker closes its fds. onDone is not called. */
  abort(): void;
}

export interface SpliceRelayOptions {
  log: Logger;
  /** Pipe capacity per direction (F_SETPIPE_SZ); the kernel caps it at fs.pipe-max-size. */
  pipeBytes?: number;
  /** The worker script (tests point it elsewhere to exercise the fallback). */
  workerUrl?: string | URL;
}

interface Job {
  job: SpliceJob;
  counts: Float64Array;
  fds: [number, number];
}

/**
 * Where the worker script is. In a `bun build --compile` binary the worker must be an extra
 * entrypoint (scripts/build.ts); it is stored under /$bunfs/root/ by its path relative to the
 * entrypoints' common directory (src/), and every bundled module sees the main entry's URL, so a
 * URL relative to this file would not find it (verified with Bun 1.4.5).
 */
function defaultWorkerUrl(): string | URL {
  if (import.meta.url.includes("$bunfs")) return "/$bunfs/root/proxy/engine/splice-worker.ts";
  return new URL("./splice-worker.ts", import.meta.url);
}

export class SpliceRelay {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private wakeFd = -1;
  /** The worker reported ready: from then on it may have touched a job's sockets. */
  private ready = false;
  private nextId = 1;
  private jobs = new Map<number, Job>();
  private readonly wakeBuf = new BigUint64Array([1n]);
  /** Set when the worker failed: every later job takes the JS relay. */
  broken: string | null = null;
  /** Jobs handed over since start, and jobs that fell back to the JS relay. */
  started = 0;
  fallbacks = 0;

  private constructor(private readonly opts: SpliceRelayOptions) {}

  /** A relay, or null where splice cannot work (not Linux, libc not loadable). */
  static create(opts: SpliceRelayOptions): SpliceRelay | null {
    if (process.platform !== "linux") return null;
    try {
      spliceLibc();
    } catch (e) {
      opts.log.warn({ err: e }, "splice relay unavailable; using the JS relay");
      return null;
    }
    return new SpliceRelay(opts);
  }

  get active(): number {
    return this.jobs.size;
  }

  /**
   * Hands a job to the worker. Null (nothing changed, sockets not paused) when it cannot: the
   * caller keeps relaying in JS.
   */
  start(job: SpliceJob): SpliceHandle | null {
    if (this.broken || !this.ensureWorker()) return this.fallback();
    // Bun's TCP sockets expose their fd (not in bun-types 1.4.5).
    const fdA = (job.client.sock as unknown as { fd?: number }).fd;
    const fdB = (job.upstream.sock as unknown as { fd?: number }).fd;
    if (typeof fdA !== "number" || typeof fdB !== "number" || fdA < 0 || fdB < 0) return this.fallback();
    const c = spliceLibc();
    const a = c.dup(fdA);
    if (a < 0) return this.fallback();
    const b = c.dup(fdB);
    if (b < 0) {
      c.close(a);
      return this.fallback();
    }
    const id = this.nextId++;
    const counts = new Float64Array(new SharedArrayBuffer(16));
    if (job.up !== 0) job.client.pause();
    if (job.down !== 0) job.upstream.pause();
    this.jobs.set(id, { job, counts, fds: [a, b] });
    this.started++;
    this.send({ t: "add", id, a, b, toA: job.toClient, toB: job.toUpstream, ab: job.up, ba: job.down, halfClose: job.halfClose, counts });
    return {
      get up() {
        return counts[0];
      },
      get down() {
        return counts[1];
      },
      abort: () => {
        if (!this.jobs.delete(id)) return;
        this.send({ t: "abort", id });
      },
    };
  }

  /** Stops the worker (engine stop). Jobs still running are aborted. */
  stop(): void {
    this.jobs.clear();
    if (this.worker) this.send({ t: "stop" });
    const w = this.worker;
    this.worker = null;
    this.broken = "stopped";
    if (w) setTimeout(() => void w.terminate(), 1000).unref?.();
    if (this.wakeFd >= 0) {
      const fd = this.wakeFd;
      this.wakeFd = -1;
      setTimeout(() => spliceLibc().close(fd), 1000).unref?.();
    }
  }

  private fallback(): null {
    this.fallbacks++;
    return null;
  }

  private send(m: ToWorker): void {
    this.port?.postMessage(m);
    // Wake epoll_wait: the message is already queued on the port, so the worker finds it.
    if (this.wakeFd >= 0) spliceLibc().write(this.wakeFd, this.wakeBuf, 8);
  }

  private ensureWorker(): boolean {
    if (this.worker) return true;
    try {
      const c = spliceLibc();
      this.wakeFd = c.eventfd(0, O_NONBLOCK | O_CLOEXEC);
      if (this.wakeFd < 0) throw new Error("eventfd failed");
      const ch = new MessageChannel();
      this.port = ch.port1;
      this.worker = new Worker(this.opts.workerUrl ?? defaultWorkerUrl(), {
        workerData: { port: ch.port2, wakeFd: this.wakeFd, pipeBytes: this.opts.pipeBytes ?? 1 << 20 },
        transferList: [ch.port2],
      });
      this.worker.unref();
      this.worker.on("message", (m: FromWorker) => this.onMessage(m));
      this.worker.on("error", (e) => this.fail(`worker error: ${e instanceof Error ? e.message : String(e)}`));
      this.worker.on("exit", (code) => {
        if (!this.broken) this.fail(`worker exited (${code})`);
      });
      return true;
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      return false;
    }
  }

  private onMessage(m: FromWorker): void {
    if (m.t === "ready") this.ready = true;
    else if (m.t === "done") {
      const j = this.jobs.get(m.id);
      if (!j) return;
      this.jobs.delete(m.id);
      j.job.onDone({ how: m.how, error: m.error, clientEof: m.eofA, upstreamEof: m.eofB });
    } else if (m.t === "fatal") this.fail(m.error);
  }

  /** The worker is gone: running jobs end as errors (their connections close), new ones use JS. */
  private fail(reason: string): void {
    if (this.broken) return;
    this.broken = reason;
    this.opts.log.error({ reason }, "splice relay failed; using the JS relay");
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    // Before "ready" the worker never read a command: those jobs are untouched and fall back.
    const how: SpliceHow = this.ready ? "error" : "setup_failed";
    for (const j of jobs) {
      if (!this.ready) for (const fd of j.fds) spliceLibc().close(fd);
      j.job.onDone({ how, error: reason, clientEof: false, upstreamEof: false });
    }
  }
}
