/**
 * Fuzzes the engine's first packets (HTTP and SOCKS5): random bytes and mutations of valid
 * handshakes, some split in pieces, some followed by FIN, some left hanging. Run by
 * fuzz.test.ts inside a fresh network namespace (only `lo`), so a mutated target address can
 * never reach a real network. Prints one JSON line with the outcome; exits non-zero on a crash.
 *
 *   bun tests/integration/proxy/fuzz-runner.ts [cases] [seed]
 */
import net from "node:net";
import { readdirSync } from "node:fs";
import { freePort, hashPassword, startDnsServer, startLab, startOrigin, waitFor } from "./helpers.ts";

const CASES = Number(process.argv[2] ?? 10_000);
let seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const SEED = seed;
const CONCURRENCY = 150;

/** mulberry32: reproducible from the printed seed. */
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)];
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

let uncaught = 0;
process.on("uncaughtException", (e) => {
  uncaught++;
  console.error("uncaught", e);
});
process.on("unhandledRejection", (e) => {
  uncaught++;
  console.error("unhandled rejection", e);
});

const origin = startOrigin();
const dns = await startDnsServer({ "origin.test": "127.0.0.1" }, "127.0.0.1");
const port = freePort();
const lab = await startLab(
  {
    version: 1,
    timeouts: { handshakeMs: 250, connectMs: 500, idleMs: 1000 },
    ports: [
      {
        id: "fuzz",
        port,
        listen: "127.0.0.1",
        outAddress: "127.0.0.1",
        state: "online",
        users: [{ name: "alice", passwordHash: await hashPassword("pw") }],
        dns: { servers: [dns.spec] },
      },
    ],
  },
  // Every CONNECT goes to the splice relay at once: many short tunnels handed over and torn down.
  { lingerMs: 100, spliceTunnelMin: 0 },
);

const auth = "Proxy-Authorization: Basic " + Buffer.from("alice:pw").toString("base64") + "\r\n";
const o = `127.0.0.1:${origin.port}`;
const up = (u: string, p: string) => [1, u.length, ...Buffer.from(u), p.length, ...Buffer.from(p)];
const SEEDS: Buffer[] = [
  `GET http://${o}/small HTTP/1.1\r\nHost: ${o}\r\n${auth}\r\n`,
  `GET http://origin.test:${origin.port}/ip HTTP/1.1\r\n${auth}Connection: keep-alive\r\n\r\nGET http://${o}/small HTTP/1.1\r\n${auth}\r\n`,
  `CONNECT ${o} HTTP/1.1\r\n${auth}\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n`,
  `POST http://${o}/echo HTTP/1.1\r\n${auth}Content-Length: 5\r\n\r\nhello`,
  `POST http://${o}/echo HTTP/1.1\r\n${auth}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
  `GET http://${o}/small HTTP/1.0\r\n\r\n`,
].map((s) => Buffer.from(s, "latin1"));
SEEDS.push(
  Buffer.from([5, 1, 2, ...up("alice", "pw"), 5, 1, 0, 1, 127, 0, 0, 1, origin.port >> 8, origin.port & 255]),
  Buffer.from([5, 2, 0, 2, ...up("alice", "pw"), 5, 1, 0, 3, 11, ...Buffer.from("origin.test"), origin.port >> 8, origin.port & 255]),
  Buffer.from([5, 1, 2, ...up("alice", "pw"), 5, 1, 0, 4, ...new Array(15).fill(0), 1, 0, 80]),
  Buffer.from([5, 1, 0]),
  Buffer.from([4, 1, 0, 80, 0, 0, 0, 1, 0x61, 0, 0x61, 0x2e, 0x62, 0]),
);

function mutate(b: Buffer): Buffer {
  let out = Buffer.from(b);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(out.length + 1);
    switch (int(8)) {
      case 0: // flip bytes
        for (let i = 0; i < 1 + int(4) && out.length; i++) out[int(out.length)] = int(256);
        break;
      case 1: // insert random
        out = Buffer.concat([out.subarray(0, at), bytes(1 + int(32)), out.subarray(at)]);
        break;
      case 2: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(16))]);
        break;
      case 3: // truncate
        out = out.subarray(0, at);
        break;
      case 4: // duplicate a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + int(64)), out.subarray(at)]);
        break;
      case 5: // interesting numbers and separators
        out = Buffer.concat([out.subarray(0, at), Buffer.from(pick(["\r\n", "\n", "\0", ":", " ", "99999999999999999", "-1", "ffffffffffffffff", "\r\n\r\n", "Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n", "\xff", "%00"]), "latin1"), out.subarray(at)]);
        break;
      case 6: // splice with another seed
        out = Buffer.concat([out.subarray(0, at), pick(SEEDS).subarray(int(20))]);
        break;
      default: // set a length byte to an extreme
        if (out.length) out[int(Math.min(out.length, 24))] = pick([0, 1, 0x7f, 0x80, 0xff]);
    }
  }
  return out;
}

function generate(): Buffer {
  switch (int(6)) {
    case 0:
      return bytes(int(600));
    case 1:
      return Buffer.concat([Buffer.from([5]), bytes(int(300))]);
    case 2:
      return Buffer.from(Array.from({ length: int(400) }, () => 32 + int(95)));
    case 3:
      return Buffer.from(`GET http://${o}/ HTTP/1.1\r\n` + "X: " + "a".repeat(int(40_000)) + (rand() < 0.5 ? "\r\n\r\n" : ""), "latin1");
    default:
      return mutate(pick(SEEDS));
  }
}

/** One case: send the packet (maybe in pieces), maybe FIN, read until close or 1.5 s. */
function runCase(packet: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(finish, 1500);
    s.on("error", finish);
    s.on("close", finish);
    s.on("data", () => {});
    s.on("connect", async () => {
      const pieces = rand() < 0.3 ? 1 + int(4) : 1;
      const size = Math.ceil(packet.length / pieces);
      for (let i = 0; i < pieces && !s.destroyed; i++) {
        s.write(packet.subarray(i * size, (i + 1) * size));
        if (pieces > 1) await Bun.sleep(int(20));
      }
      if (rand() < 0.5 && !s.destroyed) s.end();
    });
  });
}

const fds = () => readdirSync("/proc/self/fd").length;
// One tunnel first: the splice relay starts its worker thread (an eventfd, an epoll fd and the
// thread's own) on first use. Those are fixed, not per connection; leaks are counted after this.
await runCase(SEEDS[2]);
await waitFor(() => lab.engine.stats().active === 0, 2000);
await Bun.sleep(100);
const fdBefore = fds();
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < CASES) {
      next++;
      await runCase(generate());
    }
  }),
);
const drained = await waitFor(() => lab.engine.stats().active === 0, 5000);
await Bun.sleep(300); // let lingering refusals and abandoned upstream connects close
const stats = lab.engine.stats();
const fdAfter = fds();
Bun.gc(true);
const result = {
  cases: CASES,
  seed: SEED,
  seconds: Math.round((performance.now() - t0) / 100) / 10,
  uncaught,
  drained,
  active: stats.active,
  accepted: stats.totals.accepted,
  refusals: stats.ports[0].refusals,
  connections: stats.totals.connections,
  fdBefore,
  fdAfter,
  warmup: 1,
  splice: stats.splice,
  rssGrowthMb: Math.round((process.memoryUsage().rss - rssBefore) / 1e5) / 10,
};
await lab.stop();
dns.stop();
origin.stop();
console.log(JSON.stringify(result));
process.exit(uncaught > 0 ? 1 : 0);
