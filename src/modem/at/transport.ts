/**
 * The byte pipe under the AT engine. The real one is a SerialPortStream over BunBinding; the interface keeps
 * the engine free of stream details (and lets another byte source, e.g. a QMI-proxied AT port, plug in).
 */
import { AppError } from "../../lib/errors.ts";
import { closeSerialPort, type BunSerialPort } from "../serial/open-serial-port.ts";
import type { SerialError } from "../serial/serial-error.ts";

export type TransportEnd = "unplugged" | "closed";

export interface AtTransport {
  /** Resolves once the bytes were handed to the OS; rejects with AT_CLOSED after close/unplug. */
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Fires at most once. */
  onEnd(listener: (reason: TransportEnd, error?: Error) => void): void;
  /** Never hangs. */
  close(): Promise<void>;
}

/** Adapts an open BunSerialPort (from openSerialPort). */
export function serialTransport(port: BunSerialPort, closeTimeoutMs = 1000): AtTransport {
  const endListeners: Array<(reason: TransportEnd, error?: Error) => void> = [];
  let ended: { reason: TransportEnd; error?: Error } | null = null;
  const end = (reason: TransportEnd, error?: Error) => {
    if (ended) return;
    ended = { reason, error };
    for (const l of endListeners) l(reason, error);
  };
  port.on("unplugged", (error: SerialError) => end("unplugged", error));
  port.on("close", (error: (Error & { disconnected?: boolean }) | null) => {
    end(error?.disconnected ? "unplugged" : "closed", error ?? undefined);
  });
  return {
    write(bytes) {
      if (ended || !port.isOpen) return Promise.reject(new AppError("AT_CLOSED", `port ${port.path} is closed`));
      return new Promise((resolve, reject) => {
        port.write(Buffer.from(bytes), (error) => {
          if (error) reject(new AppError("AT_CLOSED", `write to ${port.path} failed: ${error.message}`, {}, { cause: error }));
          else resolve();
        });
      });
    },
    onData(listener) {
      port.on("data", (chunk: Buffer) => listener(chunk));
    },
    onEnd(listener) {
      if (ended) {
        const { reason, error } = ended;
        queueMicrotask(() => listener(reason, error));
      } else {
        endListeners.push(listener);
      }
    },
    close: () => closeSerialPort(port, closeTimeoutMs),
  };
}
