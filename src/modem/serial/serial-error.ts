/**
 * Errors of the Bun serial binding. `canceled` follows serialport's BindingsErrorInterface: a canceled
 * read/write is the result of our own close; any other error makes SerialPortStream disconnect.
 */
import type { BindingsErrorInterface } from "./binding-types.ts";
import { AppError } from "../../lib/errors.ts";

export type SerialErrorCode =
  | "SERIAL_OPEN_FAILED" // path missing, permission, not a tty
  | "SERIAL_LOCKED" // another open file description holds the flock
  | "SERIAL_UNSUPPORTED" // settings cfmakeraw cannot express (7 data bits, parity, ...)
  | "SERIAL_NOT_OPEN"
  | "SERIAL_CANCELED" // pending read/write ended by close()
  | "SERIAL_UNPLUGGED" // the device vanished: EIO/ENXIO/ENODEV, end of stream, poll HUP
  | "SERIAL_IO_ERROR"; // any other I/O failure (also fatal for the port)

export class SerialError extends AppError implements BindingsErrorInterface {
  readonly canceled: boolean;
  constructor(
    code: SerialErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown; canceled?: boolean },
  ) {
    super(code, message, details, { cause: options?.cause });
    this.name = "SerialError";
    this.canceled = options?.canceled ?? false;
  }
}

/** errno codes that mean the device behind the fd is gone rather than a transient fault. */
const GONE = new Set(["EIO", "ENXIO", "ENODEV", "EPIPE", "EBADF", "ESHUTDOWN", "ENOENT"]);

function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Maps a read/write failure to SERIAL_UNPLUGGED (device gone) or SERIAL_IO_ERROR. */
export function ioFailure(path: string, op: "read" | "write" | "poll", e: unknown): SerialError {
  const errno = errnoCode(e);
  const gone = errno === undefined ? op === "poll" : GONE.has(errno);
  return new SerialError(
    gone ? "SERIAL_UNPLUGGED" : "SERIAL_IO_ERROR",
    gone ? `serial device ${path} vanished (${op}: ${errno ?? "hang-up"})` : `serial ${op} on ${path} failed: ${String(e)}`,
    { path, op, errno },
    { cause: e },
  );
}

export function canceled(path: string, op: string): SerialError {
  return new SerialError("SERIAL_CANCELED", `serial ${op} on ${path} canceled: port closed`, { path, op }, { canceled: true });
}
