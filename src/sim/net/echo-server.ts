/**
 * The lab's "internet": an HTTP echo server.
 *   GET /ip        -> the caller's source address + "\n" (what a proxy user checks: icanhazip style)
 *   GET /bytes/N   -> N bytes of application/octet-stream, streamed (benchmarks)
 * Every request is appended to a JSON-lines log {ts, src, method, path} before it is answered, so a test can prove
 * which addresses reached "the internet" (and that none came from the box's uplink).
 *
 * Runs in-process (--net loopback) or as its own process inside the inet namespace:
 *   bun src/sim/net/echo-server.ts --host 0.0.0.0 --port 80 --log /path/echo.jsonl
 * which prints one line {"ready":true,"port":N} on stdout once it listens.
 */
import { closeSync, openSync, writeSync } from "node:fs";

export interface EchoServerOptions {
  hostname?: string;
  /** 0 = ephemeral. */
  port?: number;
  logPath: string;
}

export interface EchoServer {
  port: number;
  stop(): Promise<void>;
}

export interface EchoLogEntry {
  ts: string;
  src: string;
  method: string;
  path: string;
}

/** Largest /bytes/N served (1 TiB): bounds a typo, not a benchmark. */
const MAX_BYTES = 2 ** 40;
const CHUNK = 64 * 1024;

/** "::ffff:1.2.3.4" -> "1.2.3.4" (a dual-stack listener reports IPv4 peers mapped). */
function plainAddress(addr: string | undefined): string {
  if (!addr) return "unknown";
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

function byteStream(total: number): ReadableStream<Uint8Array> {
  // The content is constant, so one buffer is shared by every chunk and every response.
  const chunk = new Uint8Array(CHUNK).fill(0x61);
  let left = total;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left <= 0) {
        controller.close();
        return;
      }
      const n = Math.min(CHUNK, left);
      left -= n;
      controller.enqueue(n === CHUNK ? chunk : chunk.subarray(0, n));
    },
  }, { highWaterMark: 4 });
}

/** Starts the echo server; the log file is appended to, never truncated. */
export function startEchoServer(opts: EchoServerOptions): EchoServer {
  const fd = openSync(opts.logPath, "a");
  const server = Bun.serve({
    hostname: opts.hostname ?? "127.0.0.1",
    port: opts.port ?? 0,
    idleTimeout: 60,
    fetch(req, srv) {
      const url = new URL(req.url);
      const src = plainAddress(srv.requestIP(req)?.address);
      const entry: EchoLogEntry = { ts: new Date().toISOString(), src, method: req.method, path: url.pathname + url.search };
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
      if (url.pathname === "/ip") return new Response(`${src}\n`, { headers: { "content-type": "text/plain" } });
      const bytes = /^\/bytes\/(\d{1,13})$/.exec(url.pathname);
      if (bytes) {
        const n = Number(bytes[1]);
        if (n > MAX_BYTES) return new Response(`at most ${MAX_BYTES} bytes\n`, { status: 400 });
        return new Response(req.method === "HEAD" ? null : byteStream(n), {
          headers: { "content-type": "application/octet-stream", "content-length": String(n) },
        });
      }
      if (url.pathname === "/") return new Response("lteproxy lab echo: GET /ip, GET /bytes/N\n");
      return new Response("not found\n", { status: 404 });
    },
  });
  return {
    port: server.port ?? 0,
    async stop() {
      await server.stop(true);
      closeSync(fd);
    },
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** CLI entry (also what `lteproxy sim echo-server` should call in a compiled binary). */
export function echoServerMain(args: string[]): void {
  const logPath = argValue(args, "--log");
  if (!logPath) {
    console.error("usage: echo-server --log <path> [--host 0.0.0.0] [--port 80]");
    process.exit(2);
  }
  const server = startEchoServer({ hostname: argValue(args, "--host") ?? "0.0.0.0", port: Number(argValue(args, "--port") ?? "80"), logPath });
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.port })}\n`);
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void server.stop().finally(() => process.exit(0)));
}

if (import.meta.main) echoServerMain(process.argv.slice(2));
