/**
 * What the AT console (panel, API, `lteproxy at`) may send to a modem. One command per request, starting with AT,
 * printable, no `;` chaining (ec25.md §3.2: one AT line can carry many commands), no dial/answer/hang-up, and only
 * verbs on an allow-list. Every attempt, allowed or refused, is recorded with auditConsole().
 *
 * Allow-list patterns (case-insensitive, compared with the command's surrounding blanks removed):
 *   `AT+CSQ`            exactly that command
 *   `AT+QCFG="*"`       `*` stands for one simple parameter: letters, digits and `_ / . -` (no comma, quote or `;`),
 *                       so `AT+QCFG="usbnet"` (a read) matches but `AT+QCFG="usbnet",1` (a write) does not.
 * The defaults below are reads; `control: true` (an admin, or root running `lteproxy at` on the box) adds the
 * radio and data-call controls. Admins widen either list through the settings table, key `console.allow`
 * (a JSON array of patterns; the fleet row '' and the node's row are both applied).
 */
import { AppError } from "../lib/errors.ts";
import type { Sql } from "../db/client.ts";
import { writeAudit } from "../db/queries/audit.ts";

/** Reads a technician may always run (ec25.md §4). */
export const DEFAULT_CONSOLE_ALLOW: readonly string[] = [
  "AT", "ATI", "AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+QGMR", "AT+CSUB",
  "AT+CGSN", "AT+GSN", "AT+CIMI", "AT+QCCID",
  "AT+CPIN?", "AT+QSIMSTAT?", "AT+QINISTAT",
  "AT+CSQ", "AT+CREG?", "AT+CGREG?", "AT+CEREG?", "AT+COPS?", "AT+QNWINFO", "AT+QSPN",
  'AT+QENG="servingcell"', 'AT+QENG="neighbourcell"', "AT+QCAINFO", "AT+QTEMP",
  "AT+CFUN?", "AT+CGATT?", "AT+CGACT?", "AT+CGDCONT?", "AT+CGPADDR", "AT+CGPADDR=*", "AT$QCRMCALL?",
  "AT+QGDCNT?", 'AT+QCFG="*"', "AT+QURCCFG?", "AT+CMEE?", "AT+CMGF?", "AT+CPMS?", "AT+CSCA?",
];

/** Radio and data-call controls (the heal/rotation steps of ec25.md §6), for admins and the box's own CLI. */
export const CONTROL_CONSOLE_ALLOW: readonly string[] = [
  "AT+CFUN=0", "AT+CFUN=1", "AT+CFUN=4", "AT+CFUN=1,1",
  "AT+COPS=0", "AT+COPS=2", "AT$QCRMCALL=1,1", "AT$QCRMCALL=0,1", "AT+QGDCNT=0",
];

export const CONSOLE_SETTING_KEY = "console.allow";
export const MAX_CONSOLE_COMMAND = 256;

export interface ConsolePolicyOptions {
  /** Extra patterns (from settings). */
  extra?: readonly string[];
  /** Add CONTROL_CONSOLE_ALLOW. */
  control?: boolean;
}

// C0 controls and DEL: CR/LF would start a second command line, Ctrl-Z/ESC end or abort SMS input.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// V.250 basic commands that place, answer, hang up or go back on line: A, D, H, O (ATD*99#, ATA, ATH, ATO).
const DIAL = /^AT\s*[ADHO]/i;

function refuse(code: string, message: string, command: string): AppError {
  return new AppError(code, message, { command });
}

function patternRegex(pattern: string): RegExp {
  const parts = pattern.trim().toUpperCase().split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join("[A-Z0-9_/.\\-]+")}$`);
}

/** A normalised command: surrounding blanks removed. Internal blanks are kept and must match the pattern. */
function normalise(command: string): string {
  return command.trim();
}

/**
 * Checks one console command. Returns the command to send (trimmed) or throws an AppError:
 * CONSOLE_INJECTION (CR, LF or another control character), CONSOLE_INVALID (empty, too long, not AT…),
 * CONSOLE_CHAINING (`;`), CONSOLE_DIAL (ATD/ATA/ATH/ATO), CONSOLE_NOT_ALLOWED (not on the allow-list).
 */
export function checkConsoleCommand(command: unknown, opts: ConsolePolicyOptions = {}): string {
  if (typeof command !== "string" || command.trim() === "") throw refuse("CONSOLE_INVALID", "empty command: type one AT command, e.g. AT+CSQ", "");
  const shown = JSON.stringify(command).slice(0, MAX_CONSOLE_COMMAND + 2);
  if (CONTROL_CHARS.test(command)) {
    throw refuse("CONSOLE_INJECTION", "refused: the command contains CR, LF or another control character; send one command line", shown);
  }
  const cmd = normalise(command);
  if (cmd.length > MAX_CONSOLE_COMMAND) throw refuse("CONSOLE_INVALID", `refused: longer than ${MAX_CONSOLE_COMMAND} characters`, shown);
  if (!/^AT/i.test(cmd)) throw refuse("CONSOLE_INVALID", "refused: a command must start with AT", cmd);
  if (cmd.includes(";")) {
    throw refuse("CONSOLE_CHAINING", "refused: ';' chains several commands on one line; send them one at a time", cmd);
  }
  if (DIAL.test(cmd)) {
    throw refuse("CONSOLE_DIAL", "refused: dial, answer, hang-up and online commands (ATD, ATA, ATH, ATO) are not allowed", cmd);
  }
  const patterns = [...DEFAULT_CONSOLE_ALLOW, ...(opts.control ? CONTROL_CONSOLE_ALLOW : []), ...(opts.extra ?? [])];
  const upper = cmd.toUpperCase();
  if (!patterns.some((p) => typeof p === "string" && p.trim() !== "" && patternRegex(p).test(upper))) {
    throw refuse("CONSOLE_NOT_ALLOWED", `refused: ${cmd} is not on the console allow-list (an admin can add it under '${CONSOLE_SETTING_KEY}')`, cmd);
  }
  return cmd;
}

/** The admin's extra patterns: settings key `console.allow` of the fleet ('') and of this node. Bad rows are ignored. */
export async function readConsoleAllow(sql: Sql, nodeId: string): Promise<string[]> {
  const rows = await sql`select value from settings where key = ${CONSOLE_SETTING_KEY} and node_id in ('', ${nodeId})`;
  const out: string[] = [];
  for (const r of rows) {
    const v = r.value;
    if (Array.isArray(v)) for (const p of v) if (typeof p === "string" && p.trim() !== "" && !CONTROL_CHARS.test(p)) out.push(p.trim());
  }
  return out;
}

export interface ConsoleAudit {
  nodeId: string;
  /** "user:alice", "api-key:ci", "cli:root". */
  actor: string;
  userId?: number | null;
  ip?: string | null;
  /** The modem as the user named it (IMEI or slot). */
  target: string;
  command: string;
  /** "ok" (answered OK), "error" (answered with an error or did not answer), "refused" (policy). */
  result: "ok" | "error" | "refused";
  /** The refusal or failure code (CONSOLE_CHAINING, AT_TIMEOUT, …). */
  code?: string;
  /** The modem's final result line. */
  final?: string;
}

/** Writes one console attempt to audit_log (action `modem.console`). The command is stored JSON-escaped. */
export async function auditConsole(sql: Sql, a: ConsoleAudit): Promise<void> {
  await writeAudit(sql, {
    nodeId: a.nodeId, userId: a.userId ?? null, actor: a.actor, action: "modem.console", target: a.target,
    result: a.result, ip: a.ip ?? null,
    details: { command: a.command.slice(0, 1024), ...(a.code ? { code: a.code } : {}), ...(a.final ? { final: a.final } : {}) },
  });
}
