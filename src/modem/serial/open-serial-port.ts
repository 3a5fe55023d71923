/**
 * Opening and closing a modem tty as a SerialPortStream over BunBinding, with the device's disappearance
 * surfaced as its own `unplugged` event (error code SERIAL_UNPLUGGED) instead of a stream error.
 */
import { SerialPortStream } from "@serialport/stream";
import { childLogger } from "../../lib/logger.ts";
import { BunBinding } from "./bun-binding.ts";
import { SerialError } from "./serial-error.ts";

const log = childLogger("serial");

export type BunSerialPort = SerialPortStream<typeof BunBinding>;

export interface SerialOpenOptions {
  /** USB ports ignore it (ec25.md §3.1); a UART needs 115200. */
  baudRate?: number;
  /** flock the tty so two processes never share one port (ec25.md §3.1). */
  lock?: boolean;
  /** Hang-up poll interval (ms). */
  hangupPollMs?: number;
}

/**
 * Opens `path` and resolves once the port is open. Events besides the usual stream ones:
 *  - `unplugged` (error: SerialError with code SERIAL_UNPLUGGED or SERIAL_IO_ERROR), emitted once, before `close`.
 * Stream `error` events are logged here so that an unexpected one never becomes an uncaught exception.
 */
export function openSerialPort(path: string, opts: SerialOpenOptions = {}): Promise<BunSerialPort> {
  const { baudRate = 115200, lock = true, hangupPollMs = 250 } = opts;
  return new Promise((resolve, reject) => {
    let port: BunSerialPort | undefined;
    const onDisconnect = (error: SerialError) => {
      log.warn({ path, code: error.code, errno: error.details?.errno }, "serial device disconnected");
      // Deferred one tick: the port object may not be assigned yet when open itself races an unplug.
      queueMicrotask(() => port?.emit("unplugged", error));
    };
    port = new SerialPortStream({ binding: BunBinding, path, baudRate, lock, hangupPollMs, onDisconnect, autoOpen: false });
    port.on("error", (error: Error) => log.debug({ path, err: error.message }, "serial stream error"));
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

/** Closes the port; resolves within `timeoutMs` whatever the device does. Safe to call twice or after an unplug. */
export function closeSerialPort(port: BunSerialPort, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    if (port.isOpen) {
      port.close(() => done());
    } else if (port.closing) {
      port.once("close", done);
    } else {
      done();
    }
  });
}

/** True when `e` is the binding's "device vanished" error. */
export function isUnplugged(e: unknown): e is SerialError {
  return e instanceof SerialError && (e.code === "SERIAL_UNPLUGGED" || e.code === "SERIAL_IO_ERROR");
}
