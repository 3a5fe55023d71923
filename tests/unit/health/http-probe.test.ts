/**
 * The data-path probe: real curl against a local server, bound to loopback addresses (127.0.0.x are all local, so
 * the server sees each probe's own source address, as the echo server sees each modem's public IP).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { curlProbe, parseBatchOutput, probeMany } from "../../../src/health/http-probe.ts";

let server: ReturnType<typeof Bun.serve>;
let url: string;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1", port: 0,
    fetch(req, srv) {
      const path = new URL(req.url).pathname;
      if (path === "/500") return new Response("boom", { status: 500 });
      if (path === "/html") return new Response("<html>captive portal</html>");
      return new Response(`${srv.requestIP(req)!.address}\n`);
    },
  });
  url = `http://127.0.0.1:${server.port}/ip`;
});
afterAll(() => server.stop(true));

describe("parseBatchOutput", () => {
  test("-w lines in any order, bodies by index; errors kept per address", () => {
    const stdout = "#1 000 0.002 45 bind failed with errno 99\n#0 200 0.0123 0 \nnoise\n#2 503 0.1 0 \n";
    const out = parseBatchOutput(stdout, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], (i) => (i === 0 ? "203.0.113.9\n" : null));
    expect(out.get("10.0.0.1")).toEqual({ result: { ip: "203.0.113.9", rttMs: 12.3 }, error: null });
    expect(out.get("10.0.0.2")!.error).toContain("curl 45: bind failed");
    expect(out.get("10.0.0.3")!.error).toBe("HTTP 503");
    expect(out.get("10.0.0.4")!.error).toBe("no answer from curl");
  });
});

describe("curlProbe", () => {
  test("batch: one curl for many addresses; each answer is that address's own", async () => {
    const probe = curlProbe({ timeoutS: 3 });
    const addrs = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    const out = await probe.batch!(addrs, url);
    for (const a of addrs) {
      expect(out.get(a)!.error).toBeNull();
      expect(out.get(a)!.result!.ip).toBe(a);
      expect(out.get(a)!.result!.rttMs).toBeGreaterThanOrEqual(0);
    }
  });

  test("an address that is not ours, a 500 and a non-IP body fail with a reason; the others still answer", async () => {
    const probe = curlProbe({ timeoutS: 3 });
    const out = await probe.batch!(["127.0.0.9", "192.0.2.77"], url);
    expect(out.get("127.0.0.9")!.result!.ip).toBe("127.0.0.9");
    expect(out.get("192.0.2.77")!.result).toBeNull();
    expect(out.get("192.0.2.77")!.error).toMatch(/curl 45/);
    expect(await probe("127.0.0.1", url.replace("/ip", "/500"))).toBeNull();
    const html = await probe.batch!(["127.0.0.1"], url.replace("/ip", "/html"));
    expect(html.get("127.0.0.1")!.error).toContain("unusable body");
  });

  test("single form has the app's publicIpProbe shape", async () => {
    const r = await curlProbe()("127.0.0.7", url);
    expect(r?.ip).toBe("127.0.0.7");
  });

  test("probeMany falls back to one call per address for a plain function", async () => {
    const seen: string[] = [];
    const out = await probeMany(async (a) => {
      seen.push(a);
      if (a === "x") throw new Error("boom");
      return a === "b" ? null : { ip: `pub-${a}`, rttMs: 1 };
    }, ["a", "b", "x"], url, 2);
    expect(seen.sort()).toEqual(["a", "b", "x"]);
    expect(out.get("a")!.result!.ip).toBe("pub-a");
    expect(out.get("b")!.error).toBe("probe failed");
    expect(out.get("x")!.error).toBe("boom");
  });

  test("a missing curl binary: every address fails, nothing throws", async () => {
    const out = await curlProbe({ curl: "/nonexistent/curl" }).batch!(["127.0.0.1"], url);
    expect(out.get("127.0.0.1")!.result).toBeNull();
  });
});
