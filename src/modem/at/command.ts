/**
 * What the engine checks about a command line before it goes out, and the key its metrics go under.
 */
import { AppError } from "../../lib/errors.ts";
import { commandVerbs } from "../parsers/command.ts";

/** Longest single command line we pass on; the EC25 input buffer is ~1 KB [? MAN] and we never need more. */
export const MAX_COMMAND_LENGTH = 1024;

// Printable ASCII plus anything above 0x7f; every C0 control and DEL is refused (CR/LF/Ctrl-Z/ESC injection).
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws AT_INVALID_COMMAND unless `command` is one printable line that starts with AT. */
export function validateCommand(command: string): void {
  if (typeof command !== "string" || command.length === 0) {
    throw new AppError("AT_INVALID_COMMAND", "empty AT command");
  }
  if (CONTROL.test(command)) {
    throw new AppError("AT_INVALID_COMMAND", "AT command contains CR, LF or other control characters", {
      command: JSON.stringify(command),
    });
  }
  if (command.length > MAX_COMMAND_LENGTH) {
    throw new AppError("AT_INVALID_COMMAND", `AT command longer than ${MAX_COMMAND_LENGTH} characters`);
  }
  if (!/^AT/i.test(command)) {
    throw new AppError("AT_INVALID_COMMAND", "AT command must start with AT", { command });
  }
}

/**
 * Throws AT_INVALID_COMMAND for a CMGS/CMGW body the engine cannot send intact: Ctrl-Z (0x1A) would end it
 * early, ESC (0x1B) would abort it, CR starts a new "> " prompt in text mode (ec25.md §4.6), NUL is garbage.
 */
export function validateBody(body: string): void {
  if (/[\u0000\r\u001a\u001b]/.test(body)) {
    throw new AppError("AT_INVALID_COMMAND", "message body contains NUL, CR, Ctrl-Z or ESC");
  }
}

/** Metrics key of a command: its first verb without the form ("AT+CSQ", "ATE", "ATI", "AT$QCRMCALL", "AT"). */
export function metricsKey(command: string): string {
  const first = commandVerbs(command)[0];
  return first ? `AT${first.verb}` : "AT";
}
