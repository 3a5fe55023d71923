import { describe, expect, test } from "bun:test";
import { ChunkedTracker } from "../../../src/proxy/engine/http-chunked.ts";

const b = (s: string) => Buffer.from(s, "latin1");
const BODY = "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";

describe("ChunkedTracker", () => {
  test("finds the end in one piece and ignores what follows", () => {
    const t = new ChunkedTracker();
    expect(t.feed(b(BODY + "GET next"))).toBe(BODY.length);
    expect(t.done).toBe(true);
  });

  test("finds the same end when fed byte by byte", () => {
    const t = new ChunkedTracker();
    const buf = b(BODY);
    let end = -1;
    for (let i = 0; i < buf.length && end < 0; i++) {
      const r = t.feed(buf.subarray(i, i + 1));
      if (r >= 0) end = i + r;
    }
    expect(end).toBe(BODY.length);
  });

  test("split at every position gives the same end", () => {
    const buf = b(BODY);
    for (let cut = 1; cut < buf.length; cut++) {
      const t = new ChunkedTracker();
      const first = t.feed(buf.subarray(0, cut));
      const end = first >= 0 ? first : cut + t.feed(buf.subarray(cut));
      expect(end).toBe(BODY.length);
    }
  });

  test("bare LF framing and no trailers", () => {
    expect(new ChunkedTracker().feed(b("3\nabc\n0\n\nX"))).toBe(9);
  });

  test("needs more data", () => {
    expect(new ChunkedTracker().feed(b("5\r\nhel"))).toBe(-1);
  });

  test.each(["x\r\n", "5\r\nhelloX", "\r\n", "fffffffffffff\r\n"])("throws on %p", (s) => {
    expect(() => new ChunkedTracker().feed(b(s))).toThrow();
  });
});
