/**
 * One console request end to end: policy check, the command on the modem, and the audit row either way.
 * Used by the manager's `action.at` requests (console-requests.ts), `lteproxy at` without a running control
 * plane, and the HTTP console.
 */
import { AppError } from "../lib/errors.ts";
import type { Sql } from "../db/client.ts";
import type { AtResponse } from "./at/types.ts";
import { isGoneError } from "./at-result.ts";
import { auditConsole, checkConsoleCommand, readConsoleAllow } from "./console-policy.ts";

/** Commands after which the port disappears by design: reset and power-down. */
const RESETS = /^AT\+(CFUN=\d,1|QPOWD(=\d)?)$/i;

export interface ConsoleRequest {
  sql: Sql;
  nodeId: string;
  /** Sends the checked command (usually `driver.raw`). */
  send(command: string): Promise<AtResponse>;
  target: string;
  command: string;
  actor: string;
  userId?: number | null;
  ip?: string | null;
  /** Allow the radio/data controls (admin role, or root on the box). */
  control?: boolean;
  timeoutMs?: number;
}

export interface ConsoleReply {
  command: string;
  ok: boolean;
  lines: string[];
  final: string;
  durationMs: number;
}

/**
 * Checks, runs and audits one command. Resolves with the modem's answer (also when it is ERROR); rejects with
 * the policy's CONSOLE_* error or the engine's AT_* error. A failed audit write fails the request: an attempt that
 * cannot be recorded is not run.
 */
export async function runConsoleCommand(req: ConsoleRequest): Promise<ConsoleReply> {
  const base = { nodeId: req.nodeId, actor: req.actor, userId: req.userId, ip: req.ip, target: req.target };
  const shown = typeof req.command === "string" ? req.command : String(req.command);
  let command: string;
  try {
    command = checkConsoleCommand(req.command, { control: req.control, extra: await readConsoleAllow(req.sql, req.nodeId) });
  } catch (e) {
    const code = e instanceof AppError ? e.code : "CONSOLE_INVALID";
    await auditConsole(req.sql, { ...base, command: shown, result: "refused", code });
    throw e;
  }
  let r: AtResponse;
  try {
    r = await req.send(command);
  } catch (e) {
    if (isGoneError(e) && RESETS.test(command)) {
      // The reset may drop the port before its OK is read (ec25.md §3.5): the command did what it was asked.
      const final = "OK (port vanished: module resetting)";
      await auditConsole(req.sql, { ...base, command, result: "ok", final });
      return { command, ok: true, lines: [], final, durationMs: 0 };
    }
    await auditConsole(req.sql, { ...base, command, result: "error", code: e instanceof AppError ? e.code : "AT_FAILED" });
    throw e;
  }
  await auditConsole(req.sql, { ...base, command, result: r.ok ? "ok" : "error", final: r.final });
  return { command, ok: r.ok, lines: r.lines, final: r.final, durationMs: r.durationMs };
}
