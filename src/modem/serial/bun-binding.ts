/**
 * serialport's BindingInterface for Bun. The stock @serialport/bindings-cpp crashes under Bun (libuv
 * `uv_poll_init`, oven-sh/bun#18546), so this module must never import it (nor `serialport` itself,
 * whose index loads it): only @serialport/stream and @serialport/bindings-interface (types).
 *
 *   const port = new SerialPortStream({ binding: BunBinding, path: "/dev/ttyUSB2", baudRate: 115200 });
 */
import fs from "node:fs";
import type { BindingInterface, OpenOptions, PortInfo } from "./binding-types.ts";
import { BAUD, makeRaw, O_NOCTTY, O_NONBLOCK, O_RDWR } from "../../lib/libc.ts";
import { BunPort } from "./bun-port.ts";
import { SerialError } from "./serial-error.ts";
import { lockExclusive, setLocalMode } from "./tty-ffi.ts";

export interface BunOpenOptions extends OpenOptions {
  /** Hang-up poll interval in ms (default 250). */
  hangupPollMs?: number;
  /** Called once when the device vanishes (SERIAL_UNPLUGGED) or the fd fails (SERIAL_IO_ERROR). */
  onDisconnect?: (error: SerialError) => void;
}

const DEFAULTS = {
  dataBits: 8, lock: true, stopBits: 1, parity: "none",
  rtscts: false, xon: false, xoff: false, xany: false, hupcl: true,
} as const;

function unsupported(options: Required<OpenOptions>): string | null {
  if (BAUD[options.baudRate] === undefined) return `baud rate ${options.baudRate} (supported: ${Object.keys(BAUD).join(", ")})`;
  // cfmakeraw gives 8N1 without flow control; that is all a USB modem port needs.
  if (options.dataBits !== 8) return `dataBits ${options.dataBits}`;
  if (options.stopBits !== 1) return `stopBits ${options.stopBits}`;
  if (options.parity !== "none") return `parity ${options.parity}`;
  if (options.rtscts || options.xon || options.xoff || options.xany) return "flow control";
  return null;
}

async function open(options: BunOpenOptions): Promise<BunPort> {
  const { hangupPollMs = 250, onDisconnect, ...rest } = options;
  if (typeof rest.path !== "string" || rest.path === "") throw new SerialError("SERIAL_OPEN_FAILED", "serial path is empty");
  const full: Required<OpenOptions> = { ...DEFAULTS, ...rest };
  const bad = unsupported(full);
  if (bad) throw new SerialError("SERIAL_UNSUPPORTED", `unsupported serial setting: ${bad}`, { path: full.path });
  let fd: number;
  try {
    fd = fs.openSync(full.path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  } catch (e) {
    throw new SerialError("SERIAL_OPEN_FAILED", `cannot open ${full.path}: ${(e as Error).message}`, {
      path: full.path, errno: (e as { code?: string }).code,
    }, { cause: e });
  }
  try {
    if (full.lock) {
      const err = lockExclusive(fd);
      // errno read back through FFI is often 0; any flock failure with LOCK_NB means another holder.
      if (err !== null) throw new SerialError("SERIAL_LOCKED", `${full.path} is in use by another owner`, { path: full.path, errno: err });
    }
    makeRaw(fd, full.baudRate);
    setLocalMode(fd, full.hupcl);
  } catch (e) {
    fs.closeSync(fd);
    if (e instanceof SerialError) throw e;
    throw new SerialError("SERIAL_OPEN_FAILED", `cannot configure ${full.path} as a tty: ${(e as Error).message}`, { path: full.path }, { cause: e });
  }
  return new BunPort(fd, full, { hangupPollMs, onDisconnect, locked: full.lock });
}

/** The binding object to pass as `binding` to SerialPortStream. */
export const BunBinding: BindingInterface<BunPort, BunOpenOptions, PortInfo> = {
  /** Enumeration is the detector's job (device dir + sysfs); serialport-style listing is not needed. */
  async list(): Promise<PortInfo[]> {
    return [];
  },
  open,
};
