/**
 * The contract of one AT command channel (one serial port of one modem). Implemented by the AT engine
 * (src/modem/at/engine.ts); used by the EC25 driver, the at-rmnet data-connection driver and the console.
 */
export type AtFinalKind =
  | "OK" | "ERROR" | "CME_ERROR" | "CMS_ERROR" | "NO_CARRIER" | "CONNECT" | "BUSY" | "NO_ANSWER" | "NO_DIALTONE";

export interface AtResponse {
  /** The command as sent, without the trailing CR. */
  command: string;
  /** Information lines of the response, in order, without echo, blank lines, URCs or the final result code. */
  lines: string[];
  /** The final result code line as received ("OK", "+CME ERROR: 10", ...). */
  final: string;
  kind: AtFinalKind;
  ok: boolean;
  /** Numeric or verbose error for CME/CMS errors. */
  errorCode?: number;
  errorText?: string;
  durationMs: number;
}

export interface AtSendOptions {
  /** Overrides the per-command timeout table (ec25.md §3.7). */
  timeoutMs?: number;
  /** For AT+CMGS/CMGW: text (or PDU hex) sent after the "> " prompt, terminated with Ctrl-Z by the engine. */
  body?: string;
}

export interface AtChannel {
  /** Queues one command (FIFO, one in flight). Rejects with AppError code AT_TIMEOUT / AT_CLOSED / AT_BUSY_CLOSED. */
  send(command: string, opts?: AtSendOptions): Promise<AtResponse>;
  /** Subscribes to unsolicited result codes (whole lines). Returns an unsubscribe function. */
  onUrc(listener: (line: string) => void): () => void;
  /** Fires once when the device vanished (EIO/ENXIO/HUP) or was closed. */
  onClose(listener: (reason: "unplugged" | "closed") => void): () => void;
  close(): Promise<void>;
}
