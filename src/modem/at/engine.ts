/**
 * The AT engine of one port: a FIFO queue with one command in flight, final-code and `> ` prompt detection,
 * echo stripping (including a port that only reflects input), URC demultiplexing, per-command timeouts,
 * resynchronisation after a timeout, and per-verb metrics. Framing rules: ec25.md §3.2-§3.4.
 *
 * Rejection codes of send(): AT_INVALID_COMMAND, AT_QUEUE_FULL, AT_TIMEOUT, AT_ECHO_ONLY (the port only
 * echoed the command back), AT_CLOSED (close() or the port was closed under us), AT_UNPLUGGED (the device
 * vanished). Any final code resolves; `ok` is true for OK and for CONNECT (a dial that succeeded).
 *
 * Final codes and the URC table come from src/modem/parsers (final.ts, urc.ts). On top of isUrc the engine
 * adds: for a prefix that is both answer and URC with the same shape (+CPIN, +CFUN, +QSIMSTAT, +CUSD), the
 * first such line of a response is the answer and a second one the URC; a URC with follow lines (+CMT with
 * its PDU) is delivered as one string, lines joined with "\n".
 */
import { AppError } from "../../lib/errors.ts";
import { childLogger, type Logger } from "../../lib/logger.ts";
import { classifyFinal, isSuccessFinal, type FinalResult } from "../parsers/final.ts";
import { isUrc, linePrefix, urcFollowLines, urcSpec } from "../parsers/urc.ts";
import { cleanLine, isEcho, newJob, type Job } from "./at-job.ts";
import { validateBody, validateCommand } from "./command.ts";
import { LineFramer } from "./line-framer.ts";
import { AtMetrics, type AtMetricsSnapshot, type CommandOutcome } from "./metrics.ts";
import { timeoutFor, timeoutTable, type TimeoutTable } from "./timeouts.ts";
import type { AtTransport, TransportEnd } from "./transport.ts";
import type { AtChannel, AtResponse, AtSendOptions } from "./types.ts";

export interface AtEngineOptions {
  /** Shown in logs (slot or port path). */
  name?: string;
  /** Overrides of the timeout table (ec25.md §3.7). */
  timeouts?: Partial<TimeoutTable>;
  /** `AT` probes after a timeout before giving up until the next timeout (default 3). */
  resyncAttempts?: number;
  resyncTimeoutMs?: number;
  /** After a resync `OK`, lines that are not URCs are dropped for this long: a late answer to the timed-out command. */
  resyncQuietMs?: number;
  maxQueue?: number;
  maxLineBytes?: number;
}

const SUB = 0x1a; // Ctrl-Z ends a CMGS/CMGW body
const ESC = 0x1b; // aborts text input mode
const encoder = new TextEncoder();

export class AtEngine implements AtChannel {
  private readonly transport: AtTransport;
  private readonly log: Logger;
  private readonly table: TimeoutTable;
  private readonly opts: Required<Omit<AtEngineOptions, "timeouts" | "name">>;
  private readonly framer: LineFramer;
  private readonly stats = new AtMetrics();
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private pumping = false;
  private closedWith: TransportEnd | null = null;
  private needsResync = false;
  /** Between a timeout and the end of the resync quiet window: drop idle lines that are not known URCs. */
  private stale = false;
  private echoMode: "on" | "off" | "unknown" = "unknown";
  /** A URC whose follow lines (+CMT: PDU) are still arriving. */
  private urcInProgress: { lines: string[]; remaining: number } | null = null;
  private readonly urcListeners = new Set<(line: string) => void>();
  private readonly closeListeners = new Set<(reason: TransportEnd) => void>();

  constructor(transport: AtTransport, options: AtEngineOptions = {}) {
    const { name = "at", timeouts, resyncAttempts = 3, resyncTimeoutMs = 1000, resyncQuietMs = 150, maxQueue = 256,
      maxLineBytes = 8192 } = options;
    this.transport = transport;
    this.log = childLogger("at", { port: name });
    this.table = timeoutTable(timeouts);
    this.opts = { resyncAttempts, resyncTimeoutMs, resyncQuietMs, maxQueue, maxLineBytes };
    this.framer = new LineFramer(maxLineBytes);
    transport.onData((chunk) => this.onData(chunk));
    transport.onEnd((reason, error) => this.onTransportEnd(reason, error));
  }

  /** See AtChannel.send. The timeout comes from the table unless `opts.timeoutMs` is given. */
  send(command: string, opts: AtSendOptions = {}): Promise<AtResponse> {
    if (this.closedWith) return Promise.reject(this.closedError(this.closedWith));
    try {
      validateCommand(command);
      if (opts.body !== undefined) validateBody(opts.body);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(new AppError("AT_QUEUE_FULL", `AT queue full (${this.opts.maxQueue} commands waiting)`));
    }
    return new Promise<AtResponse>((resolve, reject) => {
      this.queue.push(newJob(command, opts.timeoutMs ?? timeoutFor(command, this.table), false, resolve, reject, opts.body));
      this.pump();
    });
  }

  onUrc(listener: (line: string) => void): () => void {
    this.urcListeners.add(listener);
    return () => this.urcListeners.delete(listener);
  }

  onClose(listener: (reason: "unplugged" | "closed") => void): () => void {
    if (this.closedWith) {
      const reason = this.closedWith;
      queueMicrotask(() => listener(reason));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Rejects everything pending with AT_CLOSED and closes the port; never hangs. */
  async close(): Promise<void> {
    this.shutdown("closed");
    await this.transport.close();
  }

  /** Plain-object metrics snapshot (per verb: count, ok, errors, timeouts, latency histogram). */
  metrics(): AtMetricsSnapshot {
    this.stats.counters.lineOverflows = this.framer.stats.overflows;
    return this.stats.snapshot({
      queueDepth: this.queue.length, inFlight: this.current?.command ?? null, open: this.closedWith === null,
    });
  }

  /** Whether the last answered command showed echo (ATE1) or not; "unknown" before the first answer. */
  get echo(): "on" | "off" | "unknown" {
    return this.echoMode;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.runQueue();
  }

  private async runQueue(): Promise<void> {
    try {
      while (this.closedWith === null) {
        if (this.needsResync) {
          await this.resync();
          continue;
        }
        const job = this.queue.shift();
        if (!job) return;
        await this.execute(job);
      }
    } catch (e) {
      this.log.error({ err: e }, "AT queue loop failed");
    } finally {
      // Synchronous with the loop's exit check, so a send() can never find pumping=true and an idle loop.
      this.pumping = false;
    }
  }

  private execute(job: Job): Promise<void> {
    return new Promise<void>((settled) => {
      job.settled = settled;
      this.current = job;
      job.startedAt = performance.now();
      job.timer = setTimeout(() => this.onTimeout(job), job.timeoutMs);
      this.transport.write(encoder.encode(`${job.command}\r`)).catch((e: unknown) => this.failWrite(job, e));
    });
  }

  private failWrite(job: Job, e: unknown): void {
    if (job.done) return;
    const reason = this.closedWith ?? "closed";
    this.finish(job, "aborted", undefined, this.closedError(reason, e));
  }

  private onData(chunk: Uint8Array): void {
    if (this.closedWith) return;
    for (const line of this.framer.push(chunk)) this.onLine(line);
    const job = this.current;
    if (job && job.phase === "prompt" && this.framer.atPrompt()) {
      // `\r\n> ` has no line end (ec25.md §3.2): the modem now waits for the body and Ctrl-Z.
      this.framer.reset();
      job.phase = "response";
      if (job.echoSeen) job.bodyEcho = (job.body ?? "").split("\n").map(cleanLine).filter((l) => l !== "");
      const body = encoder.encode(job.body ?? "");
      const bytes = new Uint8Array(body.length + 1);
      bytes.set(body);
      bytes[body.length] = SUB;
      this.transport.write(bytes).catch((e: unknown) => this.failWrite(job, e));
    }
  }

  private onLine(line: string): void {
    if (this.urcInProgress) return this.continueUrc(line);
    const job = this.current;
    if (!job) return this.onIdleLine(line);
    // Echo may come after garbage lines too, so it is recognised anywhere before the final code.
    if (isEcho(line, job.command)) {
      if (job.echoSeen || line.toUpperCase().indexOf(job.command.toUpperCase(), 1) > 0) job.doubleEcho = true;
      job.echoSeen = true;
      return;
    }
    if (job.lines.length === 0 && job.bodyEcho[0] === line) {
      job.bodyEcho.shift();
      return;
    }
    // URC before final: `NO CARRIER` during a non-dial command is the URC (parsers/urc.ts).
    if (isUrc(line, job.command)) return this.startUrc(line);
    const final = classifyFinal(line);
    if (final) return this.finish(job, isSuccessFinal(final.kind) ? "ok" : "error", { line, result: final });
    const prefix = linePrefix(line);
    const spec = prefix ? urcSpec(line) : null;
    if (prefix && spec?.answerForms && !spec.shape) {
      // Same shape as answer and URC: only the first one of a response can be the answer.
      if (job.answered.has(prefix)) return this.startUrc(line);
      job.answered.add(prefix);
    }
    job.lines.push(line);
  }

  private onIdleLine(line: string): void {
    // Known URCs always pass (NO CARRIER without a dial in flight included, ec25.md §3.6). Unknown lines of
    // the `+NAME: ...` shape pass too, except between a timeout and the end of its resync: then they are
    // most likely the late answer of the command that timed out.
    if (isUrc(line)) return this.startUrc(line);
    if (!this.stale && classifyFinal(line) === null && /^[+$%^][A-Za-z][A-Za-z0-9_]*:/.test(line)) {
      return this.dispatchUrc(line);
    }
    // A late answer or final code of a command that already timed out, or garbage.
    this.stats.counters.staleLines++;
  }

  private startUrc(line: string): void {
    const follow = urcFollowLines(line);
    if (follow > 0) this.urcInProgress = { lines: [line], remaining: follow };
    else this.dispatchUrc(line);
  }

  private continueUrc(line: string): void {
    const urc = this.urcInProgress!;
    urc.lines.push(line);
    if (--urc.remaining > 0) return;
    this.urcInProgress = null;
    this.dispatchUrc(urc.lines.join("\n"));
  }

  private dispatchUrc(line: string): void {
    this.stats.counters.urcs++;
    for (const listener of [...this.urcListeners]) {
      try {
        listener(line);
      } catch (e) {
        this.log.error({ err: e, urc: line }, "URC listener threw");
      }
    }
  }

  private onTimeout(job: Job): void {
    if (job.done) return;
    const cmd = job.command.toUpperCase();
    const partial = this.framer.partial().toUpperCase();
    const echoed = job.echoSeen || partial.includes(cmd);
    // A wedged port reflects our bytes and says nothing else (ec25.md §3.4.2, [T 38]: `AT+CMGD=0,4AT+CMGD=0,4`).
    // Echo then silence is only proof of that when echo is known to be off (after ATE0) or the command came
    // back twice on one line; with echo on or unknown (fresh port, factory ATE1) it is a plain timeout.
    const doubled = job.doubleEcho || partial.indexOf(cmd) !== partial.lastIndexOf(cmd);
    const echoOnly = echoed && job.lines.length === 0 && (this.echoMode === "off" || doubled);
    // Still in SMS text input (no prompt yet, or body sent without an answer): ESC leaves it, or our resync
    // `AT` would become part of the message.
    if (job.body !== undefined) this.transport.write(Uint8Array.of(ESC)).catch(() => undefined);
    if (!job.internal) {
      this.needsResync = true;
      this.stale = true;
      this.log.warn({ command: job.command, timeoutMs: job.timeoutMs, echoOnly }, "AT command timed out");
    }
    const error = echoOnly
      ? new AppError("AT_ECHO_ONLY", `${job.command}: the port only echoed the command back (wedged modem)`, { timeoutMs: job.timeoutMs })
      : new AppError("AT_TIMEOUT", `${job.command}: no final result code within ${job.timeoutMs} ms`, {
        timeoutMs: job.timeoutMs, lines: job.lines.length,
      });
    this.finish(job, echoOnly ? "echo_only" : "timeout", undefined, error);
  }

  private finish(job: Job, outcome: CommandOutcome, final?: { line: string; result: FinalResult }, error?: AppError): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    if (this.current === job) this.current = null;
    const durationMs = job.startedAt ? performance.now() - job.startedAt : 0;
    if (!job.internal) this.stats.record(job.key, outcome, durationMs);
    if (final) {
      const { kind, code, text } = final.result;
      const cmeCms = kind === "CME_ERROR" || kind === "CMS_ERROR";
      this.trackEcho(job, kind === "OK");
      job.resolve({
        command: job.command, lines: job.lines, final: final.line, kind, ok: isSuccessFinal(kind),
        errorCode: cmeCms ? code : undefined, errorText: cmeCms ? text : undefined, durationMs,
      });
    } else {
      job.reject(error ?? new AppError("AT_CLOSED", "AT channel closed"));
    }
    job.settled?.();
  }

  private trackEcho(job: Job, ok: boolean): void {
    const cmd = job.command.toUpperCase();
    if (/^ATE0/.test(cmd)) {
      if (ok) this.echoMode = "off";
    } else if (/^ATE1?(?![0-9])/.test(cmd)) {
      if (ok) this.echoMode = "on";
    } else if (/^AT(Z|&F)/.test(cmd)) {
      this.echoMode = "unknown"; // factory defaults: echo back on
    } else {
      this.echoMode = job.echoSeen ? "on" : "off";
    }
  }

  /** `AT` → OK (or ERROR: garbage in the modem's input buffer still proves it answers [T 20]), then a quiet window. */
  private async resync(): Promise<void> {
    this.needsResync = false;
    this.stats.counters.resyncs++;
    for (let attempt = 0; attempt < this.opts.resyncAttempts && !this.closedWith; attempt++) {
      this.framer.reset();
      if (await this.probe()) {
        await Bun.sleep(this.opts.resyncQuietMs);
        this.stale = false;
        return;
      }
    }
    if (!this.closedWith) {
      this.stats.counters.resyncFailures++;
      this.log.warn({ attempts: this.opts.resyncAttempts }, "AT resync failed");
    }
  }

  private probe(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const job = newJob("AT", this.opts.resyncTimeoutMs, true,
        (r) => resolve(r.kind === "OK" || r.kind === "ERROR"), () => resolve(false));
      void this.execute(job);
    });
  }

  private onTransportEnd(reason: TransportEnd, error?: Error): void {
    if (this.closedWith) return;
    this.log.info({ reason, err: error?.message }, "AT port ended");
    this.shutdown(reason);
    // The stream closes itself on a disconnect; make sure the fd is released either way.
    void this.transport.close();
  }

  private shutdown(reason: TransportEnd): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    const pending = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    for (const job of pending) this.finish(job, "aborted", undefined, this.closedError(reason));
    for (const listener of [...this.closeListeners]) {
      try {
        listener(reason);
      } catch (e) {
        this.log.error({ err: e }, "close listener threw");
      }
    }
    this.closeListeners.clear();
  }

  private closedError(reason: TransportEnd, cause?: unknown): AppError {
    return reason === "unplugged"
      ? new AppError("AT_UNPLUGGED", "the modem port vanished (unplugged or rebooting)", {}, { cause })
      : new AppError("AT_CLOSED", "AT channel is closed", {}, { cause });
  }
}
