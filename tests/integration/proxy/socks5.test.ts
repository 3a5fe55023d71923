import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { curl, freePort, hashPassword, randomLoopback, startDnsServer, startLab, startOrigin, waitFor, type DnsServer, type Lab, type Origin } from "./helpers.ts";

let origin: Origin;
let dns: DnsServer;
let lab: Lab;
let port: number;
let whitelistedPort: number;
let downPort: number;
const out = randomLoopback();

beforeAll(async () => {
  origin = startOrigin();
  dns = await startDnsServer({ "origin.test": "127.0.0.1" });
  port = freePort();
  whitelistedPort = freePort();
  downPort = freePort();
  const users = [{ name: "alice", passwordHash: await hashPassword("s3cret") }];
  const base = { listen: "127.0.0.1", outAddress: out, dns: { servers: [dns.spec] } };
  lab = await startLab({
    version: 1,
    ports: [
      { ...base, id: "866000000000011", port, state: "online", users },
      { ...base, id: "866000000000012", port: whitelistedPort, state: "online", whitelist: ["127.0.0.0/8"] },
      { ...base, id: "866000000000013", port: downPort, state: "no_signal", users },
    ],
  });
});

afterAll(async () => {
  await lab.stop();
  dns.stop();
  origin.stop();
});

/** A scripted SOCKS5 client: sends each step after reading the previous answer; returns all answers. */
async function socks(p: number, steps: Uint8Array[]): Promise<number[][]> {
  return new Promise((resolve) => {
    const answers: number[][] = [];
    const s = net.connect({ host: "127.0.0.1", port: p }, () => s.write(steps[0]));
    let i = 1;
    s.on("data", (d: Buffer) => {
      answers.push([...d]);
      if (i < steps.length) s.write(steps[i++]);
    });
    const done = () => resolve(answers);
    s.on("close", done);
    s.on("error", done);
    setTimeout(() => s.destroy(), 3000);
  });
}
const userPass = (u: string, p: string) => new Uint8Array([1, u.length, ...Buffer.from(u), p.length, ...Buffer.from(p)]);
const connectIp = (ip: string, p: number) => new Uint8Array([5, 1, 0, 1, ...ip.split(".").map(Number), p >> 8, p & 255]);

describe("SOCKS5", () => {
  test("curl --socks5-hostname with user/pass: the name is resolved via the modem's DNS, from outAddress", async () => {
    const r = await curl(["--socks5-hostname", `alice:s3cret@127.0.0.1:${port}`, `http://origin.test:${origin.port}/ip`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(out);
    const q = dns.queries.filter((x) => x.name === "origin.test");
    expect(q.length).toBeGreaterThanOrEqual(1);
    expect(q.every((x) => x.from === out)).toBe(true);
  });

  test("curl --socks5 (IP literal) skips DNS", async () => {
    const before = dns.queries.length;
    const r = await curl(["--socks5", `alice:s3cret@127.0.0.1:${port}`, origin.url("/ip")]);
    expect(r.stdout).toBe(out);
    expect(dns.queries.length).toBe(before);
  });

  test("wrong password → RFC 1929 failure (01 01) and close", async () => {
    const a = await socks(port, [new Uint8Array([5, 1, 2]), userPass("alice", "nope")]);
    expect(a).toEqual([[5, 2], [1, 1]]);
    const r = await curl(["--socks5-hostname", `alice:nope@127.0.0.1:${port}`, origin.url("/ip")]);
    expect(r.code).toBe(97);
  });

  test("no-auth only and not whitelisted → method 0xFF", async () => {
    expect(await socks(port, [new Uint8Array([5, 1, 0])])).toEqual([[5, 0xff]]);
  });

  test("whitelisted client gets no-auth", async () => {
    const r = await curl(["--socks5-hostname", `127.0.0.1:${whitelistedPort}`, origin.url("/ip")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(out);
  });

  test("modem not online → reply 0x03 (network unreachable), origin untouched", async () => {
    const before = origin.peers.length;
    const a = await socks(downPort, [new Uint8Array([5, 1, 2]), userPass("alice", "s3cret"), connectIp("127.0.0.1", origin.port)]);
    expect(a[0]).toEqual([5, 2]);
    expect(a[1]).toEqual([1, 0]);
    expect(a[2].slice(0, 2)).toEqual([5, 3]);
    expect(origin.peers.length).toBe(before);
  });

  test("unknown name → 0x04 host unreachable", async () => {
    const r = await curl(["--socks5-hostname", `alice:s3cret@127.0.0.1:${port}`, `http://nope.test:${origin.port}/ip`]);
    expect(r.code).not.toBe(0);
    const a = await socks(port, [
      new Uint8Array([5, 1, 2]),
      userPass("alice", "s3cret"),
      new Uint8Array([5, 1, 0, 3, 8, ...Buffer.from("nope.tst"), 0, 80]),
    ]);
    expect(a[2].slice(0, 2)).toEqual([5, 4]);
  });

  test("BIND and UDP ASSOCIATE → 0x07; unknown address type → 0x08", async () => {
    const bind = await socks(port, [new Uint8Array([5, 1, 2]), userPass("alice", "s3cret"), new Uint8Array([5, 2, 0, 1, 127, 0, 0, 1, 0, 80])]);
    expect(bind[2].slice(0, 2)).toEqual([5, 7]);
    const atyp = await socks(port, [new Uint8Array([5, 1, 2]), userPass("alice", "s3cret"), new Uint8Array([5, 1, 0, 9, 1, 2, 3, 4, 0, 80])]);
    expect(atyp[2].slice(0, 2)).toEqual([5, 8]);
  });

  test("connection refused → 0x05", async () => {
    const a = await socks(port, [new Uint8Array([5, 1, 2]), userPass("alice", "s3cret"), connectIp("127.0.0.1", freePort())]);
    expect(a[2].slice(0, 2)).toEqual([5, 5]);
  });

  test("greeting, auth and request in one packet (optimistic client)", async () => {
    const all = new Uint8Array([5, 1, 2, ...userPass("alice", "s3cret"), ...connectIp("127.0.0.1", origin.port)]);
    const got = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect({ host: "127.0.0.1", port }, () => s.write(all));
      s.on("data", (d: Buffer) => {
        chunks.push(d);
        if (Buffer.concat(chunks).length >= 14) s.write(`GET /ip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
      s.on("close", () => resolve(Buffer.concat(chunks)));
      setTimeout(() => s.destroy(), 3000);
    });
    expect([...got.subarray(0, 4)]).toEqual([5, 2, 1, 0]);
    expect(got[5]).toBe(0);
    expect(got.toString()).toContain(`\r\n\r\n${out}`);
  });

  test("log and counters: refusals by reason, no connection left open", async () => {
    expect(await waitFor(() => lab.engine.stats().active === 0)).toBe(true);
    const s = lab.engine.stats().ports.find((p) => p.port === port)!;
    expect(s.refusals.auth_failed).toBeGreaterThanOrEqual(2);
    expect(s.refusals.auth_required).toBe(1);
    expect(s.refusals.unsupported).toBe(1);
    expect(s.refusals.connect_refused).toBe(1);
    expect(s.users.alice.connections).toBeGreaterThanOrEqual(3);
    const down = lab.engine.stats().ports.find((p) => p.port === downPort)!;
    expect(down.refusals.modem_not_online).toBe(1);
  });
});
