/** The 3proxy log-line parser, table-tested with the lines a real 3proxy 1.0.0 wrote (3proxy.md §2). */
import { describe, expect, test } from "bun:test";
import { AppError } from "../../../src/lib/errors.ts";
import {
  parseThreeProxyLog, parseThreeProxyLogLine, resultForThreeProxyError, type ThreeProxyResult,
} from "../../../src/proxy/three-proxy/log-parser.ts";

// Verbatim from 3proxy.md §2 (407, bob, whitelisted IP, SOCKS).
const REAL = [
  "2026-11-25T18:37:21.118 PROXY 3128 00004 - 127.0.0.1 37216 0.0.0.0 0.0.0.0 0 127.0.0.1 8000 0 0 0 GET_http://127.0.0.1:8000/small.txt_HTTP/1.1",
  "2026-11-25T18:37:21.178 PROXY 3128 00000 bob 127.0.0.1 37232 127.0.0.1 127.0.0.1 8000 origin.test 8000 204 156 12 GET_http://origin.test:8000/small.txt_HTTP/1.1",
  "2026-11-25T18:37:21.193 PROXY 3128 00000 - 127.0.0.2 43782 127.0.0.1 127.0.0.1 8000 127.0.0.1 8000 204 154 12 GET_http://127.0.0.1:8000/small.txt_HTTP/1.1",
  "2026-11-25T18:37:21.207 SOCK5 4128 00000 alice 127.0.0.1 34154 127.0.0.1 127.0.0.1 8000 origin.test 8000 204 89 12 CONNECT_origin.test:8000",
];

describe("parseThreeProxyLogLine on real lines", () => {
  const table = [
    { line: REAL[0]!, want: { service: "PROXY", port: 3128, errorCode: 4, result: "auth_required", username: null,
      clientIp: "127.0.0.1", clientPort: 37216, externalIp: "0.0.0.0", remoteIp: "0.0.0.0", remotePort: 0,
      targetHost: "127.0.0.1", targetPort: 8000, bytesDown: 0, bytesUp: 0, durationMs: 0,
      request: "GET_http://127.0.0.1:8000/small.txt_HTTP/1.1" } },
    { line: REAL[1]!, want: { service: "PROXY", errorCode: 0, result: "ok", username: "bob", clientPort: 37232,
      externalIp: "127.0.0.1", remoteIp: "127.0.0.1", remotePort: 8000, targetHost: "origin.test", targetPort: 8000,
      bytesDown: 204, bytesUp: 156, durationMs: 12 } },
    { line: REAL[2]!, want: { username: null, clientIp: "127.0.0.2", clientPort: 43782, result: "ok", bytesDown: 204, bytesUp: 154 } },
    { line: REAL[3]!, want: { service: "SOCK5", port: 4128, username: "alice", targetHost: "origin.test", bytesDown: 204,
      bytesUp: 89, request: "CONNECT_origin.test:8000" } },
  ];
  for (const [i, { line, want }] of table.entries()) {
    test(`line ${i}`, () => {
      expect(parseThreeProxyLogLine(line)).toMatchObject(want);
    });
  }

  test("timestamps: UTC by default (G format), local on request", () => {
    expect(parseThreeProxyLogLine(REAL[1]!).ts.toISOString()).toBe("2026-11-25T18:37:21.178Z");
    const local = parseThreeProxyLogLine(REAL[1]!, { timezone: "local" }).ts;
    expect([local.getHours(), local.getMinutes(), local.getSeconds(), local.getMilliseconds()]).toEqual([18, 37, 21, 178]);
  });

  test("a line with an empty request text (trailing space) parses", () => {
    const r = parseThreeProxyLogLine("2026-11-25T18:37:21.207 SOCK5 4128 00013 alice 127.0.0.1 34154 10.64.0.2 0.0.0.0 0 example.com 443 0 0 15001 ");
    expect(r.request).toBe("");
    expect(r.result).toBe("connect_failed");
    expect(r.durationMs).toBe(15001);
  });

  test("CRLF line endings are tolerated", () => {
    expect(parseThreeProxyLogLine(`${REAL[1]}\r`).request).toBe("GET_http://origin.test:8000/small.txt_HTTP/1.1");
  });
});

describe("error codes", () => {
  const table: Array<[number, ThreeProxyResult]> = [
    [0, "ok"], [1, "forbidden"], [3, "forbidden"], [4, "auth_required"], [5, "auth_failed"], [6, "auth_failed"],
    [10, "over_limit"], [12, "source_unavailable"], [13, "connect_failed"], [100, "dns_failed"], [92, "upstream_error"],
  ];
  for (const [code, want] of table) test(`E=${code} → ${want}`, () => expect(resultForThreeProxyError(code)).toBe(want));
});

describe("malformed lines", () => {
  const bad: Array<[string, string]> = [
    ["", "fields"],
    ["garbage", "fields"],
    [REAL[1]!.replace("2026-11-25T18:37:21.178", "25/11/2026"), "timestamp"],
    [REAL[1]!.replace("2026-11-25", "2026-02-30"), "impossible timestamp"],
    [REAL[1]!.replace(" 204 156 ", " 2x4 156 "), "bytes in"],
    [REAL[1]!.replace(" 37232 ", " -1 "), "client port"],
    [REAL[1]!.replace("bob 127.0.0.1", "bob 127.0.0.999"), "client ip"],
    [REAL[1]!.replace("PROXY", "pro xy"), "port"],
  ];
  for (const [line, why] of bad) {
    test(`${JSON.stringify(line.slice(0, 30))} → ${why}`, () => {
      let caught: unknown;
      try {
        parseThreeProxyLogLine(line);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AppError);
      expect((caught as AppError).code).toBe("THREEPROXY_LOG_MALFORMED");
      expect((caught as AppError).message).toContain(why);
    });
  }
});

// Written by a real 3proxy 1.0.0 running a rendered config (auto service) on loopback.
const SERVICE_LINES = [
  "2026-11-25T19:09:28.106 AUTO 23128 00000 - 127.0.0.1 23128 0.0.0.0 127.0.0.1 0 [0.0.0.0] 0 0 0 0 Accepting_connections_[3510/140384821610176]",
  "2026-11-25T19:09:30.251 AUTO 23128 00000 - 0.0.0.0 0 0.0.0.0 127.0.0.1 0 [0.0.0.0] 0 0 0 2145 Exiting_thread",
];
const AUTO_CONNECTIONS = [
  "2026-11-25T19:09:29.270 PROXY 23128 00000 bob 127.0.0.1 37526 127.0.0.1 127.0.0.1 28000 127.0.0.1 28000 191 88 21 CONNECT_127.0.0.1:28000_HTTP/1.1",
  "2026-11-25T19:09:29.216 SOCK5 23128 00000 - 127.0.0.2 56408 127.0.0.1 127.0.0.1 28000 127.0.0.1 28000 191 88 19 CONNECT_127.0.0.1:28000",
];

describe("parseThreeProxyLog (chunks from a growing file)", () => {
  test("listener messages are kept apart from connections", () => {
    const out = parseThreeProxyLog([...SERVICE_LINES, ...AUTO_CONNECTIONS].join("\n") + "\n");
    expect(out.serviceMessages.map((r) => r.request)).toEqual(["Accepting_connections_[3510/140384821610176]", "Exiting_thread"]);
    expect(out.records.map((r) => [r.service, r.username, r.bytesDown, r.bytesUp])).toEqual([
      ["PROXY", "bob", 191, 88], ["SOCK5", null, 191, 88],
    ]);
    expect(out.rejected).toEqual([]);
  });

  test("keeps good lines, reports bad ones, returns the unfinished tail", () => {
    const chunk = `${REAL[0]}\n\n${REAL[1]}\r\nnot a log line\n${REAL[3]}\n${REAL[2]!.slice(0, 40)}`;
    const out = parseThreeProxyLog(chunk);
    expect(out.records.map((r) => r.username)).toEqual([null, "bob", "alice"]);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]!.line).toBe("not a log line");
    expect(out.rest).toBe(REAL[2]!.slice(0, 40));
    // The tail completes with the next chunk.
    const next = parseThreeProxyLog(out.rest + REAL[2]!.slice(40) + "\n");
    expect(next.records).toHaveLength(1);
    expect(next.records[0]!.clientIp).toBe("127.0.0.2");
    expect(next.rest).toBe("");
  });
});
