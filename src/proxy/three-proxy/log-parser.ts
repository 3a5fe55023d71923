/**
 * Parses the lines 3proxy writes with THREEPROXY_LOGFORMAT into connection-log records (the connection_log table).
 * Field order: time service port E user client-ip client-port ext-ip remote-ip remote-port host host-port
 * bytes-from-server bytes-from-client duration-ms request. %I counts bytes from the server (download), %O bytes from
 * the client (upload): a 100 MiB GET logged %I = 104857807 (3proxy.md §2).
 */
import { isIP } from "node:net";
import { AppError } from "../../lib/errors.ts";
import type { ResultCode } from "../engine/results.ts";

export type ThreeProxyResult = ResultCode | "forbidden";

export interface ThreeProxyLogRecord {
  ts: Date;
  /** %N: PROXY, SOCK5, SOCK4, ... (for `auto` the service that handled the request). */
  service: string;
  port: number;
  /** %E as a number; see resultForThreeProxyError. */
  errorCode: number;
  result: ThreeProxyResult;
  /** null when 3proxy logged "-" (whitelisted or unauthenticated). */
  username: string | null;
  clientIp: string;
  clientPort: number;
  /** %e: the source address actually used; 0.0.0.0 when no outgoing connection was made. */
  externalIp: string;
  remoteIp: string;
  remotePort: number;
  targetHost: string;
  targetPort: number;
  /** Bytes from the client (upload, %O). */
  bytesUp: number;
  /** Bytes from the server (download, %I). */
  bytesDown: number;
  durationMs: number;
  /** %T with spaces turned into "_", e.g. GET_http://host/_HTTP/1.1; empty for SOCKS without a request line. */
  request: string;
}

/**
 * 3proxy's error codes (howtoe.html, as summarised in 3proxy.md §2: 4-6 auth, 10 quota, 12 bind, 13 connect,
 * 100 host not found; 1 = authenticated but not in the ACL, seen as 403) mapped onto the built-in engine's results.
 */
export function resultForThreeProxyError(code: number): ThreeProxyResult {
  if (code === 0) return "ok";
  if (code === 1 || code === 2 || code === 3 || code === 9) return "forbidden";
  if (code === 4) return "auth_required";
  if (code >= 5 && code <= 8) return "auth_failed";
  if (code === 10) return "over_limit";
  // 12: bind() of -e failed, which is what a vanished modem address looks like (3proxy.md §3).
  if (code === 11 || code === 12) return "source_unavailable";
  if (code === 13 || code === 14) return "connect_failed";
  if (code === 100) return "dns_failed";
  return "upstream_error";
}

export interface ParseLogOptions {
  /** THREEPROXY_LOGFORMAT writes UTC ("G"); an "L" format writes local time. */
  timezone?: "utc" | "local";
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,3})$/;
const INT_RE = /^\d{1,15}$/;

function malformed(line: string, why: string): AppError {
  return new AppError("THREEPROXY_LOG_MALFORMED", `3proxy log line ${why}`, { line: line.slice(0, 200) });
}

/** One line → record. Throws AppError THREEPROXY_LOG_MALFORMED naming what is wrong. */
export function parseThreeProxyLogLine(line: string, opts: ParseLogOptions = {}): ThreeProxyLogRecord {
  const text = line.replace(/\r$/, "");
  const f = text.split(" ");
  if (f.length < 15) throw malformed(line, `has ${f.length} fields, expected at least 15`);
  const [ts, service, port, err, user, cip, cport, eip, rip, rport, host, hport, bin, bout, dur] = f as [
    string, string, string, string, string, string, string, string, string, string, string, string, string, string, string,
  ];
  const m = TS_RE.exec(ts);
  if (!m) throw malformed(line, `has a bad timestamp ${JSON.stringify(ts)}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const msPart = Number(m[7]!.padEnd(3, "0"));
  const local = opts.timezone === "local";
  const when = local ? new Date(y, mo - 1, d, h, mi, s, msPart) : new Date(Date.UTC(y, mo - 1, d, h, mi, s, msPart));
  // Date rolls 2026-02-30 over into March; a round trip catches impossible dates.
  const back = local ? [when.getFullYear(), when.getMonth() + 1, when.getDate()] : [when.getUTCFullYear(), when.getUTCMonth() + 1, when.getUTCDate()];
  if (Number.isNaN(when.getTime()) || back[0] !== y || back[1] !== mo || back[2] !== d || h > 23 || mi > 59 || s > 60) {
    throw malformed(line, `has an impossible timestamp ${JSON.stringify(ts)}`);
  }
  const ints: Record<string, string> = { port, error: err, "client port": cport, "remote port": rport, "host port": hport,
    "bytes in": bin, "bytes out": bout, duration: dur };
  for (const [name, value] of Object.entries(ints)) {
    if (!INT_RE.test(value)) throw malformed(line, `has a non-numeric ${name} ${JSON.stringify(value)}`);
  }
  for (const [name, value] of [["client ip", cip], ["external ip", eip], ["remote ip", rip]] as const) {
    if (isIP(value) === 0) throw malformed(line, `has a bad ${name} ${JSON.stringify(value)}`);
  }
  if (!/^[A-Z0-9]{1,16}$/.test(service)) throw malformed(line, `has a bad service name ${JSON.stringify(service)}`);
  const errorCode = Number(err);
  return {
    ts: when,
    service,
    port: Number(port),
    errorCode,
    result: resultForThreeProxyError(errorCode),
    username: user === "-" || user === "" ? null : user,
    clientIp: cip,
    clientPort: Number(cport),
    externalIp: eip,
    remoteIp: rip,
    remotePort: Number(rport),
    targetHost: host,
    targetPort: Number(hport),
    bytesDown: Number(bin),
    bytesUp: Number(bout),
    durationMs: Number(dur),
    request: f.slice(15).join(" "),
  };
}

/**
 * Lines a listener writes about itself rather than about a connection (proxymain.c: "Accepting connections [pid/tid]",
 * "Exiting thread", "Warning: too many connected clients (n/max)", bind/netns failures). Under `auto` they carry the
 * service name AUTO; real connections are logged as PROXY or SOCK5. Seen on 3proxy 1.0.0:
 * `... AUTO 23128 00000 - 127.0.0.1 23128 0.0.0.0 127.0.0.1 0 [0.0.0.0] 0 0 0 0 Accepting_connections_[3510/1403...]`
 */
export function isThreeProxyServiceMessage(r: ThreeProxyLogRecord): boolean {
  return r.service === "AUTO" ||
    /^(Accepting_connections|Exiting_thread|Warning:|Memory_Allocation_Failed|[Ff]ailed_to_)/.test(r.request);
}

export interface ParsedLogChunk {
  /** One per client connection: what goes into connection_log. */
  records: ThreeProxyLogRecord[];
  /** Listener messages (see isThreeProxyServiceMessage); "too many connected clients" is worth a health flag. */
  serviceMessages: ThreeProxyLogRecord[];
  /** Lines that did not parse, with the reason; the caller logs and counts them, nothing is thrown. */
  rejected: Array<{ line: string; reason: string }>;
  /** Text after the last newline: an unfinished line the tailer prepends to the next chunk. */
  rest: string;
}

/** Parses a chunk read from a growing log file. Blank lines are skipped; a trailing partial line is returned as `rest`. */
export function parseThreeProxyLog(chunk: string, opts: ParseLogOptions = {}): ParsedLogChunk {
  const out: ParsedLogChunk = { records: [], serviceMessages: [], rejected: [], rest: "" };
  const parts = chunk.split("\n");
  out.rest = parts.pop() ?? "";
  for (const raw of parts) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    try {
      const record = parseThreeProxyLogLine(line, opts);
      (isThreeProxyServiceMessage(record) ? out.serviceMessages : out.records).push(record);
    } catch (error) {
      out.rejected.push({ line, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return out;
}
