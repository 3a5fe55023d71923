/**
 * Turning AT answers into values or coded errors, shared by the drivers and the console.
 */
import { AppError, hasCode } from "../lib/errors.ts";
import type { AtResponse } from "./at/types.ts";
import { lookupCmeError, lookupCmsError } from "./parsers/error-codes.ts";

/** The stable code of a failed answer: "SIM_NOT_INSERTED" for `+CME ERROR: 10`, "ERROR" for a bare ERROR. */
export function modemErrorCode(r: AtResponse): string {
  if (r.kind === "CME_ERROR") return lookupCmeError(r.errorCode ?? r.errorText ?? "").code;
  if (r.kind === "CMS_ERROR") return lookupCmsError(r.errorCode ?? r.errorText ?? "").code;
  return r.kind;
}

/** Returns `r` when it ended in OK; throws AT_COMMAND_FAILED naming the command and the modem's answer otherwise. */
export function expectOk(r: AtResponse): AtResponse {
  if (r.ok) return r;
  const modemCode = modemErrorCode(r);
  const why = r.errorText ? `${r.final} (${r.errorText})` : r.final;
  throw new AppError("AT_COMMAND_FAILED", `${r.command}: ${why}`, { command: r.command, final: r.final, modemCode });
}

/** Transport-level failures: the modem did not answer or its port is gone. Everything else is an answer. */
export function isTransportError(e: unknown): boolean {
  return ["AT_TIMEOUT", "AT_ECHO_ONLY", "AT_UNPLUGGED", "AT_CLOSED", "AT_QUEUE_FULL"].some((c) => hasCode(e, c));
}

/** The port went away (unplug, reboot, crash) or was closed by us. */
export function isGoneError(e: unknown): boolean {
  return hasCode(e, "AT_UNPLUGGED") || hasCode(e, "AT_CLOSED");
}
