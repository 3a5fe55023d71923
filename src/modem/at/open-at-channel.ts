/**
 * The one call other modules use to talk AT to a port: opens the tty through the Bun serial binding and
 * puts an AtEngine on it.
 */
import { openSerialPort, type SerialOpenOptions } from "../serial/open-serial-port.ts";
import { AtEngine, type AtEngineOptions } from "./engine.ts";
import { DEFAULT_INIT_COMMANDS, runInit, type InitReport } from "./init-sequence.ts";
import type { AtMetricsSnapshot } from "./metrics.ts";
import { serialTransport } from "./transport.ts";
import type { AtChannel } from "./types.ts";

export interface OpenAtChannelOptions extends AtEngineOptions, SerialOpenOptions {
  /** Commands of init() (default DEFAULT_INIT_COMMANDS). */
  initCommands?: readonly string[];
  /** Run init() before resolving (default false: the caller decides when). */
  autoInit?: boolean;
  /** Upper bound for closing the port (ms). */
  closeTimeoutMs?: number;
}

export interface OpenAtChannel extends AtChannel {
  /** The init sequence; call after every (re)open. Rejects AT_NOT_RESPONDING / AT_CLOSED / AT_UNPLUGGED. */
  init(commands?: readonly string[]): Promise<InitReport>;
  metrics(): AtMetricsSnapshot;
  readonly path: string;
}

/**
 * Opens `path` (e.g. /dev/modems/slot07/at) and returns an AT channel on it. Rejects with the serial
 * binding's SERIAL_OPEN_FAILED / SERIAL_LOCKED / SERIAL_UNSUPPORTED.
 */
export async function openAtChannel(path: string, opts: OpenAtChannelOptions = {}): Promise<OpenAtChannel> {
  const { initCommands = DEFAULT_INIT_COMMANDS, autoInit = false, closeTimeoutMs = 1000, baudRate, lock, hangupPollMs,
    ...engineOptions } = opts;
  const port = await openSerialPort(path, { baudRate, lock, hangupPollMs });
  const engine = new AtEngine(serialTransport(port, closeTimeoutMs), { name: path, ...engineOptions });
  const channel: OpenAtChannel = {
    path,
    send: (command, sendOpts) => engine.send(command, sendOpts),
    onUrc: (listener) => engine.onUrc(listener),
    onClose: (listener) => engine.onClose(listener),
    close: () => engine.close(),
    metrics: () => engine.metrics(),
    init: (commands = initCommands) => runInit(engine, commands, {
      wakeAttempts: 2, wakeTimeoutMs: engineOptions.resyncTimeoutMs ?? 1000,
    }),
  };
  if (autoInit) {
    try {
      await channel.init();
    } catch (e) {
      await engine.close();
      throw e;
    }
  }
  return channel;
}
