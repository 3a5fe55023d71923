/** Alert webhook delivery against a local receiver: retry on 5xx, none on 4xx, order kept, overflow counted. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postJson, WebhookQueue } from "../../../src/health/webhook.ts";

let server: ReturnType<typeof Bun.serve>;
let base: string;
const received: Array<{ path: string; body: unknown; auth: string | null }> = [];
let failNext = 0;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1", port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const body = await req.json().catch(() => null);
      if (path === "/gone") return new Response("no", { status: 404 });
      if (failNext > 0) {
        failNext--;
        return new Response("busy", { status: 503 });
      }
      received.push({ path, body, auth: req.headers.get("authorization") });
      return new Response("ok");
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

describe("postJson", () => {
  test("retries a 503 until it is accepted, with the bearer token", async () => {
    received.length = 0;
    failNext = 2;
    const r = await postJson({ url: `${base}/hook`, token: "s3cret", backoffBaseMs: 5 }, { hello: 1 });
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(received).toEqual([{ path: "/hook", body: { hello: 1 }, auth: "Bearer s3cret" }]);
  });

  test("a 404 is not retried; a dead port fails after its attempts without throwing", async () => {
    expect(await postJson({ url: `${base}/gone`, backoffBaseMs: 5 }, {})).toMatchObject({ ok: false, attempts: 1, status: 404 });
    const dead = await postJson({ url: "http://127.0.0.1:1/x", attempts: 2, backoffBaseMs: 5, timeoutMs: 500 }, {});
    expect(dead.ok).toBe(false);
    expect(dead.attempts).toBe(2);
  });
});

describe("WebhookQueue", () => {
  test("delivers in order even across retries", async () => {
    received.length = 0;
    failNext = 1;
    const results: boolean[] = [];
    const q = new WebhookQueue({ url: `${base}/q`, backoffBaseMs: 5 }, (r) => results.push(r.ok));
    for (let i = 0; i < 5; i++) q.push({ n: i });
    await q.idle();
    expect(received.map((r) => (r.body as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
    expect(results).toEqual([true, true, true, true, true]);
  });

  test("overflow drops the oldest and counts them", async () => {
    received.length = 0;
    const q = new WebhookQueue({ url: `${base}/q`, maxQueue: 2 });
    for (let i = 0; i < 6; i++) q.push({ n: i });
    await q.idle();
    expect(q.dropped).toBeGreaterThan(0);
    expect(received.length + q.dropped).toBe(6);
    expect((received.at(-1)!.body as { n: number }).n).toBe(5);
  });

  test("a push arriving while the drain is finishing is delivered, whatever microtask it lands in", async () => {
    // The drain used to be marked done one microtask after it found the queue empty: a push in that gap (k = 0
    // here) waited for the next alert. Try every depth around the end of the drain.
    for (let k = 0; k < 8; k++) {
      const bodies: unknown[] = [];
      const fetchImpl = (async (_url: string, init: RequestInit) => {
        bodies.push(JSON.parse(String(init.body)));
        return new Response("ok");
      }) as unknown as typeof fetch;
      let first = true;
      const q: WebhookQueue = new WebhookQueue({ url: "http://127.0.0.1:9/unused" }, () => {
        if (!first) return;
        first = false;
        let n = k;
        const hop = (): void => (n-- > 0 ? queueMicrotask(hop) : q.push({ n: 2 }));
        queueMicrotask(hop);
      }, fetchImpl);
      q.push({ n: 1 });
      for (let i = 0; i < 50 && bodies.length < 2; i++) await Bun.sleep(2);
      await q.idle();
      expect({ k, bodies }).toEqual({ k, bodies: [{ n: 1 }, { n: 2 }] });
    }
  });
});
