/**
 * The settings every (re)opened port needs, because the module forgets them on reboot unless saved with
 * AT&W (ec25.md §3.2) and a RIL-style driver sets them explicitly (§3.4.9, [T 08]).
 */
import { AppError, hasCode } from "../../lib/errors.ts";
import type { AtChannel } from "./types.ts";

export const DEFAULT_INIT_COMMANDS: readonly string[] = [
  "ATE0", // no echo: the engine strips it anyway, but it halves the bytes and removes the ambiguity
  "AT+CMEE=1", // numeric +CME ERROR codes (§3.3)
  "AT+CEREG=2", // EPS registration URCs with TAC/CI (§3.6)
  "AT+CREG=2",
  "AT+CGREG=2",
  'AT+QURCCFG="urcport","usbat"', // URCs on this port (If2), not If3 (§3.1)
  "AT+CMGF=1", // SMS text mode (§4.6)
  "AT+CNMI=2,1,0,0,0", // +CMTI on new SMS (§4.6)
];

export interface InitStep {
  command: string;
  ok: boolean;
  /** Final result code, or the error code when the command did not complete. */
  final: string;
}

export interface InitReport {
  ok: boolean;
  steps: InitStep[];
}

/**
 * Wakes the port (`AT` until it answers: bytes left in the modem's input buffer make the first command
 * fail [T 20]) and runs `commands` in order. A command answering ERROR does not stop the sequence (older
 * firmware lacks some, e.g. QURCCFG); the report says which failed. Throws AT_NOT_RESPONDING when the port
 * never answers, and AT_CLOSED / AT_UNPLUGGED when it goes away meanwhile.
 */
export async function runInit(channel: AtChannel, commands: readonly string[] = DEFAULT_INIT_COMMANDS,
  { wakeAttempts = 2, wakeTimeoutMs = 1000 } = {}): Promise<InitReport> {
  let awake = false;
  for (let i = 0; i < wakeAttempts && !awake; i++) {
    try {
      const r = await channel.send("AT", { timeoutMs: wakeTimeoutMs });
      awake = r.kind === "OK" || r.kind === "ERROR";
    } catch (e) {
      if (!hasCode(e, "AT_TIMEOUT") && !hasCode(e, "AT_ECHO_ONLY")) throw e;
    }
  }
  if (!awake) throw new AppError("AT_NOT_RESPONDING", `no answer to AT after ${wakeAttempts} attempts`);
  const steps: InitStep[] = [];
  for (const command of commands) {
    try {
      const r = await channel.send(command);
      steps.push({ command, ok: r.ok, final: r.final });
    } catch (e) {
      if (hasCode(e, "AT_CLOSED") || hasCode(e, "AT_UNPLUGGED")) throw e;
      steps.push({ command, ok: false, final: e instanceof AppError ? e.code : String(e) });
    }
  }
  return { ok: steps.every((s) => s.ok), steps };
}
