import { describe, expect, test } from "bun:test";
import { bodyFraming, findHeadEnd, parseRequestHead, parseResponseHead, tokens } from "../../../src/proxy/engine/http-head.ts";

const b = (s: string) => Buffer.from(s, "latin1");

describe("parseRequestHead", () => {
  test("absolute-form GET with headers", () => {
    const text = "GET http://example.com/x?y=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nx-a: 2\r\n\r\nBODY";
    const r = parseRequestHead(b(text));
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.head.method).toBe("GET");
    expect(r.head.target).toBe("http://example.com/x?y=1");
    expect(r.head.version).toBe("1.1");
    expect(r.head.headers.get("host")).toBe("example.com");
    expect(r.head.headers.get("x-a")).toBe("1, 2");
    expect(r.head.headers.list).toEqual([["Host", "example.com"], ["X-A", "1"], ["x-a", "2"]]);
    expect(r.length).toBe(text.indexOf("BODY"));
  });

  test("bare LF line ends and leading blank lines are accepted", () => {
    const r = parseRequestHead(b("\r\nCONNECT a.b:443 HTTP/1.0\nHost: a.b\n\n"));
    expect(r.kind).toBe("ok");
    if (r.kind === "ok") expect(r.head.method).toBe("CONNECT");
  });

  test("incomplete until the blank line", () => {
    expect(parseRequestHead(b("GET http://a/ HTTP/1.1\r\nHost: a\r\n")).kind).toBe("incomplete");
    expect(parseRequestHead(b("")).kind).toBe("incomplete");
  });

  test.each([
    ["garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"],
    ["HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
    ["lower-case version", "GET / http/1.1\r\n\r\n"],
    ["two spaces", "GET  / HTTP/1.1\r\n\r\n"],
    ["obs-fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"],
    ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"],
    ["no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n"],
  ])("refuses %s", (_n, s) => {
    const r = parseRequestHead(b(s));
    expect(r).toMatchObject({ kind: "error", code: "bad_request" });
  });

  test("more than 16 KiB without a blank line is header_too_large", () => {
    const big = "GET http://a/ HTTP/1.1\r\nX: " + "a".repeat(17000);
    expect(parseRequestHead(b(big))).toMatchObject({ kind: "error", code: "header_too_large" });
    expect(parseRequestHead(b(big + "\r\n\r\n"))).toMatchObject({ kind: "error", code: "header_too_large" });
  });

  test("just under 16 KiB is fine", () => {
    const head = "GET http://a/ HTTP/1.1\r\nX: " + "a".repeat(16000) + "\r\n\r\n";
    expect(parseRequestHead(b(head)).kind).toBe("ok");
  });
});

describe("parseResponseHead", () => {
  test("status, reason, headers", () => {
    const r = parseResponseHead(b("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc"));
    expect(r).toMatchObject({ kind: "ok", head: { version: "1.1", status: 404, reason: "Not Found" } });
  });
  test("empty reason", () => {
    expect(parseResponseHead(b("HTTP/1.0 200\r\n\r\n"))).toMatchObject({ kind: "ok", head: { status: 200, reason: "" } });
  });
  test("garbage", () => {
    expect(parseResponseHead(b("SSH-2.0-OpenSSH\r\n\r\n")).kind).toBe("error");
  });
});

describe("findHeadEnd", () => {
  test.each([
    ["a\r\n\r\nb", 5],
    ["a\n\nb", 3],
    ["a\r\n\nb", 4],
    ["a\r\nb", -1],
  ])("%p → %d", (s, n) => expect(findHeadEnd(b(s))).toBe(n));
});

describe("bodyFraming", () => {
  const h = (o: Record<string, string>) => ({ list: Object.entries(o), get: (n: string) => o[n] });
  test("request without length has no body; response without length runs to close", () => {
    expect(bodyFraming(h({}), true)).toEqual({ kind: "none" });
    expect(bodyFraming(h({}), false)).toEqual({ kind: "close" });
  });
  test("content-length and chunked", () => {
    expect(bodyFraming(h({ "content-length": "42" }), true)).toEqual({ kind: "length", length: 42 });
    expect(bodyFraming(h({ "transfer-encoding": "gzip, chunked" }), false)).toEqual({ kind: "chunked" });
  });
  test("smuggling shapes are refused", () => {
    expect(typeof bodyFraming(h({ "content-length": "1", "transfer-encoding": "chunked" }), true)).toBe("string");
    expect(typeof bodyFraming(h({ "content-length": "1, 2" }), true)).toBe("string");
    expect(typeof bodyFraming(h({ "content-length": "-1" }), true)).toBe("string");
    expect(typeof bodyFraming(h({ "transfer-encoding": "chunked, gzip" }), true)).toBe("string");
  });
  test("tokens", () => {
    expect(tokens(" Keep-Alive , close,,")).toEqual(["keep-alive", "close"]);
    expect(tokens(undefined)).toEqual([]);
  });
});
