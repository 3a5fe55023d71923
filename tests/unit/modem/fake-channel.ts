/**
 * An in-memory AtChannel for driver unit tests: answers from a table of command → answer, records what was sent,
 * and can push URCs or vanish. Answers are shaped like the engine's AtResponse (lines without echo/blank/final).
 */
import { AppError } from "../../../src/lib/errors.ts";
import type { AtChannel, AtFinalKind, AtResponse, AtSendOptions } from "../../../src/modem/at/types.ts";
import { classifyFinal } from "../../../src/modem/parsers/final.ts";

export interface FakeAnswer {
  lines?: string[];
  /** Final result line, default "OK". */
  final?: string;
  /** URC lines delivered right after the answer resolves. */
  urcsAfter?: string[];
  /** Reject with this engine code instead of answering (AT_TIMEOUT, AT_UNPLUGGED …). */
  error?: string;
  /** Vanish (onClose "unplugged") after answering. */
  vanishAfter?: boolean;
}

export type FakeRule = FakeAnswer | ((command: string, opts?: AtSendOptions) => FakeAnswer);

export class FakeChannel implements AtChannel {
  readonly sent: Array<{ command: string; body?: string }> = [];
  private urcListeners = new Set<(l: string) => void>();
  private closeListeners = new Set<(r: "unplugged" | "closed") => void>();
  closed = false;

  /** Rules match the whole command, case-insensitively; unknown commands answer ERROR. */
  constructor(private readonly rules: Record<string, FakeRule> = {}) {}

  set(command: string, rule: FakeRule): void {
    this.rules[command.toUpperCase()] = rule;
  }

  async send(command: string, opts?: AtSendOptions): Promise<AtResponse> {
    if (this.closed) throw new AppError("AT_CLOSED", "closed");
    this.sent.push({ command, body: opts?.body });
    await Promise.resolve();
    const rule = this.rules[command.toUpperCase()] ?? Object.entries(this.rules).find(([k]) => k.toUpperCase() === command.toUpperCase())?.[1];
    const a: FakeAnswer = typeof rule === "function" ? rule(command, opts) : (rule ?? { final: "ERROR" });
    if (a.error) throw new AppError(a.error, `${command}: ${a.error}`);
    const final = a.final ?? "OK";
    const f = classifyFinal(final)!;
    const kind: AtFinalKind = f.kind;
    const cme = kind === "CME_ERROR" || kind === "CMS_ERROR";
    const r: AtResponse = {
      command, lines: a.lines ?? [], final, kind, ok: kind === "OK" || kind === "CONNECT",
      errorCode: cme ? f.code : undefined, errorText: cme ? f.text : undefined, durationMs: 1,
    };
    if (a.urcsAfter) setTimeout(() => a.urcsAfter!.forEach((u) => this.urc(u)), 1);
    if (a.vanishAfter) setTimeout(() => this.vanish(), 1);
    return r;
  }

  urc(line: string): void {
    for (const l of [...this.urcListeners]) l(line);
  }

  vanish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.closeListeners]) l("unplugged");
  }

  onUrc(listener: (line: string) => void): () => void {
    this.urcListeners.add(listener);
    return () => this.urcListeners.delete(listener);
  }

  onClose(listener: (reason: "unplugged" | "closed") => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.closeListeners]) l("closed");
  }

  commands(): string[] {
    return this.sent.map((s) => s.command);
  }
}

/** A registered EC25 answering with real transcript lines (ec25.md §4; [T 01], [T 27], [T 02], [T 36]). */
export function ec25Rules(): Record<string, FakeRule> {
  return {
    "AT+CGSN": { lines: ["864394041083561"] },
    "AT+GSN": { lines: ["864394041083561"] },
    ATI: { lines: ["Quectel", "EC25", "Revision: EC25AUFAR02A04M4G"] },
    "AT+QCCID": { lines: ["+QCCID: 8939560000000806706F"] },
    "AT+CIMI": { lines: ["295050902070619"] },
    "AT+CPIN?": { lines: ["+CPIN: READY"] },
    "AT+CFUN?": { lines: ["+CFUN: 1"] },
    "AT+CEREG?": { lines: ['+CEREG: 2,1,"61EA","A1A9566",7'] },
    "AT+CREG?": { lines: ["+CREG: 0,1"] },
    "AT+COPS?": { lines: ['+COPS: 0,0,"IND airtel airtel",7'] },
    "AT+CSQ": { lines: ["+CSQ: 19,99"] },
    "AT+QNWINFO": { lines: ['+QNWINFO: "FDD LTE","22288","LTE BAND 7",3350'] },
    'AT+QENG="SERVINGCELL"': { lines: ['+QENG: "servingcell","NOCONN","LTE","FDD",460,01,19A358C,366,100,1,5,5,774E,-108,-5,-83,9,13'] },
    "AT+QTEMP": { lines: ["+QTEMP: 42,38,38"] },
  };
}
