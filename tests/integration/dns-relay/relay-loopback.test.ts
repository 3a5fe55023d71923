/**
 * The relay in-process on loopback only (no root needed): answers and ID restore, source binding, failover on
 * timeout, SERVFAIL when every server is silent or the modem's address does not exist, spoofed answers ignored,
 * garbage dropped and counted, the pending cap, and apply() reconciling listeners and upstream settings.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { decodeDnsResponse, encodeDnsQuery } from "../../../src/proxy/engine/dns-message.ts";
import { relayListenAddress } from "../../../src/proxy/dns-relay/address.ts";
import { createDnsRelay, type DnsRelay, type DnsRelayEntry } from "../../../src/proxy/dns-relay/relay.ts";
import { dnsId, dnsRcode } from "../../../src/proxy/dns-relay/wire.ts";
import { randomLoopback, startDnsServer, type DnsServer } from "../proxy/helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A proxy port whose relay address is free enough for this run (random, so parallel runs do not meet). */
const randomPort = () => 20000 + Math.floor(Math.random() * 40000);

function relay(opts: Parameters<typeof createDnsRelay>[0] = {}): DnsRelay {
  const r = createDnsRelay({ timeoutMs: 300, ...opts });
  cleanups.push(() => r.close());
  return r;
}

async function dns(records: Record<string, string>): Promise<DnsServer> {
  const s = await startDnsServer(records);
  cleanups.push(() => s.stop());
  return s;
}

/** A server that reads queries and never answers (or lets the test answer from elsewhere). */
async function silentServer(): Promise<{ spec: string; address: string; port: number; got: Array<{ msg: Buffer; from: dgram.RemoteInfo }> }> {
  const sock = dgram.createSocket("udp4");
  const got: Array<{ msg: Buffer; from: dgram.RemoteInfo }> = [];
  sock.on("message", (msg, from) => got.push({ msg, from }));
  const address = randomLoopback();
  await new Promise<void>((r) => sock.bind({ address, port: 0 }, r));
  cleanups.push(() => sock.close());
  const port = sock.address().port;
  return { spec: `${address}:${port}`, address, port, got };
}

/** Sends datagrams to the relay and waits for one answer (null after `ms`). */
async function ask(port: number, msg: Uint8Array, ms = 3000, extra: Uint8Array[] = []): Promise<{ buf: Buffer; ms: number } | null> {
  const sock = dgram.createSocket("udp4");
  const started = performance.now();
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      sock.on("message", (buf) => {
        clearTimeout(timer);
        resolve({ buf, ms: performance.now() - started });
      });
      for (const e of extra) sock.send(e, 5353, relayListenAddress(port));
      sock.send(msg, 5353, relayListenAddress(port));
    });
  } finally {
    sock.close();
  }
}

const entry = (over: Partial<DnsRelayEntry> & Pick<DnsRelayEntry, "servers">): DnsRelayEntry => ({
  id: "866000000000001", port: randomPort(), outAddress: "127.0.0.1", ...over,
});

describe("dns-relay on loopback", () => {
  test("forwards from outAddress, restores the client's ID, counts", async () => {
    const server = await dns({ "echo.lab": "10.0.1.1" });
    const out = randomLoopback();
    const r = relay();
    const e = entry({ outAddress: out, servers: [server.spec] });
    await r.apply([e]);
    const res = await ask(e.port, encodeDnsQuery(0x4242, "echo.lab"));
    expect(res).not.toBeNull();
    expect(dnsId(res!.buf)).toBe(0x4242);
    expect(decodeDnsResponse(res!.buf, 0x4242, "echo.lab").answers[0]?.address).toBe("10.0.1.1");
    expect(server.queries).toEqual([{ name: "echo.lab", from: out }]);
    expect(r.stats()[0]).toMatchObject({ id: e.id, listening: true, listen: `${relayListenAddress(e.port)}:5353`, queries: 1, answered: 1, servfail: 0, pending: 0 });
  });

  test("each query leaves from a new source port (the ID is not the only thing an off-path spoofer must guess)", async () => {
    const silent = await silentServer();
    const r = relay({ timeoutMs: 300 });
    const e = entry({ servers: [silent.spec] });
    await r.apply([e]);
    await Promise.all(Array.from({ length: 8 }, (_, i) => ask(e.port, encodeDnsQuery(100 + i, "echo.lab"))));
    expect(silent.got).toHaveLength(8);
    expect(new Set(silent.got.map((g) => g.from.address))).toEqual(new Set(["127.0.0.1"]));
    expect(new Set(silent.got.map((g) => g.from.port)).size).toBe(8);
    // Every query socket closed after its timeout.
    expect(r.stats()[0]).toMatchObject({ queries: 8, servfail: 8, pending: 0 });
  });

  test("a silent first server times out, the second answers", async () => {
    const silent = await silentServer();
    const server = await dns({ "echo.lab": "10.0.2.2" });
    const r = relay({ timeoutMs: 200 });
    const e = entry({ servers: [silent.spec, server.spec] });
    await r.apply([e]);
    const res = await ask(e.port, encodeDnsQuery(7, "echo.lab"));
    expect(decodeDnsResponse(res!.buf, 7, "echo.lab").answers[0]?.address).toBe("10.0.2.2");
    expect(silent.got).toHaveLength(1);
    expect(r.stats()[0]).toMatchObject({ queries: 1, answered: 1, timeouts: 1, servfail: 0 });
  });

  test("every server silent: SERVFAIL with the client's ID and question after the timeouts", async () => {
    const a = await silentServer();
    const b = await silentServer();
    const r = relay({ timeoutMs: 200 });
    const e = entry({ servers: [a.spec, b.spec] });
    await r.apply([e]);
    const q = encodeDnsQuery(0x0102, "gone.lab");
    const res = await ask(e.port, q);
    expect(res).not.toBeNull();
    expect(dnsId(res!.buf)).toBe(0x0102);
    expect(dnsRcode(res!.buf)).toBe(2);
    expect(res!.buf.subarray(12)).toEqual(Buffer.from(q.subarray(12)));
    expect(res!.ms).toBeGreaterThanOrEqual(350);
    expect([a.got.length, b.got.length]).toEqual([1, 1]);
    expect(r.stats()[0]).toMatchObject({ servfail: 1, timeouts: 2, answered: 0 });
  });

  test("modem address not on this host (EADDRNOTAVAIL): SERVFAIL at once, nothing sent anywhere", async () => {
    const server = await dns({ "echo.lab": "10.0.1.1" });
    const r = relay({ timeoutMs: 5000 });
    const e = entry({ outAddress: "192.0.2.77", servers: [server.spec, server.spec] });
    await r.apply([e]);
    for (let i = 0; i < 2; i++) {
      const res = await ask(e.port, encodeDnsQuery(9 + i, "echo.lab"));
      expect(dnsRcode(res!.buf)).toBe(2);
      expect(res!.ms).toBeLessThan(2000);
    }
    expect(server.queries).toHaveLength(0);
    expect(r.stats()[0]).toMatchObject({ servfail: 2, bindErrors: 2, lastError: "EADDRNOTAVAIL" });
  });

  test("an answer from another source port is ignored, even with the right ID", async () => {
    const silent = await silentServer();
    const spoofer = dgram.createSocket("udp4");
    await new Promise<void>((r) => spoofer.bind({ address: silent.address, port: 0 }, r));
    cleanups.push(() => spoofer.close());
    const r = relay({ timeoutMs: 500 });
    const e = entry({ servers: [silent.spec] });
    await r.apply([e]);
    const pending = ask(e.port, encodeDnsQuery(5, "echo.lab"));
    while (silent.got.length === 0) await Bun.sleep(10);
    const { msg, from } = silent.got[0]!;
    const forged = Buffer.from(msg);
    forged[2] = 0x81;
    forged[3] = 0x80;
    spoofer.send(forged, from.port, from.address);
    const res = await pending;
    expect(dnsRcode(res!.buf)).toBe(2);
    expect(r.stats()[0]).toMatchObject({ stray: 1, answered: 0, servfail: 1 });
  });

  test("garbage is dropped and counted; the next query still works", async () => {
    const server = await dns({ "echo.lab": "10.0.1.1" });
    const r = relay();
    const e = entry({ servers: [server.spec] });
    await r.apply([e]);
    const answer = new Uint8Array(encodeDnsQuery(3, "echo.lab"));
    answer[2] |= 0x80;
    const noQuestion = new Uint8Array(encodeDnsQuery(4, "echo.lab"));
    noQuestion[5] = 0;
    const garbage = [new Uint8Array(0), new Uint8Array([1, 2, 3]), answer, noQuestion, new Uint8Array(300).fill(0xc0)];
    const res = await ask(e.port, encodeDnsQuery(11, "echo.lab"), 3000, garbage);
    expect(decodeDnsResponse(res!.buf, 11, "echo.lab").rcode).toBe(0);
    expect(r.stats()[0]).toMatchObject({ malformed: garbage.length, queries: 1, answered: 1 });
    expect(server.queries).toHaveLength(1);
  });

  test("beyond maxPending a query gets SERVFAIL at once", async () => {
    const silent = await silentServer();
    const r = relay({ timeoutMs: 600, maxPending: 2 });
    const e = entry({ servers: [silent.spec] });
    await r.apply([e]);
    const held = [ask(e.port, encodeDnsQuery(1, "a.lab")), ask(e.port, encodeDnsQuery(2, "b.lab"))];
    while (silent.got.length < 2) await Bun.sleep(10);
    const third = await ask(e.port, encodeDnsQuery(3, "c.lab"));
    expect(dnsRcode(third!.buf)).toBe(2);
    expect(third!.ms).toBeLessThan(500);
    expect(silent.got).toHaveLength(2);
    expect(r.stats()[0]).toMatchObject({ pending: 2, servfail: 1 });
    await Promise.all(held);
  });

  test("apply: changed servers and outAddress take effect, a removed entry closes its listener", async () => {
    const one = await dns({ "echo.lab": "10.0.1.1" });
    const two = await dns({ "echo.lab": "10.0.2.2" });
    const r = relay();
    const a = entry({ id: "a", servers: [one.spec] });
    const b = entry({ id: "b", port: a.port + 1, servers: [one.spec] });
    await r.apply([a, b]);
    expect(r.stats().map((s) => s.listening)).toEqual([true, true]);
    const out2 = randomLoopback();
    await r.apply([a, { ...b, outAddress: out2, servers: [two.spec] }]);
    const res = await ask(b.port, encodeDnsQuery(21, "echo.lab"));
    expect(decodeDnsResponse(res!.buf, 21, "echo.lab").answers[0]?.address).toBe("10.0.2.2");
    expect(two.queries).toEqual([{ name: "echo.lab", from: out2 }]);

    await r.apply([a]);
    expect(r.stats().map((s) => s.id)).toEqual(["a"]);
    expect(await ask(b.port, encodeDnsQuery(22, "echo.lab"), 400)).toBeNull();
    // The address:port is free again: only a closed listener lets another socket bind it.
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.bind({ address: relayListenAddress(b.port), port: 5353 }, resolve);
    });
    probe.close();
    expect((await ask(a.port, encodeDnsQuery(23, "echo.lab")))?.buf).toBeDefined();
  });

  test("apply refuses a bad list and keeps the old one", async () => {
    const one = await dns({ "echo.lab": "10.0.1.1" });
    const r = relay();
    const a = entry({ id: "a", servers: [one.spec] });
    await r.apply([a]);
    await expect(r.apply([a, { ...a, id: "b" }])).rejects.toMatchObject({ code: "DNS_RELAY_INVALID" });
    await expect(r.apply([{ ...a, servers: ["dns.example"] }])).rejects.toMatchObject({ code: "DNS_RELAY_INVALID" });
    await expect(r.apply([{ ...a, servers: ["[::1]:53"] }])).rejects.toMatchObject({ code: "DNS_RELAY_INVALID" });
    expect(r.stats()).toMatchObject([{ id: "a", listening: true, servers: [one.spec] }]);
    expect((await ask(a.port, encodeDnsQuery(31, "echo.lab")))?.buf).toBeDefined();
  });
});
