import { describe, expect, test } from "bun:test";
import { SseBroker } from "../../../src/http/sse-broker.ts";

async function readSome(stream: ReadableStream<Uint8Array>, until: string, timeoutMs = 2000): Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  let inflight: ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]> | null = null;
  while (!text.includes(until) && Date.now() < deadline) {
    // one outstanding read at a time: a read that loses the race still delivers its chunk on the next turn
    inflight ??= reader.read();
    const r = await Promise.race([inflight, Bun.sleep(50).then(() => null)]);
    if (r === null) continue;
    inflight = null;
    if (r.done) break;
    text += dec.decode(r.value);
  }
  reader.releaseLock();
  return text;
}

describe("SSE broker", () => {
  test("a published frame reaches every client of the channel, filtered by metadata, with exact framing", async () => {
    const broker = new SseBroker({ heartbeatMs: 0 });
    const a = broker.open({ channels: ["dashboard"], preamble: [{ retry: 2000 }] });
    const b = broker.open({ channels: ["dashboard"], filter: (m) => m?.nodeId === "n2" });
    const c = broker.open({ channels: ["events"] });
    expect(broker.publish("dashboard", { id: 5, data: "<tr>1</tr>" }, { nodeId: "n1" })).toBe(2);
    broker.publish("dashboard", { id: 6, data: "<tr>2</tr>" }, { nodeId: "n2" });
    expect(await readSome(a.stream, "id: 6")).toBe(": connected\n\nretry: 2000\n\ndata: <tr>1</tr>\nid: 5\n\ndata: <tr>2</tr>\nid: 6\n\n");
    expect(await readSome(b.stream, "id: 6")).toBe(": connected\n\ndata: <tr>2</tr>\nid: 6\n\n");
    expect(await readSome(c.stream, "x", 150)).toBe(": connected\n\n");
    expect(broker.getStats().clients).toBe(3);
    broker.close();
    expect(broker.getStats().clients).toBe(0);
  });

  test("hold/release: frames published during a replay are delivered after it, minus those it covered", async () => {
    const broker = new SseBroker({ heartbeatMs: 0 });
    const { stream, client } = broker.open({ channels: ["dashboard"] });
    client.hold();
    broker.publish("dashboard", { id: 10, data: "old" });
    broker.publish("dashboard", { id: 12, data: "new" });
    client.send({ id: 11, data: "replay" });
    client.release(11);
    broker.publish("dashboard", { id: 9, data: "late frame of an older batch" });
    broker.publish("dashboard", { id: 13, data: "newer" });
    expect(await readSome(stream, "id: 13")).toBe(": connected\n\ndata: replay\nid: 11\n\ndata: new\nid: 12\n\ndata: newer\nid: 13\n\n");
    broker.close();
  });

  test("frames of one event-loop turn reach a client in one write, in order", async () => {
    const broker = new SseBroker({ heartbeatMs: 0 });
    const a = broker.open({ channels: ["events", "dashboard"] });
    const b = broker.open({ channels: ["events"] });
    const readers = [a.stream.getReader(), b.stream.getReader()];
    for (const r of readers) await r.read(); // ": connected": both controllers are live
    const before = broker.getStats().writes;
    for (let i = 1; i <= 50; i++) broker.publish("events", { id: i, data: `e${i}` });
    broker.publish("dashboard", { id: 51, data: "row" });
    await Bun.sleep(5);
    expect(broker.getStats().writes - before).toBe(2);
    const got = new TextDecoder().decode((await readers[0]!.read()).value);
    expect(got).toBe(Array.from({ length: 50 }, (_, i) => `data: e${i + 1}\nid: ${i + 1}\n\n`).join("") + "data: row\nid: 51\n\n");
    expect(new TextDecoder().decode((await readers[1]!.read()).value)).toEndWith("data: e50\nid: 50\n\n");
    broker.publish("events", { id: 52, data: "next turn" });
    await Bun.sleep(5);
    expect(broker.getStats().writes - before).toBe(4);
    broker.close();
  });

  test("a client that does not read is dropped once its queue passes the bound; others keep receiving", async () => {
    let dropped = 0;
    const broker = new SseBroker({ heartbeatMs: 0, maxQueuedBytes: 64 * 1024, onDrop: () => dropped++ });
    const slow = broker.open({ channels: ["c"] });
    const fast = broker.open({ channels: ["c"] });
    const reader = fast.stream.getReader();
    const big = "x".repeat(10_000);
    let fastBytes = 0;
    for (let i = 0; i < 40; i++) {
      broker.publish("c", { id: i, data: big });
      const r = await reader.read();
      fastBytes += r.value?.byteLength ?? 0;
    }
    expect(dropped).toBe(1);
    expect(slow.client.closed).toBe(true);
    expect(fast.client.closed).toBe(false);
    expect(fastBytes).toBeGreaterThan(30 * 10_000);
    expect(broker.getStats()).toMatchObject({ clients: 1, dropped: 1 });
    broker.close();
  });

  test("over a real socket: a peer that stops reading is dropped, its backlog bounded", async () => {
    let dropped = 0;
    const broker = new SseBroker({ heartbeatMs: 0, maxQueuedBytes: 256 * 1024, onDrop: () => dropped++ });
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: (req) => new Response(broker.open({ channels: ["c"], signal: req.signal }).stream) });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/`);
      const reader = res.body!.getReader();
      await reader.read(); // ": connected", then stop reading
      const chunk = "y".repeat(64 * 1024);
      for (let i = 0; i < 400 && dropped === 0; i++) {
        broker.publish("c", { id: i, data: chunk });
        await Bun.sleep(1);
      }
      expect(dropped).toBe(1);
      expect(broker.getStats().clients).toBe(0);
      await reader.cancel().catch(() => undefined);
    } finally {
      server.stop(true);
      broker.close();
    }
  });

  test("closing the request (abort signal) or cancelling the stream detaches the client", async () => {
    const broker = new SseBroker({ heartbeatMs: 0 });
    const ac = new AbortController();
    const a = broker.open({ channels: ["c"], signal: ac.signal });
    const b = broker.open({ channels: ["c"] });
    ac.abort();
    await b.stream.cancel();
    expect(a.client.closed && b.client.closed).toBe(true);
    expect(broker.hasListeners("c")).toBe(false);
    expect(broker.publish("c", { data: "x" })).toBe(0);
  });

  test("frames published in one synchronous run leave before the next event-loop turn (no setImmediate hop)", async () => {
    const broker = new SseBroker({ heartbeatMs: 0 });
    const a = broker.open({ channels: ["c"] });
    const reader = a.stream.getReader();
    await reader.read(); // ": connected": the controller is live
    const before = broker.getStats().writes;
    broker.publish("c", { id: 1, data: "x" });
    broker.publish("c", { id: 2, data: "y" });
    expect(broker.getStats().writes - before).toBe(0); // coalesced: nothing written inside the run
    await Promise.resolve(); // one microtask later, before any timer or I/O callback
    expect(broker.getStats().writes - before).toBe(1);
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: x\nid: 1\n\ndata: y\nid: 2\n\n");
    broker.close();
  });

  test("watchOpen reports the channels of clients that open until unwatched; a throwing watcher is contained", () => {
    const broker = new SseBroker({ heartbeatMs: 0 });
    const seen: string[][] = [];
    const off = broker.watchOpen((ch) => seen.push(ch));
    broker.watchOpen(() => {
      throw new Error("boom");
    });
    broker.open({ channels: ["dashboard"] });
    broker.open({ channels: ["modem:7", "events"] });
    off();
    broker.open({ channels: ["dashboard@n1"] });
    expect(seen).toEqual([["dashboard"], ["modem:7", "events"]]);
    expect(broker.getStats().clients).toBe(3);
    broker.close();
  });
});
