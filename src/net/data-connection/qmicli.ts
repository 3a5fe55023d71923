/**
 * Runs qmicli (or the lab's qmicli-compatible `lteproxy sim qmicli`) and turns its failures into AppErrors with the
 * QMI error and the call end reason (ec25.md §5.4). Never puts argv in an error: it can carry the APN password.
 */
import { AppError } from "../../lib/errors.ts";
import type { ExecResult } from "../../lib/exec.ts";
import type { CommandRunner } from "../ip-command.ts";
import { parseQmiError, type QmiError } from "../qmi/parsers.ts";

export interface QmicliOptions {
  /** Path or argv prefix of qmicli: "qmicli", "/usr/bin/qmicli", or ["lteproxy", "sim", "qmicli"]. */
  command: string | string[];
  run: CommandRunner;
  /** `-p`: go through qmi-proxy, needed when another process talks to the same cdc-wdm (ec25.md §5.4). */
  useProxy: boolean;
  timeoutMs: number;
}

/** One qmicli invocation's result, with the exit code kept (qmicli exits 1 on any QMI error). */
export class Qmicli {
  constructor(private readonly opts: QmicliOptions) {}

  async call(device: string, args: string[], timeoutMs = this.opts.timeoutMs): Promise<ExecResult> {
    const prefix = Array.isArray(this.opts.command) ? this.opts.command : [this.opts.command];
    const argv = [...prefix, "-d", device, ...(this.opts.useProxy ? ["-p"] : []), ...args];
    try {
      return await this.opts.run(argv, { timeoutMs, check: false });
    } catch (error) {
      // The runner's message contains argv (and so maybe the APN password): build our own, keep no cause.
      const timedOut = error instanceof AppError && error.code === "EXEC_TIMEOUT";
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `cannot run ${prefix[0]}`;
      const op = (args[0] ?? "").split("=")[0];
      throw new AppError(timedOut ? "QMI_TIMEOUT" : "QMI_EXEC_FAILED", `qmicli ${op} on ${device}: ${why}`, { device, op });
    }
  }
}

/**
 * The CID of a "[dev] Client ID not released:" block. qmicli prints it whenever --client-no-release-cid was given,
 * failure or not (its release path runs after every operation), so a failed start leaves that client allocated.
 * src/net/qmi/parsers.ts reports the CID only for successes; this covers the failure case.
 */
export function leakedCid(stdout: string): number | null {
  const all = stdout.split(/\r?\n/);
  const at = all.findIndex((l) => /Client ID not released/.test(l));
  if (at < 0) return null;
  for (const l of all.slice(at + 1, at + 4)) {
    const m = /^\s*CID:\s*'(\d{1,10})'/.exec(l);
    if (m) return Number(m[1]);
  }
  return null;
}

/** Builds the AppError from a parsed qmicli error. The code is the parser's (QMI_CALL_FAILED, QMI_NO_EFFECT, …). */
export function qmiErrorToAppError(op: string, device: string, e: QmiError): AppError {
  const details = {
    device, op, protocolErrorCode: e.protocolErrorCode, protocolErrorName: e.protocolErrorName,
    callEndReason: e.callEndReason, verboseCallEndReason: e.verboseCallEndReason,
  };
  if (e.code === "QMI_CALL_FAILED") {
    const reason = e.callEndReason ? `${e.callEndReason.name} (${e.callEndReason.code})` : "unknown";
    const v = e.verboseCallEndReason;
    const verbose = v ? `; verbose: [${v.domain}] ${v.name} (${v.type},${v.reason})` : "";
    return new AppError("QMI_CALL_FAILED", `data call failed on ${device}: call end reason ${reason}${verbose}`, details);
  }
  if (e.code === "QMI_NO_EFFECT") {
    return new AppError("QMI_NO_EFFECT", `qmicli ${op} on ${device}: no effect (a session is already up for this client)`, details);
  }
  return new AppError(e.code, `qmicli ${op} on ${device}: ${e.message}`, details);
}

/** The AppError for a failed qmicli call whose stderr may or may not hold a parsable "error:" line. */
export function qmiFailure(op: string, device: string, res: ExecResult): AppError {
  const parsed = parseQmiError(res.stderr);
  if (parsed.ok) return qmiErrorToAppError(op, device, parsed.value);
  const tail = res.stderr.trim().slice(-500) || res.stdout.trim().slice(-200);
  return new AppError("QMI_FAILED", `qmicli ${op} on ${device} exited ${res.code}: ${tail}`, { device, op, exitCode: res.code });
}
