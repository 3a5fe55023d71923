import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { curl, freePort, hashPassword, randomLoopback, rawExchange, startLab, startOrigin, waitFor, type Lab, type Origin } from "./helpers.ts";

let origin: Origin;
let lab: Lab;
const out = randomLoopback();
const port = freePort();
const limited = freePort();
const AUTH = "Proxy-Authorization: Basic " + Buffer.from("alice:pw").toString("base64") + "\r\n";

beforeAll(async () => {
  origin = startOrigin();
  const users = [{ name: "alice", passwordHash: await hashPassword("pw") }];
  lab = await startLab({
    version: 1,
    timeouts: { handshakeMs: 400, connectMs: 2000, idleMs: 800 },
    ports: [
      { id: "H1", port, listen: "127.0.0.1", outAddress: out, state: "online", users },
      { id: "H2", port: limited, listen: "127.0.0.1", outAddress: out, state: "online", users, maxConnections: 2 },
    ],
  });
});
afterAll(async () => {
  await lab.stop();
  origin.stop();
});

/** Opens a connection and resolves when the server closes it, with what it sent and how long it took. */
function holdOpen(p: number, send: (s: net.Socket) => void): Promise<{ data: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = "";
    const s = net.connect({ host: "127.0.0.1", port: p }, () => send(s));
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("error", () => {});
    s.on("close", () => resolve({ data, ms: Date.now() - t0 }));
    setTimeout(() => s.destroy(), 10_000);
  });
}

describe("hostile and malformed clients", () => {
  test("garbage first packet → 400 and close", async () => {
    const r = await rawExchange(port, "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n");
    expect(r.toString("latin1")).toMatch(/^HTTP\/1\.1 400 /);
  });

  test("header over 16 KiB → 431 and close, without waiting for the end of it", async () => {
    const r = await rawExchange(port, `GET ${origin.url("/")} HTTP/1.1\r\nX: ${"a".repeat(20_000)}`);
    expect(r.toString("latin1")).toMatch(/^HTTP\/1\.1 431 /);
  });

  test("slowloris: a head that never completes → 408 within the handshake timeout", async () => {
    const r = await holdOpen(port, (s) => {
      s.write("GET http://x/ HTTP/1.1\r\n");
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write("X-a: b\r\n")), 100);
    });
    expect(r.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.ms).toBeLessThan(3000);
  });

  test("a silent client is dropped after the handshake timeout (HTTP gets 408)", async () => {
    const r = await holdOpen(port, () => {});
    expect(r.data).toMatch(/^HTTP\/1\.1 408 |^$/);
    expect(r.ms).toBeLessThan(3000);
  });

  test("truncated SOCKS5 greeting → closed after the handshake timeout, no reply", async () => {
    const r = await holdOpen(port, (s) => s.write(Buffer.from([5, 3, 0])));
    expect(r.data).toBe("");
    expect(r.ms).toBeLessThan(3000);
  });

  test("idle keep-alive connection is closed after idleMs", async () => {
    const r = await holdOpen(port, (s) => s.write(`GET ${origin.url("/small")} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`));
    expect(r.data).toContain("eighteen bytes");
    expect(r.ms).toBeGreaterThanOrEqual(700);
    expect(r.ms).toBeLessThan(4000);
  });

  test("SOCKS4 is refused with its own rejection reply", async () => {
    const r = await rawExchange(port, Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
    expect([...r]).toEqual([0, 0x5b, 0, 0, 0, 0, 0, 0]);
  });

  test("connection limit: the third concurrent connection gets 503 (HTTP) / 0x01 (SOCKS5)", async () => {
    const holders = [0, 1].map(() => {
      const s = net.connect({ host: "127.0.0.1", port: limited });
      s.on("error", () => {});
      return s;
    });
    await Promise.all(holders.map((s) => new Promise((r) => s.on("connect", r))));
    expect(await waitFor(() => lab.engine.stats().ports.find((p) => p.port === limited)?.active === 2)).toBe(true);
    const http = await curl(["-x", `http://alice:pw@127.0.0.1:${limited}`, "-i", origin.url("/small")]);
    expect(http.stdout).toMatch(/^HTTP\/1\.1 503 /);
    expect(http.stdout).toContain("connection limit (2)");
    const socks = await curl(["--socks5", `alice:pw@127.0.0.1:${limited}`, origin.url("/small")]);
    expect(socks.code).toBe(97);
    for (const s of holders) s.destroy();
    expect(await waitFor(() => lab.engine.stats().ports.find((p) => p.port === limited)?.active === 0)).toBe(true);
    const ok = await curl(["-x", `http://alice:pw@127.0.0.1:${limited}`, origin.url("/small")]);
    expect(ok.stdout).toBe("eighteen bytes !!\n");
    expect(lab.engine.stats().ports.find((p) => p.port === limited)?.refusals.over_limit).toBe(2);
  });

  test("a client that vanishes mid-download frees everything", async () => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.write(`GET ${origin.url("/big?bytes=50000000")} HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`));
    await new Promise((res) => s.once("data", res));
    expect(lab.engine.stats().ports.find((p) => p.port === port)?.active).toBe(1);
    s.destroy();
    expect(await waitFor(() => lab.engine.stats().active === 0)).toBe(true);
  });
});
