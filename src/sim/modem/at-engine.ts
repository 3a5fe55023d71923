/**
 * The AT interpreter of one simulated port: echo, line assembly, chaining, V.250 framing, the "> " prompt of
 * AT+CMGS, and URCs both between and inside responses. Byte-exact with ec25.md §3.2:
 *   echo (incl. CR) · "\r\n<info>\r\n" (lines of one answer joined by a single CRLF) · "\r\nOK\r\n"
 * so the familiar blank line appears between the last information line and OK [T 03, T 37].
 */
import { splitCommandLine, type AtCommand } from "./at-parse.ts";
import { cmeText, cmsText } from "./errors.ts";
import type { AtFinal, AtResult, PortName, PortSettings } from "./types.ts";

/** Where the engine's bytes go (the pty master). Writes are dropped while no host has the port open. */
export interface PortOutput {
  write(data: string | Uint8Array): void;
}

/** What the engine needs from its modem. */
export interface EngineHost {
  /** Hang fault: input is swallowed, nothing is answered, not even echo. */
  readonly hung: boolean;
  /** Wedged port [T 38]: echoes input but never answers. */
  readonly wedged: boolean;
  /** Garbage fault: noise to send before an answer, or undefined. */
  garbage(): Uint8Array | undefined;
  latencyMs(): number;
  finalGapMs(): number;
  execute(cmd: AtCommand, port: PortName, settings: PortSettings): Promise<AtResult>;
}

const CR = 0x0d, LF = 0x0a, BS = 0x08, CTRL_Z = 0x1a, ESC = 0x1b;
const MAX_LINE = 4096;
const NUMERIC: Record<string, string> = { OK: "0", ERROR: "4", "NO CARRIER": "3" };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class AtEngine {
  settings: PortSettings;
  private input: number[] = [];
  private line: number[] = [];
  private busy = false;
  private closed = false;
  /** Set while AT+CMGS waits for its body. */
  private prompt?: { body: number[]; submit: (body: string) => Promise<AtResult> };
  private queuedUrcs: string[][] = [];
  private echoOut: number[] = [];

  constructor(
    private readonly host: EngineHost,
    readonly port: PortName,
    private readonly out: PortOutput,
    settings: PortSettings,
  ) {
    this.settings = { ...settings };
  }

  /** Bytes written by the host. */
  feed(bytes: Uint8Array): void {
    if (this.closed || this.host.hung) return;
    for (const b of bytes) this.input.push(b);
    this.pump();
  }

  /** An unsolicited result code (one or more lines). Sent now when idle, else just before the next final code. */
  urc(lines: string[]): void {
    if (this.closed || this.host.hung) return;
    if (this.busy || this.prompt) this.queuedUrcs.push(lines);
    else this.out.write(this.frameLines(lines));
  }

  /** Raw bytes from the modem side (garbage fault bursts). */
  raw(bytes: Uint8Array): void {
    if (!this.closed && !this.host.hung) this.out.write(bytes);
  }

  close(): void {
    this.closed = true;
    this.input = [];
    this.queuedUrcs = [];
  }

  private pump(): void {
    while (!this.busy && this.input.length > 0 && !this.closed) {
      const b = this.input.shift()!;
      if (this.prompt) this.promptByte(b);
      else this.commandByte(b);
    }
    this.flushEcho();
  }

  private flushEcho(): void {
    if (this.echoOut.length === 0) return;
    this.out.write(Uint8Array.from(this.echoOut));
    this.echoOut = [];
  }

  private commandByte(b: number): void {
    if (this.settings.echo) this.echoOut.push(b);
    if (b === LF) return; // LF after CR is tolerated (ec25.md §3.2)
    if (b === BS) { this.line.pop(); return; }
    if (b !== CR) {
      if (this.line.length < MAX_LINE) this.line.push(b);
      return;
    }
    // A LF right behind the CR belongs to this line ("AT\r\n"): echo it now, not after the answer.
    if (this.input[0] === LF) {
      this.input.shift();
      if (this.settings.echo) this.echoOut.push(LF);
    }
    const text = Buffer.from(this.line).toString("latin1");
    this.line = [];
    if (text.trim() === "") return;
    this.flushEcho();
    if (this.host.wedged) return;
    this.run(() => this.executeLine(text));
  }

  private promptByte(b: number): void {
    const prompt = this.prompt!;
    if (b === ESC) {
      this.prompt = undefined;
      this.flushEcho();
      this.run(async () => this.finish({ kind: "OK" }));
      return;
    }
    if (b === CTRL_Z) {
      this.prompt = undefined;
      this.flushEcho();
      const body = Buffer.from(prompt.body).toString("latin1");
      this.run(async () => {
        const result = await prompt.submit(body);
        await this.answer(result);
      });
      return;
    }
    if (b === CR) {
      // Each line of SMS text gets a fresh prompt, as on the module.
      prompt.body.push(LF);
      this.flushEcho();
      this.out.write("\r\n> ");
      return;
    }
    if (b === LF) return;
    if (this.settings.echo) this.echoOut.push(b);
    if (prompt.body.length < MAX_LINE) prompt.body.push(b);
  }

  private run(task: () => Promise<void>): void {
    this.busy = true;
    task()
      .catch(() => this.finish({ kind: "ERROR" }))
      .finally(() => {
        this.busy = false;
        if (!this.prompt) this.flushUrcs();
        this.pump();
      });
  }

  private async executeLine(text: string): Promise<void> {
    await sleep(this.host.latencyMs());
    const commands = splitCommandLine(text);
    if (!commands) return this.finish({ kind: "ERROR" });
    for (const cmd of commands) {
      const result = await this.host.execute(cmd, this.port, this.settings);
      if (result.prompt) {
        this.writeInfo(result.lines);
        this.prompt = { body: [], submit: result.prompt };
        this.out.write("\r\n> ");
        return;
      }
      this.writeInfo(result.lines);
      const final = result.final ?? { kind: "OK" };
      if (final.kind !== "OK") return this.finish(final);
    }
    await this.finish({ kind: "OK" });
  }

  /** Writes a handler result that ends a command (after the CMGS body). */
  private async answer(result: AtResult): Promise<void> {
    this.writeInfo(result.lines);
    await this.finish(result.final ?? { kind: "OK" });
  }

  private writeInfo(lines: string[] | undefined): void {
    if (this.closed || this.host.hung) return;
    const noise = this.host.garbage();
    if (noise) this.out.write(noise);
    if (lines && lines.length > 0) this.out.write(this.frameLines(lines));
  }

  /** URCs raised while the command ran land between its information lines and its final code. */
  private async finish(final: AtFinal): Promise<void> {
    if (this.queuedUrcs.length > 0) {
      await sleep(this.host.finalGapMs());
      this.flushUrcs();
    }
    if (this.closed || this.host.hung || this.settings.quiet) return;
    this.out.write(this.frameFinal(final));
  }

  private flushUrcs(): void {
    const urcs = this.queuedUrcs;
    this.queuedUrcs = [];
    if (this.closed || this.host.hung) return;
    for (const lines of urcs) this.out.write(this.frameLines(lines));
  }

  private frameLines(lines: string[]): string {
    const body = lines.join("\r\n");
    return this.settings.verbose ? `\r\n${body}\r\n` : `${body}\r\n`;
  }

  private frameFinal(final: AtFinal): string {
    const { cmee, verbose } = this.settings;
    let text: string;
    if (final.kind === "CME" || final.kind === "CMS") {
      if (cmee === 0) text = "ERROR";
      else if (final.kind === "CME") text = `+CME ERROR: ${cmee === 2 ? cmeText(final.code) : final.code}`;
      else text = `+CMS ERROR: ${cmee === 2 ? cmsText(final.code) : final.code}`;
    } else {
      text = final.kind;
    }
    if (verbose) return `\r\n${text}\r\n`;
    const numeric = NUMERIC[text];
    return numeric === undefined ? `${text}\r\n` : `${numeric}\r`;
  }
}
