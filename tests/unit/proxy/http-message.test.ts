import { describe, expect, test } from "bun:test";
import { BodyTracker } from "../../../src/proxy/engine/http-chunked.ts";
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from "../../../src/proxy/engine/http-head.ts";
import { buildClientHead, buildUpstreamHead, planResponse, toRequest, type Request } from "../../../src/proxy/engine/http-message.ts";

const reqHead = (s: string): RequestHead => {
  const r = parseRequestHead(Buffer.from(s, "latin1"));
  if (r.kind !== "ok") throw new Error("bad test head");
  return r.head;
};
const resHead = (s: string): ResponseHead => {
  const r = parseResponseHead(Buffer.from(s, "latin1"));
  if (r.kind !== "ok") throw new Error("bad test head");
  return r.head;
};
const request = (s: string): Request => {
  const r = toRequest(reqHead(s));
  if ("code" in r) throw new Error(r.message);
  return r;
};

describe("toRequest", () => {
  test("absolute-form GET", () => {
    expect(request("GET http://a.test:8080/x?y HTTP/1.1\r\n\r\n")).toMatchObject({
      target: { host: "a.test", port: 8080 },
      path: "/x?y",
      keepAlive: true,
      isHead: false,
      framing: { kind: "none" },
    });
  });
  test("keep-alive rules for 1.0 and 1.1", () => {
    expect(request("GET http://a/ HTTP/1.1\r\nConnection: close\r\n\r\n").keepAlive).toBe(false);
    expect(request("GET http://a/ HTTP/1.1\r\nProxy-Connection: close\r\n\r\n").keepAlive).toBe(false);
    expect(request("GET http://a/ HTTP/1.0\r\n\r\n").keepAlive).toBe(false);
    expect(request("GET http://a/ HTTP/1.0\r\nProxy-Connection: Keep-Alive\r\n\r\n").keepAlive).toBe(true);
  });
  test("CONNECT", () => {
    expect(request("CONNECT a.test:443 HTTP/1.1\r\n\r\n")).toMatchObject({ path: null, target: { host: "a.test", port: 443 } });
  });
  test.each([
    ["CONNECT a.test HTTP/1.1\r\n\r\n", "bad_target"],
    ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", "bad_request"],
    ["GET https://a/ HTTP/1.1\r\n\r\n", "unsupported"],
    ["POST http://a/ HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "bad_request"],
  ])("refuses %p with %s", (s, code) => {
    expect(toRequest(reqHead(s))).toMatchObject({ code });
  });
});

describe("buildUpstreamHead", () => {
  test("origin-form, proxy and hop-by-hop fields removed, names listed in Connection removed", () => {
    const r = request(
      "GET http://a.test/p HTTP/1.1\r\nHost: a.test\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nConnection: X-Secret\r\nX-Secret: 1\r\nAccept: */*\r\n\r\n",
    );
    expect(buildUpstreamHead(r).toString("latin1")).toBe("GET /p HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n\r\n");
  });
  test("adds Host when missing and Connection: close when the client will close", () => {
    const r = request("GET http://a.test:81/ HTTP/1.1\r\nConnection: close\r\n\r\n");
    expect(buildUpstreamHead(r).toString("latin1")).toBe("GET / HTTP/1.1\r\nHost: a.test:81\r\nConnection: close\r\n\r\n");
  });
});

describe("planResponse / buildClientHead", () => {
  const get = request("GET http://a/ HTTP/1.1\r\n\r\n");
  test("plain keep-alive response passes through untouched", () => {
    expect(planResponse(get, resHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), true)).toEqual({
      framing: { kind: "length", length: 5 },
      upstreamKeepAlive: true,
      clientKeepAlive: true,
      passThrough: true,
    });
  });
  test("close-delimited body ends both connections", () => {
    expect(planResponse(get, resHead("HTTP/1.0 200 OK\r\n\r\n"), true)).toMatchObject({ framing: { kind: "close" }, upstreamKeepAlive: false, clientKeepAlive: false, passThrough: false });
  });
  test("HEAD, 204 and 304 have no body", () => {
    const head = request("HEAD http://a/ HTTP/1.1\r\n\r\n");
    expect(planResponse(head, resHead("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"), true)).toMatchObject({ framing: { kind: "none" } });
    expect(planResponse(get, resHead("HTTP/1.1 304 Not Modified\r\n\r\n"), true)).toMatchObject({ framing: { kind: "none" } });
  });
  test("ambiguous framing is an error", () => {
    expect(planResponse(get, resHead("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), true)).toHaveProperty("error");
  });
  test("rewritten head drops connection fields and states ours", () => {
    const h = resHead("HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n");
    expect(buildClientHead(h, false, "1.1").toString()).toBe("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    expect(buildClientHead(h, true, "1.0").toString()).toBe("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  });
});

describe("BodyTracker", () => {
  test("length across reads, extra bytes are not taken", () => {
    const t = new BodyTracker({ kind: "length", length: 5 });
    expect(t.take(Buffer.from("abc"))).toEqual({ end: 3, done: false });
    expect(t.take(Buffer.from("XXdeYY"), 2)).toEqual({ end: 2, done: true });
  });
  test("none and zero length are empty; close never ends by itself", () => {
    expect(new BodyTracker({ kind: "none" }).empty).toBe(true);
    expect(new BodyTracker({ kind: "length", length: 0 }).empty).toBe(true);
    expect(new BodyTracker({ kind: "close" }).take(Buffer.from("abc"))).toEqual({ end: 3, done: false });
  });
  test("chunked with an offset", () => {
    const t = new BodyTracker({ kind: "chunked" });
    expect(t.take(Buffer.from("HEAD:0\r\n\r\nNEXT"), 5)).toEqual({ end: 5, done: true });
  });
});
