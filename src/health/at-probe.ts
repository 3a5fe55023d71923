/**
 * The AT half of a health check: ONE chained command line per modem,
 *   AT+CSQ;+CEREG?;+QENG="servingcell";+QGDCNT?;+QTEMP
 * whose information lines come back in order under one final result code (ec25.md §3.2, [T 27]). One round trip
 * instead of five keeps a 100-modem sweep well under a second, and a hung modem costs one timeout, not five.
 * QTEMP goes last: it is the most firmware-specific of the five (ec25.md §4.3, [T 28]) and the first ERROR in a
 * chain ends the line, so an unsupported QTEMP loses only itself. Parsing uses the pure parsers of src/modem.
 */
import { AppError } from "../lib/errors.ts";
import type { AtChannel, AtResponse } from "../modem/at/types.ts";
import { parseQgdcntRead } from "../modem/parsers/data-counter.ts";
import { parseCeregRead } from "../modem/parsers/registration.ts";
import { parseQengWrite } from "../modem/parsers/serving-cell.ts";
import { parseCsqExec } from "../modem/parsers/signal.ts";
import { parseQtempExec } from "../modem/parsers/temperature.ts";

export const AT_PROBE_COMMAND = 'AT+CSQ;+CEREG?;+QENG="servingcell";+QGDCNT?;+QTEMP';

export interface AtSample {
  /** The line was answered (OK, or an error after some of its answers). */
  ok: boolean;
  error: string | null;
  /** AT+CSQ rssi index; null for 99 (unknown / no service). */
  csq: number | null;
  rssi: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinrRaw: number | null;
  cellId: string | null;
  registered: boolean | null;
  /** CEREG status name ("registered", "searching", ...). */
  registration: string | null;
  temperature: number | null;
  /** Raw AT+QGDCNT? counters (since the modem's last reset). */
  bytesSent: number | null;
  bytesReceived: number | null;
  durationMs: number;
}

function empty(error: string | null, durationMs: number): AtSample {
  return {
    ok: false, error, csq: null, rssi: null, rsrp: null, rsrq: null, sinrRaw: null, cellId: null, registered: null,
    registration: null, temperature: null, bytesSent: null, bytesReceived: null, durationMs,
  };
}

/** Reads a sample out of the chained answer's lines (pure; table-tested in tests/unit/health). */
export function parseAtProbe(lines: readonly string[], final: { ok: boolean; final: string }, durationMs = 0): AtSample {
  const s = empty(final.ok ? null : `AT probe ended with ${final.final}`, durationMs);
  const csq = parseCsqExec(lines);
  const reg = parseCeregRead(lines);
  const cell = parseQengWrite(lines);
  const cnt = parseQgdcntRead(lines);
  const temp = parseQtempExec(lines);
  // An answered line counts as a working AT port even when one verb of the chain was refused.
  s.ok = final.ok || csq.ok || reg.ok;
  if (csq.ok && csq.value.dbm !== null) {
    s.csq = csq.value.rssi;
    s.rssi = csq.value.dbm;
  }
  if (reg.ok) {
    s.registered = reg.value.registered;
    s.registration = reg.value.status;
    s.cellId = reg.value.cellId;
  }
  if (cell.ok && cell.value.rat === "LTE") {
    s.rsrp = cell.value.rsrp;
    s.rsrq = cell.value.rsrq;
    s.rssi = cell.value.rssi ?? s.rssi;
    s.sinrRaw = cell.value.sinrRaw;
    s.cellId = cell.value.cellId ?? s.cellId;
  }
  if (cnt.ok) {
    s.bytesSent = cnt.value.bytesSent;
    s.bytesReceived = cnt.value.bytesReceived;
  }
  if (temp.ok) s.temperature = temp.value.max;
  return s;
}

/**
 * Sends the probe line on `channel`. Never throws: a transport failure (timeout, port gone) is a sample with
 * ok=false and the error's code. `deadlineMs` bounds the wait including time queued behind other commands
 * (a hung modem's queue), which the engine's own timeout does not. `onSettled` fires when the engine is done with
 * the command (answered, timed out or closed), which may be after the deadline.
 */
export async function probeAt(channel: AtChannel, opts: { timeoutMs?: number; deadlineMs?: number; onSettled?: () => void } = {}): Promise<AtSample> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 3000;
  const deadlineMs = opts.deadlineMs ?? timeoutMs * 3;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sent: Promise<AtResponse>;
  try {
    sent = channel.send(AT_PROBE_COMMAND, { timeoutMs });
  } catch (e) {
    opts.onSettled?.();
    return empty(`AT_FAILED: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
  sent.then(() => opts.onSettled?.(), () => opts.onSettled?.());
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError("HEALTH_PROBE_DEADLINE", `AT probe not answered within ${deadlineMs} ms (queued behind other commands?)`)), deadlineMs);
    });
    const r = await Promise.race([sent, deadline]);
    return parseAtProbe(r.lines, r, performance.now() - started);
  } catch (e) {
    const code = e instanceof AppError ? e.code : "AT_FAILED";
    return empty(`${code}: ${e instanceof Error ? e.message : String(e)}`, performance.now() - started);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
