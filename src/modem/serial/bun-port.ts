/**
 * One open tty under Bun: serialport's BindingPortInterface on top of a non-blocking fd.
 * Reads go through FdReader (Bun.file(fd).stream()), writes through fs.writeSync with EAGAIN retry,
 * and a small poll() watch notices a hang-up even when Bun's stream neither ends nor errors.
 */
import fs from "node:fs";
import type { BindingPortInterface, OpenOptions, PortStatus, SetOptions, UpdateOptions } from "./binding-types.ts";
import { libc, makeRaw, TCIOFLUSH } from "../../lib/libc.ts";
import { FdReader } from "./fd-reader.ts";
import { canceled, ioFailure, SerialError } from "./serial-error.ts";
import { getModemBits, hangupBits, outputQueued, setBreak, setLocalMode, setModemBits, TIOCM, unlock } from "./tty-ffi.ts";

export interface BunPortHooks {
  /** How often the hang-up watch polls the fd (ms). The issue wants an unplug noticed well within 1 s. */
  hangupPollMs: number;
  /** Called once, synchronously, when the device vanished or the fd failed; before any read/write rejects. */
  onDisconnect?: (error: SerialError) => void;
  locked: boolean;
}

const TRANSIENT = new Set(["EAGAIN", "EWOULDBLOCK", "EINTR"]);

export class BunPort implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  private readonly fd: number;
  private readonly reader: FdReader;
  private readonly hooks: BunPortHooks;
  private readonly watch: ReturnType<typeof setInterval>;
  private readonly interrupt: Promise<never>;
  private rejectInterrupt!: (e: SerialError) => void;
  private gone: SerialError | null = null;
  private writing: Promise<void> = Promise.resolve();
  private baudRate: number;

  constructor(fd: number, openOptions: Required<OpenOptions>, hooks: BunPortHooks) {
    this.fd = fd;
    this.openOptions = openOptions;
    this.hooks = hooks;
    this.baudRate = openOptions.baudRate;
    this.reader = new FdReader(fd);
    this.interrupt = new Promise<never>((_, reject) => {
      this.rejectInterrupt = reject;
    });
    this.interrupt.catch(() => undefined);
    this.watch = setInterval(() => this.checkHangup(), hooks.hangupPollMs);
    this.watch.unref?.();
  }

  /** The reason the port died, if it did (SERIAL_UNPLUGGED or SERIAL_IO_ERROR). */
  get failure(): SerialError | null {
    return this.gone;
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw canceled(this.openOptions.path, "read");
    if (this.gone) throw this.gone;
    let chunk: Uint8Array | null;
    try {
      chunk = await this.reader.next(length, this.interrupt);
    } catch (e) {
      if (e instanceof SerialError) throw e;
      if (!this.isOpen) throw canceled(this.openOptions.path, "read");
      throw this.disconnect(ioFailure(this.openOptions.path, "read", e));
    }
    if (!this.isOpen) throw canceled(this.openOptions.path, "read");
    if (chunk === null) {
      // End of stream on a tty means the other end is gone (pty master closed, USB device removed).
      throw this.disconnect(ioFailure(this.openOptions.path, "read", { code: "EIO" }));
    }
    buffer.set(chunk, offset);
    return { buffer, bytesRead: chunk.byteLength };
  }

  write(buffer: Buffer): Promise<void> {
    const done = this.writeAll(buffer);
    this.writing = done.catch(() => undefined);
    return done;
  }

  private async writeAll(buffer: Buffer): Promise<void> {
    let offset = 0;
    let waitMs = 1;
    while (offset < buffer.length) {
      if (!this.isOpen) throw canceled(this.openOptions.path, "write");
      if (this.gone) throw this.gone;
      try {
        offset += fs.writeSync(this.fd, buffer, offset, buffer.length - offset);
        waitMs = 1;
      } catch (e) {
        const code = (e as { code?: string }).code ?? "";
        if (!TRANSIENT.has(code)) throw this.disconnect(ioFailure(this.openOptions.path, "write", e));
        // Output queue full (the device is not reading): back off and retry until it drains or we close.
        await Bun.sleep(waitMs);
        waitMs = Math.min(waitMs * 2, 50);
      }
    }
  }

  async update(options: UpdateOptions): Promise<void> {
    this.assertOpen("update");
    try {
      makeRaw(this.fd, options.baudRate);
      setLocalMode(this.fd, this.openOptions.hupcl);
    } catch (e) {
      throw new SerialError("SERIAL_UNSUPPORTED", `cannot set baud rate ${options.baudRate}: ${String(e)}`, { path: this.openOptions.path });
    }
    this.baudRate = options.baudRate;
  }

  async set(options: SetOptions): Promise<void> {
    this.assertOpen("set");
    if (options.brk !== undefined) setBreak(this.fd, options.brk);
    const bits = getModemBits(this.fd);
    if (bits === null) return; // a pty has no modem lines: nothing to set
    let next = bits;
    if (options.dtr !== undefined) next = options.dtr ? next | TIOCM.DTR : next & ~TIOCM.DTR;
    if (options.rts !== undefined) next = options.rts ? next | TIOCM.RTS : next & ~TIOCM.RTS;
    if (next !== bits) setModemBits(this.fd, next);
  }

  async get(): Promise<PortStatus> {
    this.assertOpen("get");
    const bits = getModemBits(this.fd) ?? 0;
    return { cts: (bits & TIOCM.CTS) !== 0, dsr: (bits & TIOCM.DSR) !== 0, dcd: (bits & TIOCM.CAR) !== 0 };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    this.assertOpen("getBaudRate");
    return { baudRate: this.baudRate };
  }

  async flush(): Promise<void> {
    this.assertOpen("flush");
    libc().tcflush(this.fd, TCIOFLUSH);
    this.reader.discard();
  }

  /** Waits for our pending write, then for the kernel output queue to empty (at most `timeoutMs`). */
  async drain(timeoutMs = 2000): Promise<void> {
    this.assertOpen("drain");
    await this.writing;
    // tcdrain(3) would block the whole event loop if the device stops reading; poll TIOCOUTQ instead.
    const deadline = performance.now() + timeoutMs;
    while (this.isOpen && performance.now() < deadline) {
      const queued = outputQueued(this.fd);
      if (queued === null || queued === 0) return;
      await Bun.sleep(5);
    }
  }

  /** Closes the fd; a pending read rejects with `canceled: true`. Never waits on the device. */
  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    clearInterval(this.watch);
    this.rejectInterrupt(canceled(this.openOptions.path, "read"));
    await this.reader.cancel();
    try {
      if (this.hooks.locked) unlock(this.fd);
      fs.closeSync(this.fd);
    } catch {
      // already gone with the device; nothing left to release
    }
  }

  private checkHangup(): void {
    if (!this.isOpen || this.gone) return;
    if (hangupBits(this.fd) !== 0) this.disconnect(ioFailure(this.openOptions.path, "poll", undefined));
  }

  /** Records the first fatal error, tells the owner, and wakes a pending read. Returns the error to throw. */
  private disconnect(error: SerialError): SerialError {
    if (this.gone) return this.gone;
    this.gone = error;
    clearInterval(this.watch);
    try {
      this.hooks.onDisconnect?.(error);
    } finally {
      this.rejectInterrupt(error);
    }
    return error;
  }

  private assertOpen(op: string): void {
    if (!this.isOpen) throw new SerialError("SERIAL_NOT_OPEN", `serial ${op}: port ${this.openOptions.path} is not open`);
  }
}
