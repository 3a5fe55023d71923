import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { SerialPortStream } from "@serialport/stream";
import { ReadlineParser } from "@serialport/parser-readline";
import { openPty } from "../../../src/lib/libc.ts";
import { BunBinding } from "../../../src/modem/serial/bun-binding.ts";
import { closeSerialPort, openSerialPort, type BunSerialPort } from "../../../src/modem/serial/open-serial-port.ts";
import type { SerialError } from "../../../src/modem/serial/serial-error.ts";

/** A raw pty whose master the test drives by hand (no scripted modem). */
function rawPty() {
  const pty = openPty();
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let closed = false;
  return {
    ...pty,
    write: (s: string) => fs.writeSync(pty.masterFd, s),
    /** Reads from the master until `n` bytes arrived. */
    async readBytes(n: number): Promise<Buffer> {
      reader ??= Bun.file(pty.masterFd).stream().getReader();
      const parts: Uint8Array[] = [];
      let got = 0;
      while (got < n) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        got += value.length;
      }
      return Buffer.concat(parts);
    },
    /** Closes the master (cancelling our reader first: Bun dups the fd behind the stream). */
    async close() {
      if (closed) return;
      closed = true;
      await reader?.cancel().catch(() => undefined);
      fs.closeSync(pty.masterFd);
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
function track<T extends { close(): Promise<void> }>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}
function trackPort(port: BunSerialPort): BunSerialPort {
  cleanups.push(() => closeSerialPort(port));
  return port;
}

function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => "resolved", (e: { code?: string }) => e.code ?? String(e));
}

describe("BunBinding with SerialPortStream", () => {
  test("SerialPortStream + ReadlineParser: bytes both ways", async () => {
    const pty = track(rawPty());
    const port = trackPort(await openSerialPort(pty.slavePath));
    const lines: string[] = [];
    port.pipe(new ReadlineParser({ delimiter: "\r\n" })).on("data", (l: string) => lines.push(l));
    port.write("AT+CSQ\r");
    expect((await pty.readBytes(7)).toString("latin1")).toBe("AT+CSQ\r");
    pty.write("\r\n+CSQ: 19,99\r\n\r\nOK\r\n");
    for (let i = 0; i < 100 && lines.length < 2; i++) await Bun.sleep(10);
    expect(lines).toEqual(["+CSQ: 19,99", "OK"]); // the delimiter parser skips the empty pieces
  });

  test("the plain constructor works too (autoOpen), and reports the open options", async () => {
    const pty = track(rawPty());
    const port = new SerialPortStream({ binding: BunBinding, path: pty.slavePath, baudRate: 115200 });
    trackPort(port);
    await new Promise<void>((resolve, reject) => {
      port.once("open", resolve);
      port.once("error", reject);
    });
    expect(port.isOpen).toBe(true);
    expect(port.port?.openOptions).toMatchObject({ path: pty.slavePath, baudRate: 115200, dataBits: 8, parity: "none" });
  });

  test("a large write survives a full pty buffer (EAGAIN) and arrives in order", async () => {
    const pty = track(rawPty());
    const port = trackPort(await openSerialPort(pty.slavePath));
    const payload = Buffer.alloc(256 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const written = new Promise<void>((resolve, reject) => port.write(payload, (e) => (e ? reject(e) : resolve())));
    await Bun.sleep(50); // nobody reads the master yet: the kernel buffer fills and writes return EAGAIN
    const received = await pty.readBytes(payload.length);
    await written;
    expect(received.length).toBe(payload.length);
    expect(received.equals(payload)).toBe(true);
  });

  test("update/set/get/getBaudRate/flush/drain behave on a pty", async () => {
    const pty = track(rawPty());
    const port = trackPort(await openSerialPort(pty.slavePath));
    const bun = port.port!;
    await bun.update({ baudRate: 9600 });
    expect(await bun.getBaudRate()).toEqual({ baudRate: 9600 });
    expect(await codeOf(bun.update({ baudRate: 12345 }))).toBe("SERIAL_UNSUPPORTED");
    await bun.set({ dtr: true, rts: true }); // a pty has no modem lines: a no-op, not an error
    expect(await bun.get()).toEqual({ cts: false, dsr: false, dcd: false });
    await bun.flush();
    port.write("AT\r");
    await bun.drain();
    expect((await pty.readBytes(3)).toString()).toBe("AT\r");
  });

  test("open errors carry codes: missing path, not a tty, unsupported settings, port already owned", async () => {
    expect(await codeOf(openSerialPort("/dev/lteproxy-no-such-tty"))).toBe("SERIAL_OPEN_FAILED");
    expect(await codeOf(openSerialPort("/dev/null"))).toBe("SERIAL_OPEN_FAILED");
    const pty = track(rawPty());
    expect(await codeOf(BunBinding.open({ path: pty.slavePath, baudRate: 115200, dataBits: 7 }))).toBe("SERIAL_UNSUPPORTED");
    expect(await codeOf(BunBinding.open({ path: pty.slavePath, baudRate: 115200, parity: "even" }))).toBe("SERIAL_UNSUPPORTED");
    expect(await codeOf(BunBinding.open({ path: pty.slavePath, baudRate: 1234 }))).toBe("SERIAL_UNSUPPORTED");
    trackPort(await openSerialPort(pty.slavePath));
    expect(await codeOf(openSerialPort(pty.slavePath))).toBe("SERIAL_LOCKED");
    const unlocked = trackPort(await openSerialPort(pty.slavePath, { lock: false })); // opting out skips flock
    expect(unlocked.isOpen).toBe(true);
  });

  test("list() is empty (the detector enumerates devices)", async () => {
    expect(await BunBinding.list()).toEqual([]);
  });

  test("unplug while reading: `unplugged` with SERIAL_UNPLUGGED, then `close` with a disconnect error", async () => {
    const pty = track(rawPty());
    const port = await openSerialPort(pty.slavePath, { hangupPollMs: 50 });
    port.on("data", () => undefined);
    const unplugged = new Promise<SerialError>((resolve) => port.once("unplugged", resolve));
    const closed = new Promise<(Error & { disconnected?: boolean }) | null>((resolve) => port.once("close", resolve));
    await Bun.sleep(20);
    await pty.close();
    const error = await unplugged;
    expect(error.code).toBe("SERIAL_UNPLUGGED");
    expect((await closed)?.disconnected).toBe(true);
    expect(port.isOpen).toBe(false);
    await closeSerialPort(port); // after an unplug: resolves, no throw
  });

  test("unplug while nobody reads: the hang-up watch still reports it", async () => {
    const pty = track(rawPty());
    const port = trackPort(await openSerialPort(pty.slavePath, { hangupPollMs: 50 }));
    const unplugged = new Promise<SerialError>((resolve) => port.once("unplugged", resolve));
    await pty.close();
    expect((await unplugged).code).toBe("SERIAL_UNPLUGGED");
  });

  test("writing to a vanished device reports the unplug instead of throwing", async () => {
    const pty = track(rawPty());
    const port = await openSerialPort(pty.slavePath, { hangupPollMs: 60_000 });
    const unplugged = new Promise<SerialError>((resolve) => port.once("unplugged", resolve));
    await pty.close();
    port.write("AT\r", () => undefined);
    expect((await unplugged).code).toBe("SERIAL_UNPLUGGED");
    await closeSerialPort(port);
  });

  test("close() with a read pending returns promptly, the fd is released, and the master sees EIO", async () => {
    const pty = track(rawPty());
    const port = await openSerialPort(pty.slavePath);
    port.on("data", () => undefined); // a read is now pending inside the binding
    await Bun.sleep(20);
    let unplugged = false;
    port.on("unplugged", () => (unplugged = true));
    await closeSerialPort(port, 5000);
    expect(port.isOpen).toBe(false);
    expect(unplugged).toBe(false);
    // With every slave fd closed (Bun's dup included), reading the master fails with EIO.
    const err = await Bun.file(pty.masterFd).stream().getReader().read().then(() => null, (e: { code?: string }) => e.code);
    expect(err).toBe("EIO");
  });

  test("importing the binding never loads @serialport/bindings-cpp", async () => {
    const code = [
      'await import("./src/modem/serial/open-serial-port.ts");',
      'await import("./src/modem/at/open-at-channel.ts");',
      'const loaded = Object.keys(require.cache).filter((k) => k.includes("bindings-cpp"));',
      "console.log(JSON.stringify(loaded));",
    ].join("\n");
    const proc = Bun.spawn(["bun", "-e", code], { cwd: `${import.meta.dir}/../../..`, stdout: "pipe", stderr: "pipe" });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual([]);
  });
});
