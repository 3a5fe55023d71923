/**
 * A scripted fake modem on a real pty, for tests that drive the real serial binding and AT engine.
 * Not an EC25 simulator (that is src/sim): it answers from a table of command → bytes, and can echo,
 * delay, hang, reflect input only (a wedged port, ec25.md §3.4.2), inject URCs and garbage, and vanish.
 *
 *   const modem = startScriptedModem({ rules: [{ match: "AT+CSQ", reply: ok("+CSQ: 19,99") }] });
 *   const channel = await openAtChannel(modem.path);
 *   ...
 *   await modem.close();
 */
import fs from "node:fs";
import { openPty } from "../../src/lib/libc.ts";

export type Reply = string | Uint8Array;
export type ReplyFn = (command: string, modem: ScriptedModem, body?: string) => Reply | undefined;

export interface ScriptRule {
  /** A string matches the whole command case-insensitively; a RegExp is tested against it. */
  match: string | RegExp;
  /** Bytes sent after the echo (or, with `prompt`, after the body's Ctrl-Z). */
  reply?: Reply | ReplyFn;
  /** Wait this long before replying. */
  delayMs?: number;
  /** Swallow the command: no answer at all. */
  hang?: boolean;
  /** CMGS-style: answer `\r\n> `, collect the body up to Ctrl-Z, then send `reply`. */
  prompt?: boolean;
  /** Use this rule at most n times. */
  times?: number;
}

export interface ScriptedModemOptions {
  rules?: ScriptRule[];
  /** Echo input like a factory-fresh module (default true, ec25.md §3.2). */
  echo?: boolean;
  /** Reply to commands no rule matches (default `\r\nERROR\r\n`). AT, ATE0 and ATE1 are built in. */
  unknownReply?: Reply;
}

/** `\r\n<line>\r\n` for each line, then `\r\nOK\r\n` (the blank line before OK, ec25.md §3.2). */
export function ok(...lines: string[]): string {
  return lines.map((l) => `\r\n${l}\r\n`).join("") + "\r\nOK\r\n";
}

/** One framed line (`\r\n<line>\r\n`): a final code or a URC. */
export function frame(line: string): string {
  return `\r\n${line}\r\n`;
}

export const ERROR = frame("ERROR");

const CR = 0x0d;
const LF = 0x0a;
const SUB = 0x1a;
const ESC = 0x1b;

export class ScriptedModem {
  /** The slave side, to open like /dev/ttyUSB2. */
  readonly path: string;
  /** Every command line received (without CR), in order. */
  readonly commands: string[] = [];
  /** Every CMGS body received (without Ctrl-Z); "<ESC>" marks an aborted one. */
  readonly bodies: string[] = [];
  /** Count of bytes received. */
  bytesIn = 0;
  /** ESC / Ctrl-Z bytes received outside SMS text input (an engine aborting a CMGS it gave up on). */
  strayControls: number[] = [];
  echo: boolean;
  /** "normal"; "hang": read but never answer; "echo-only": reflect every byte and nothing else. */
  mode: "normal" | "hang" | "echo-only" = "normal";
  unknownReply: Reply;
  private readonly rules: ScriptRule[];
  private readonly uses = new Map<ScriptRule, number>();
  private readonly masterFd: number;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private line: number[] = [];
  private textInput: { rule: ScriptRule; command: string; body: number[] } | null = null;
  private out: Promise<void> = Promise.resolve();
  private replies: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(opts: ScriptedModemOptions = {}) {
    const pty = openPty();
    this.masterFd = pty.masterFd;
    this.path = pty.slavePath;
    this.rules = [...(opts.rules ?? [])];
    this.echo = opts.echo ?? true;
    this.unknownReply = opts.unknownReply ?? ERROR;
    void this.readLoop();
  }

  /** Adds a rule that takes priority over the existing ones. */
  on(rule: ScriptRule): this {
    this.rules.unshift(rule);
    return this;
  }

  /** Sends raw bytes now (URCs, garbage, late answers). Resolves when written. */
  emit(bytes: Reply): Promise<void> {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
    this.out = this.out.then(() => this.writeAll(data));
    return this.out;
  }

  /** Sends `\r\n<line>\r\n`. */
  urc(line: string): Promise<void> {
    return this.emit(frame(line));
  }

  /** Resolves when a received command satisfies `pred` (also if one already did). */
  async waitForCommand(pred: string | RegExp | ((c: string) => boolean), timeoutMs = 5000): Promise<string> {
    const test = typeof pred === "function" ? pred : (c: string) => matches(pred, c);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.commands.find(test);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`scripted modem: no command matching ${String(pred)} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 50);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** The modem vanishes: the master closes, so the host's tty hangs up (EIO/HUP), as on a USB unplug. */
  async unplug(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Bun dups the fd behind Bun.file(fd).stream(): cancel it first, or the master stays open.
    await this.reader?.cancel().catch(() => undefined);
    try {
      fs.closeSync(this.masterFd);
    } catch {
      // already closed
    }
  }

  /** Cleanup for afterEach; same as unplug. */
  close(): Promise<void> {
    return this.unplug();
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      try {
        this.reader = Bun.file(this.masterFd).stream().getReader();
        for (;;) {
          const { done, value } = await this.reader.read();
          if (done || this.closed) break;
          if (value) this.onBytes(value);
        }
      } catch {
        // EIO while no one holds the slave open (before the first open, after a close): retry shortly.
      }
      if (!this.closed) await Bun.sleep(20);
    }
  }

  private onBytes(bytes: Uint8Array): void {
    this.bytesIn += bytes.length;
    if (this.mode === "echo-only") {
      void this.emit(Uint8Array.from(bytes));
      return;
    }
    for (const b of bytes) {
      if (this.textInput) {
        this.onTextByte(b);
        continue;
      }
      if (b === ESC || b === SUB) {
        this.strayControls.push(b);
        continue;
      }
      if (this.echo) void this.emit(Uint8Array.of(b));
      if (b === CR) {
        const command = Buffer.from(this.line).toString("latin1").trim();
        this.line = [];
        if (command !== "") this.onCommand(command);
      } else if (b !== LF) {
        this.line.push(b);
      }
    }
  }

  private onTextByte(b: number): void {
    const input = this.textInput!;
    if (b === SUB || b === ESC) {
      this.textInput = null;
      const body = Buffer.from(input.body).toString("utf8");
      this.bodies.push(b === ESC ? "<ESC>" : body);
      if (b === SUB) this.answer(input.rule, input.command, body);
      return;
    }
    if (this.echo) void this.emit(Uint8Array.of(b));
    input.body.push(b);
  }

  private onCommand(command: string): void {
    this.commands.push(command);
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
    if (this.mode === "hang") return;
    const rule = this.rules.find((r) => matches(r.match, command) && (r.times === undefined || (this.uses.get(r) ?? 0) < r.times));
    if (rule) {
      this.uses.set(rule, (this.uses.get(rule) ?? 0) + 1);
      if (rule.hang) return;
      if (rule.prompt) {
        this.textInput = { rule, command, body: [] };
        void this.emit("\r\n> ");
        return;
      }
      this.answer(rule, command);
      return;
    }
    const upper = command.toUpperCase();
    if (upper === "ATE0" || upper === "ATE1" || upper === "ATE") this.echo = upper === "ATE1";
    const builtin = upper === "AT" || upper === "ATE0" || upper === "ATE1" || upper === "ATE";
    this.queueReply(0, () => (builtin ? ok() : this.unknownReply));
  }

  private answer(rule: ScriptRule, command: string, body?: string): void {
    this.queueReply(rule.delayMs ?? 0, () => (typeof rule.reply === "function" ? rule.reply(command, this, body) : rule.reply));
  }

  /** Replies go out in command order, each after its own delay. */
  private queueReply(delayMs: number, make: () => Reply | undefined): void {
    this.replies = this.replies.then(async () => {
      if (delayMs > 0) await Bun.sleep(delayMs);
      if (this.closed || this.mode !== "normal") return;
      const bytes = make();
      if (bytes !== undefined) await this.emit(bytes);
    }).catch(() => undefined);
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length && !this.closed) {
      try {
        offset += fs.writeSync(this.masterFd, data, offset, data.length - offset);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== "EAGAIN" && code !== "EWOULDBLOCK") return; // EIO: nobody holds the slave; drop it
        await Bun.sleep(2);
      }
    }
  }
}

function matches(match: string | RegExp, command: string): boolean {
  return typeof match === "string" ? match.toUpperCase() === command.toUpperCase() : match.test(command);
}

/** Starts a scripted modem on a fresh pty. */
export function startScriptedModem(opts: ScriptedModemOptions = {}): ScriptedModem {
  return new ScriptedModem(opts);
}

/** Seeded PRNG (mulberry32) so that fuzz tests are reproducible. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes biased towards the ones that hurt a line parser: NUL, CR, LF, '>', ' ', 0xFF, partial UTF-8. */
export function garbage(length: number, random: () => number): Uint8Array {
  const nasty = [0x00, 0x0d, 0x0a, 0x3e, 0x20, 0xff, 0xc3, 0xe2, 0x1a, 0x1b];
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = random() < 0.3 ? nasty[Math.floor(random() * nasty.length)]! : Math.floor(random() * 256);
  }
  return out;
}

/** Splits `bytes` into random pieces of 1..maxPiece bytes (to feed a parser across read boundaries). */
export function splitRandomly(bytes: Uint8Array, random: () => number, maxPiece = 7): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + Math.floor(random() * maxPiece);
    pieces.push(bytes.subarray(i, i + n));
    i += n;
  }
  return pieces;
}
