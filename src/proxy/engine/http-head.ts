/**
 * HTTP/1.x message heads, parsed strictly enough that a proxy cannot be used for request
 * smuggling (RFC 9112 §11.2): no obs-fold, no space before the colon, no Content-Length together
 * with Transfer-Encoding, one Content-Length value. Pure functions over bytes.
 */

export const MAX_HEAD_BYTES = 16 * 1024;
const MAX_HEADERS = 128;

export interface HttpHeaders {
  /** In arrival order, names as sent. */
  list: [string, string][];
  /** Lower-cased name → value; repeated fields joined with ", ". */
  get(name: string): string | undefined;
}

export interface RequestHead {
  method: string;
  target: string;
  /** "1.0" or "1.1". */
  version: string;
  headers: HttpHeaders;
}

export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HttpHeaders;
}

export type HeadResult<T> =
  | { kind: "incomplete" }
  | { kind: "error"; code: "bad_request" | "header_too_large"; message: string }
  | { kind: "ok"; head: T; /** bytes the head occupied, including leading blank lines */ length: number };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/(1\.[01])$/;
const STATUS_LINE = /^HTTP\/(1\.[01]) (\d{3})(?: ([^\r\n]*))?$/;

/** Index just past the blank line ending a head, or -1. Accepts CRLF and bare LF line ends. */
export function findHeadEnd(buf: Uint8Array, from = 0): number {
  for (let i = Math.max(from, 1); i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i - 1] === 0x0a) return i + 1;
    if (buf[i - 1] === 0x0d && i >= 2 && buf[i - 2] === 0x0a) return i + 1;
  }
  return -1;
}

function skipBlankLines(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length && i < 16 && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

function locate(buf: Uint8Array): { start: number; end: number } | { error: "header_too_large" } | null {
  const start = skipBlankLines(buf);
  const end = findHeadEnd(buf, start);
  if (end < 0) return buf.length > MAX_HEAD_BYTES ? { error: "header_too_large" } : null;
  if (end > MAX_HEAD_BYTES) return { error: "header_too_large" };
  return { start, end };
}

function parseFields(lines: string[]): HttpHeaders | string {
  const list: [string, string][] = [];
  const map = new Map<string, string>();
  if (lines.length > MAX_HEADERS) return "too many header fields";
  for (const line of lines) {
    if (line.length === 0) continue;
    if (line[0] === " " || line[0] === "\t") return "obsolete line folding";
    const colon = line.indexOf(":");
    if (colon <= 0) return "header field without a name";
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return `invalid header name`;
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) return "control character in header value";
    list.push([name, value]);
    const key = name.toLowerCase();
    const prev = map.get(key);
    map.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { list, get: (name) => map.get(name) };
}

function splitHead(buf: Uint8Array, start: number, end: number): string[] {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const lines = b.toString("latin1", start, end).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.endsWith("\r")) lines[i] = l.slice(0, -1);
  }
  return lines;
}

export function parseRequestHead(buf: Uint8Array): HeadResult<RequestHead> {
  const at = locate(buf);
  if (at === null) return { kind: "incomplete" };
  if ("error" in at) return { kind: "error", code: "header_too_large", message: "request head over 16 KiB" };
  const lines = splitHead(buf, at.start, at.end);
  const m = REQUEST_LINE.exec(lines[0]);
  if (!m) return { kind: "error", code: "bad_request", message: "malformed request line" };
  const headers = parseFields(lines.slice(1));
  if (typeof headers === "string") return { kind: "error", code: "bad_request", message: headers };
  return { kind: "ok", head: { method: m[1], target: m[2], version: m[3], headers }, length: at.end };
}

export function parseResponseHead(buf: Uint8Array): HeadResult<ResponseHead> {
  const at = locate(buf);
  if (at === null) return { kind: "incomplete" };
  if ("error" in at) return { kind: "error", code: "header_too_large", message: "response head over 16 KiB" };
  const lines = splitHead(buf, at.start, at.end);
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) return { kind: "error", code: "bad_request", message: "malformed status line" };
  const headers = parseFields(lines.slice(1));
  if (typeof headers === "string") return { kind: "error", code: "bad_request", message: headers };
  return {
    kind: "ok",
    head: { version: m[1], status: Number(m[2]), reason: m[3] ?? "", headers },
    length: at.end,
  };
}

export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

/** Splits a comma list header (Connection, Transfer-Encoding) into lower-cased tokens. */
export function tokens(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
}

/**
 * Body framing of a message (RFC 9112 §6.3). Returns an error string for ambiguous framing,
 * which a proxy must refuse rather than guess.
 */
export function bodyFraming(headers: HttpHeaders, isRequest: boolean): BodyFraming | string {
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  if (te !== undefined) {
    if (cl !== undefined) return "both Transfer-Encoding and Content-Length";
    const codings = tokens(te);
    if (codings[codings.length - 1] !== "chunked") return isRequest ? "request body not chunked" : { kind: "close" };
    return { kind: "chunked" };
  }
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) return "invalid Content-Length";
    return { kind: "length", length: Number(cl) };
  }
  return isRequest ? { kind: "none" } : { kind: "close" };
}
