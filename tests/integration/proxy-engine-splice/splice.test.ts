/**
 * The kernel relay (splice-relay.ts + splice-worker.ts) behind real sockets: tunnels and large
 * HTTP bodies must arrive byte for byte, half-close must pass through, counters, the connection
 * log and the idle timeout must behave as on the JS relay, a reload must not cut a spliced
 * download, and a relay that cannot start must leave everything working in JS.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import type { ConnLogEntry } from "../../../src/proxy/engine/conn-log-spool.ts";
import { curl, freePort, hashPassword, randomLoopback, startLab, startOrigin, waitFor, type Lab, type Origin } from "../proxy/helpers.ts";
import { randomPayload, sha256, startSinkSource, tunnelExchange, type SinkSource } from "./helpers.ts";

// Megabytes through three processes on a shared 2-core box: the 5 s default is too tight under load.
setDefaultTimeout(30_000);

const port = freePort();
/** The "modem" address: a spliced tunnel's upstream must still leave from it. */
const out = randomLoopback();
let lab: Lab;
let origin: Origin;
let alice: { name: string; passwordHash: string };
const UP = randomPayload(3 * 1024 * 1024 + 17);
const DOWN = randomPayload(5 * 1024 * 1024 + 3);
let sink: SinkSource;
const BIG = randomPayload(4 * 1024 * 1024 + 5);
let bigServer: ReturnType<typeof Bun.serve>;

const config = (version: number, users: (typeof alice)[], idleMs = 1200): ProxyConfigInput => ({
  version,
  timeouts: { handshakeMs: 2000, connectMs: 2000, idleMs },
  spool: { rollSeconds: 3600, rollEntries: 100000 },
  ports: [{ id: "866000000000077", port, listen: "127.0.0.1", outAddress: out, state: "online", users }],
});

beforeAll(async () => {
  alice = { name: "alice", passwordHash: await hashPassword("pw") };
  origin = startOrigin();
  // The client closes its side first; the reply follows 300 ms later through the half-open tunnel.
  sink = startSinkSource(DOWN, 300);
  bigServer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => (new URL(r.url).pathname === "/big" ? new Response(BIG) : new Response("eighteen bytes !!\n")) });
  // Tunnels are handed to the kernel at once here (leftover bytes included); the default,
  // handing over after 128 KiB in JS, has its own test below.
  lab = await startLab(config(1, [alice]), { spliceTunnelMin: 0 });
});
afterAll(async () => {
  await lab.stop();
  origin.stop();
  sink.stop();
  bigServer.stop(true);
});

function spool(l: Lab): ConnLogEntry[] {
  const dir = join(l.dir, "connlog");
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), "utf8").trim().split("\n").filter(Boolean))
    .map((x) => JSON.parse(x) as ConnLogEntry);
}
/** A copy: the stats object shares the live per-user counters. */
const portStats = (l: Lab) => structuredClone(l.engine.stats().ports[0]);

describe("spliced tunnels", () => {
  for (const kind of ["http", "socks5"] as const) {
    test(`${kind}: large random payloads arrive byte for byte both ways, half-close passes, counters and log match`, async () => {
      const before = portStats(lab);
      const started = lab.engine.stats().splice.started;
      const logged = spool(lab).length;
      const r = await tunnelExchange(port, kind, sink.port, UP);
      expect(r.ended).toBe(true);
      expect(r.body.length).toBe(DOWN.length);
      expect(sha256(r.body)).toBe(sha256(DOWN));
      // The upstream socket is still Bun's, bound to outAddress: splicing changes nothing there.
      expect(sink.received.at(-1)).toEqual({ hash: sha256(UP), length: UP.length, peer: out });
      expect(lab.engine.stats().splice.started).toBe(started + 1);
      expect(await waitFor(() => lab.engine.stats().active === 0)).toBe(true);
      const after = portStats(lab);
      expect(after.bytesUp - before.bytesUp).toBe(UP.length);
      expect(after.bytesDown - before.bytesDown).toBe(DOWN.length);
      expect(after.users.alice.bytesDown - (before.users.alice?.bytesDown ?? 0)).toBe(DOWN.length);
      expect(await waitFor(() => spool(lab).length > logged, 3000)).toBe(true);
      const e = spool(lab).at(-1)!;
      expect(e).toMatchObject({ proto: kind === "http" ? "connect" : "socks5", user: "alice", up: UP.length, down: DOWN.length, result: "ok" });
      expect(lab.engine.stats().splice.active).toBe(0);
    });
  }

  test("default threshold: a tunnel starts in JS and moves to the kernel mid-stream, still byte-exact with exact counts", async () => {
    const p = freePort();
    const l = await startLab({ ...config(1, [alice]), ports: [{ id: "m", port: p, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", users: [alice] }] });
    try {
      for (const kind of ["http", "socks5"] as const) {
        const started = l.engine.stats().splice.started;
        const before = portStats(l);
        const r = await tunnelExchange(p, kind, sink.port, UP);
        expect(sha256(r.body)).toBe(sha256(DOWN));
        expect(sink.received.at(-1)).toMatchObject({ hash: sha256(UP), length: UP.length });
        expect(l.engine.stats().splice.started).toBe(started + 1);
        expect(await waitFor(() => l.engine.stats().active === 0)).toBe(true);
        const after = portStats(l);
        expect(after.bytesUp - before.bytesUp).toBe(UP.length);
        expect(after.bytesDown - before.bytesDown).toBe(DOWN.length);
      }
      // Short exchanges stay in JS (the handover would cost more than it saves), and so does a
      // tunnel whose client already half-closed before the threshold.
      const started = l.engine.stats().splice.started;
      const small = await tunnelExchange(p, "socks5", sink.port, UP.subarray(0, 2000));
      expect(sha256(small.body)).toBe(sha256(DOWN));
      expect(l.engine.stats().splice.started).toBe(started);
      const tiny = startSinkSource(Buffer.from("pong"));
      try {
        const t = await tunnelExchange(p, "http", tiny.port, Buffer.from("ping"));
        expect(t.body.toString()).toBe("pong");
        expect(l.engine.stats().splice.started).toBe(started);
      } finally {
        tiny.stop();
      }
    } finally {
      await l.stop();
    }
  });

  test("HTTP GET with a large Content-Length body: spliced, byte-exact, then the same connection serves the next request", async () => {
    const dir = mkdtempSync(join(tmpdir(), "splice-get-"));
    try {
      const started = lab.engine.stats().splice.started;
      const before = portStats(lab);
      const logged = spool(lab).length;
      const base = `http://127.0.0.1:${bigServer.port}`;
      const r = await curl([
        "-x", `http://alice:pw@127.0.0.1:${port}`,
        "-w", "%{num_connects} %{size_header} %{size_download}\\n",
        "-o", join(dir, "big"), `${base}/big`,
        "-o", join(dir, "small"), `${base}/small`,
      ]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split("\n").map((l) => l.split(" ").map(Number));
      expect(lines[1][0]).toBe(0); // the second request reused the connection
      expect(sha256(readFileSync(join(dir, "big")))).toBe(sha256(BIG));
      expect(readFileSync(join(dir, "small"), "utf8")).toBe("eighteen bytes !!\n");
      expect(lab.engine.stats().splice.started).toBe(started + 1);
      expect(await waitFor(() => spool(lab).length >= logged + 2, 3000)).toBe(true);
      const [big, small] = spool(lab).slice(-2);
      expect(big).toMatchObject({ proto: "http", status: 200, result: "ok", down: lines[0][1] + lines[0][2] });
      expect(small).toMatchObject({ proto: "http", status: 200, result: "ok", down: lines[1][1] + lines[1][2] });
      await waitFor(() => lab.engine.stats().active === 0);
      const after = portStats(lab);
      expect(after.bytesDown - before.bytesDown).toBe(big.down + small.down);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a silent spliced tunnel is closed after idleMs; one that keeps moving bytes is not", async () => {
    const silent = net.connect({ host: "127.0.0.1", port });
    let closedAt = 0;
    silent.on("close", () => (closedAt = Date.now()));
    silent.on("error", () => {});
    silent.on("data", () => {});
    await new Promise((r) => silent.on("connect", r));
    const t0 = Date.now();
    silent.write(`CONNECT 127.0.0.1:${sink.port} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from("alice:pw").toString("base64")}\r\n\r\nhello`);

    // Busy: 1 KiB every 150 ms for ~2.5 idle periods, through a second spliced tunnel.
    const busy = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const got: Buffer[] = [];
    let busyEnded = false;
    busy.on("data", (d: Buffer) => got.push(d));
    busy.on("end", () => {
      busyEnded = true;
      busy.end();
    });
    busy.on("error", () => {});
    await new Promise((r) => busy.on("connect", r));
    busy.write(`CONNECT 127.0.0.1:${sink.port} HTTP/1.1\r\nProxy-Authorization: Basic ${Buffer.from("alice:pw").toString("base64")}\r\n\r\n`);
    const chunk = randomPayload(1024);
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(150);
      busy.write(chunk);
    }
    expect(closedAt).toBeGreaterThan(0); // the silent one is gone by now (3 s > 1.2 s idle + sweep)
    expect(closedAt - t0).toBeGreaterThanOrEqual(1000);
    busy.end();
    expect(await waitFor(() => busyEnded, 5000)).toBe(true);
    const head = Buffer.concat(got);
    const body = head.subarray(head.indexOf("\r\n\r\n") + 4);
    expect(sha256(body)).toBe(sha256(DOWN)); // not cut: the whole reply arrived after 3 s
    expect(sink.received.at(-1)!.length).toBe(20 * 1024);
    expect(await waitFor(() => spool(lab).some((e) => e.result === "idle_timeout"), 3000)).toBe(true);
    const idle = spool(lab).filter((e) => e.result === "idle_timeout");
    expect(idle.at(-1)).toMatchObject({ proto: "connect", user: "alice", up: 5, down: 0 }); // "hello", the leftover
  });

  test("a reload during a spliced SOCKS5 download does not cut it", async () => {
    const bob = { name: "bob", passwordHash: await hashPassword("pw2") };
    const dl = curl(["--socks5", `alice:pw@127.0.0.1:${port}`, "-o", "/dev/null", "-w", "%{http_code} %{size_download}", origin.url("/big?bytes=2097152&chunk=65536&delay=40")]);
    expect(await waitFor(() => lab.engine.stats().splice.active === 1, 3000)).toBe(true);
    expect(lab.engine.reload(config(2, [alice, bob], 1500)).ok).toBe(true);
    await Bun.sleep(200);
    expect(lab.engine.reload(config(3, [bob], 1200)).ok).toBe(true); // even alice's removal spares her live tunnel
    expect((await dl).stdout).toBe("200 2097152");
    expect(lab.engine.reload(config(4, [alice])).ok).toBe(true);
  });
});

describe("fallback to the JS relay", () => {
  test("a splice worker that cannot start leaves tunnels working in JS", async () => {
    const p = freePort();
    const l = await startLab(
      { ...config(1, [alice]), ports: [{ id: "x", port: p, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", users: [alice] }] },
      { splice: { workerUrl: join(tmpdir(), "no-such-splice-worker.ts") } },
    );
    try {
      for (const kind of ["http", "socks5"] as const) {
        const r = await tunnelExchange(p, kind, sink.port, UP);
        expect(sha256(r.body)).toBe(sha256(DOWN));
        expect(sink.received.at(-1)).toMatchObject({ hash: sha256(UP), length: UP.length });
      }
      const s = l.engine.stats().splice;
      expect(s.enabled).toBe(false);
      expect(s.error).not.toBeNull();
      expect(s.active).toBe(0);
      await waitFor(() => l.engine.stats().active === 0);
      expect(l.engine.stats().ports[0].bytesDown).toBe(2 * DOWN.length);
    } finally {
      await l.stop();
    }
  });

  test("splice: false relays in JS and never starts the worker", async () => {
    const p = freePort();
    const l = await startLab({ ...config(1, [alice]), ports: [{ id: "y", port: p, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", users: [alice] }] }, { splice: false });
    try {
      const r = await tunnelExchange(p, "socks5", sink.port, UP);
      expect(sha256(r.body)).toBe(sha256(DOWN));
      expect(l.engine.stats().splice).toEqual({ enabled: false, active: 0, started: 0, fallbacks: 0, error: null });
    } finally {
      await l.stop();
    }
  });
});
