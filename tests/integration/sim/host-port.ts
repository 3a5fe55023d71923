/**
 * The host side of a simulated modem port, as a test opens it: O_RDWR|O_NOCTTY|O_NONBLOCK, raw mode, reads through
 * Bun.file(fd).stream(). Collects bytes (latin1) and waits for final result codes.
 */
import fs from "node:fs";
import { makeRaw, O_NOCTTY, O_NONBLOCK, O_RDWR } from "../../../src/lib/libc.ts";

/** A complete answer: ends with a final result code or the SMS prompt. */
export const FINAL_RE = /\r\n(OK|ERROR|NO CARRIER|\+CM[ES] ERROR: [^\r\n]*)\r\n$|\r\n> $/;

export class HostPort {
  buf = "";
  /** Resolves when the port vanished (EOF/EIO on read). */
  readonly ended: Promise<void>;
  private readonly fd: number;
  private closed = false;
  private reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(path: string) {
    this.fd = fs.openSync(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    makeRaw(this.fd);
    const reader = Bun.file(this.fd).stream().getReader();
    this.reader = reader;
    this.ended = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          if (value) this.buf += Buffer.from(value).toString("latin1");
        }
      } catch { /* EIO: port gone */ }
    })();
  }

  write(text: string | Uint8Array): void {
    fs.writeSync(this.fd, typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  /** Waits until `pred(buf)` holds; returns the buffer. */
  async waitFor(pred: (buf: string) => boolean, timeoutMs = 3000, what = "data"): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (!pred(this.buf)) {
      if (Date.now() > until) throw new Error(`timeout waiting for ${what}; got ${JSON.stringify(this.buf)}`);
      await Bun.sleep(2);
    }
    return this.buf;
  }

  /** Sends `cmd` + CR and returns every byte up to and including the final result code. */
  // Generous: the machine running CI is shared; the answer resolves the wait as soon as it arrives.
  async command(cmd: string, timeoutMs = 8000): Promise<string> {
    this.buf = "";
    this.write(`${cmd}\r`);
    return this.waitFor((b) => FINAL_RE.test(b), timeoutMs, `answer to ${cmd}`);
  }

  /** Collects whatever arrives during `ms`. */
  async collect(ms: number): Promise<string> {
    this.buf = "";
    await Bun.sleep(ms);
    return this.buf;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reader.cancel().catch(() => {});
    try { fs.closeSync(this.fd); } catch { /* gone */ }
  }
}

/** Runs an executable without blocking the event loop (the sim lives in this process). */
export async function runAsync(argv: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: env ? { ...process.env, ...env } : process.env });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
