/**
 * Loopback lab for the proxy engine: an origin that reports who connected, a tiny UDP DNS server
 * that records where each query came from, curl, raw sockets. Everything binds to 127/8 (all of
 * it is local), with random addresses so parallel runs do not collide.
 */
import dgram from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import { startProxyEngine, type ProxyEngine, type ProxyEngineOptions } from "../../../src/proxy/engine/engine.ts";

/** A random 127.x.y.z (not .0/.255, not 127.0.0.1) for outAddress / DNS server addresses. */
export function randomLoopback(): string {
  const r = () => 1 + Math.floor(Math.random() * 250);
  return `127.${r()}.${r()}.${r()}`;
}

/** A TCP port that was free a moment ago. */
export function freePort(hostname = "127.0.0.1"): number {
  const l = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Cheap argon2id (tests must not spend seconds hashing). */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 4096, timeCost: 2 });
}

export interface Origin {
  port: number;
  url(path: string): string;
  /** Remote addresses of the connections it accepted, in order. */
  peers: string[];
  stop(): void;
}

/**
 * GET /ip → the client's address; /small → 18 bytes; /big?bytes=N&chunk=C&delay=ms → N bytes
 * streamed in C-byte chunks with a pause between them (a long download); POST /echo → the body.
 */
export function startOrigin(hostname = "127.0.0.1"): Origin {
  const peers: string[] = [];
  const server = Bun.serve({
    hostname,
    port: 0,
    idleTimeout: 30,
    error: () => new Response("bad request", { status: 400 }),
    async fetch(req, srv) {
      const url = new URL(req.url, "http://origin.invalid");
      const ip = srv.requestIP(req)?.address ?? "?";
      peers.push(ip);
      if (url.pathname === "/ip") return new Response(ip);
      if (url.pathname === "/small") return new Response("eighteen bytes !!\n");
      if (url.pathname === "/echo") return new Response(await req.arrayBuffer());
      if (url.pathname === "/big") {
        const total = Number(url.searchParams.get("bytes") ?? 1_000_000);
        const chunk = Number(url.searchParams.get("chunk") ?? 65536);
        const delay = Number(url.searchParams.get("delay") ?? 0);
        let sent = 0;
        const block = new Uint8Array(chunk).fill(0x61);
        return new Response(
          new ReadableStream({
            async pull(ctrl) {
              if (sent >= total) return ctrl.close();
              if (delay > 0) await Bun.sleep(delay);
              const n = Math.min(chunk, total - sent);
              sent += n;
              ctrl.enqueue(block.subarray(0, n));
            },
          }),
          { headers: { "content-length": String(total) } },
        );
      }
      return new Response("not found", { status: 404 });
    },
  });
  return {
    port: server.port as number,
    url: (p) => `http://${hostname}:${server.port}${p}`,
    peers,
    stop: () => server.stop(true),
  };
}

export interface DnsServer {
  address: string;
  port: number;
  /** "address:port" form for the config's dns.servers. */
  spec: string;
  queries: { name: string; from: string }[];
  stop(): void;
}

/** Answers A queries for `records` (name → IPv4), NXDOMAIN otherwise; records each query's source. */
export async function startDnsServer(records: Record<string, string>, address = randomLoopback()): Promise<DnsServer> {
  const sock = dgram.createSocket("udp4");
  const queries: { name: string; from: string }[] = [];
  // An answer to a client that already left comes back as ICMP unreachable: not the test's business.
  sock.on("error", () => {});
  sock.on("message", (msg, rinfo) => {
    let o = 12;
    const labels: string[] = [];
    while (o < msg.length && msg[o] !== 0) {
      labels.push(msg.subarray(o + 1, o + 1 + msg[o]).toString("latin1"));
      o += 1 + msg[o];
    }
    const name = labels.join(".").toLowerCase();
    queries.push({ name, from: rinfo.address });
    const question = msg.subarray(12, o + 5);
    const ip = records[name];
    const head = Buffer.from([msg[0], msg[1], 0x81, ip ? 0x80 : 0x83, 0, 1, 0, ip ? 1 : 0, 0, 0, 0, 0]);
    const answer = ip ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...ip.split(".").map(Number)]) : Buffer.alloc(0);
    sock.send(Buffer.concat([head, question, answer]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind({ address, port: 0 }, resolve));
  const port = sock.address().port;
  return { address, port, spec: `${address}:${port}`, queries, stop: () => sock.close() };
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function curl(args: string[], timeoutSec = 20): Promise<CurlResult> {
  const p = Bun.spawn(["curl", "-sS", "--max-time", String(timeoutSec), ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, stdout, stderr };
}

export interface Lab {
  engine: ProxyEngine;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts an engine with its socket and spool in a fresh temp dir. Local targets are allowed
 * (the origins live on 127/8) unless the config says otherwise.
 */
export async function startLab(config: ProxyConfigInput, opts: Partial<ProxyEngineOptions> = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), "lteproxy-proxy-"));
  const engine = await startProxyEngine({ runtimeDir: dir, lingerMs: 200, ...opts, config: { allowLocalTargets: true, ...config } });
  return {
    engine,
    dir,
    async stop() {
      await engine.stop({ drainMs: 200 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends `data` on a raw connection and collects everything until the server closes (or `ms`). */
export function rawExchange(port: number, data: Uint8Array | string, ms = 3000, host = "127.0.0.1"): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host, port });
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, ms);
    s.on("connect", () => s.write(data));
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("close", done);
    s.on("error", done);
  });
}

/** Open file descriptors of this process. */
export async function fdCount(): Promise<number> {
  const { readdirSync } = await import("node:fs");
  return readdirSync("/proc/self/fd").length;
}

/** Polls `cond` until true or `ms` passes. */
export async function waitFor(cond: () => boolean, ms = 5000, stepMs = 20): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await Bun.sleep(stepMs);
  }
  return cond();
}
