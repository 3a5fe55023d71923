import { describe, expect, test } from "bun:test";
import { formatSse, parseSse } from "../../../src/http/sse-frames.ts";

describe("SSE framing", () => {
  test("data lines, event, id after data, blank line terminator", () => {
    expect(formatSse({ id: 42, data: "<tr id=\"modem-1\">\n<td>x</td></tr>" })).toBe('data: <tr id="modem-1">\ndata: <td>x</td></tr>\nid: 42\n\n');
    expect(formatSse({ event: "close", data: "" })).toBe("event: close\ndata: \n\n");
    expect(formatSse({ retry: 2000 })).toBe("retry: 2000\n\n");
    expect(formatSse({ comment: "ping" })).toBe(": ping\n\n");
  });

  test("CR/LF in an id or event name cannot inject fields", () => {
    expect(formatSse({ id: "5\ndata: evil", data: "x" })).toBe("data: x\nid: 5data: evil\n\n");
    expect(formatSse({ event: "a\r\nid: 9", data: "x" })).toBe("event: aid: 9\ndata: x\n\n");
  });

  test("\\r\\n and \\r in data become separate data lines (the browser would split there too)", () => {
    expect(formatSse({ data: "a\r\nb\rc" })).toBe("data: a\ndata: b\ndata: c\n\n");
  });

  test("parseSse round-trips and ignores comments and retry-only blocks", () => {
    const wire = ": connected\n\n" + formatSse({ retry: 2000 }) + formatSse({ id: 7, data: "one\ntwo" }) + formatSse({ event: "x", data: "y" });
    expect(parseSse(wire)).toEqual([{ id: "7", data: "one\ntwo" }, { event: "x", data: "y" }]);
  });
});
