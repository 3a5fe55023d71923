/**
 * What the HTTP side sends on: a parsed request checked and reduced to what the proxy needs,
 * the request head rewritten for the origin, the response head rewritten for the client.
 * Pure functions.
 */
import { bodyFraming, tokens, type BodyFraming, type RequestHead, type ResponseHead } from "./http-head.ts";
import type { ResultCode } from "./results.ts";
import { parseAbsoluteTarget, parseAuthority, type Target } from "./target.ts";

export interface Request {
  head: RequestHead;
  target: Target;
  /** origin-form path for absolute-form requests; null for CONNECT. */
  path: string | null;
  authority: string;
  framing: BodyFraming;
  keepAlive: boolean;
  isHead: boolean;
}

/** Hop-by-hop fields (RFC 9110 §7.6.1) plus the proxy's own; never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "upgrade",
]);

const NONE: ReadonlySet<string> = new Set();

/** Checks target and framing of a parsed head; an error carries the result code to answer with. */
export function toRequest(head: RequestHead): Request | { code: ResultCode; message: string } {
  const connection = [...tokens(head.headers.get("connection")), ...tokens(head.headers.get("proxy-connection"))];
  const keepAlive = head.version === "1.1" ? !connection.includes("close") : connection.includes("keep-alive");
  if (head.method === "CONNECT") {
    const target = parseAuthority(head.target);
    if (!target) return { code: "bad_target", message: `bad CONNECT target "${head.target.slice(0, 100)}"` };
    return { head, target, path: null, authority: head.target, framing: { kind: "none" }, keepAlive, isHead: false };
  }
  const t = parseAbsoluteTarget(head.target);
  if (t === "unsupported") return { code: "unsupported", message: "only http:// URLs (use CONNECT for https)" };
  if (t === null) return { code: "bad_request", message: "a proxy request needs an absolute http:// URL" };
  const framing = bodyFraming(head.headers, true);
  if (typeof framing === "string") return { code: "bad_request", message: framing };
  return { head, target: t, path: t.path, authority: t.authority, framing, keepAlive, isHead: head.method === "HEAD" };
}

export interface ResponsePlan {
  framing: BodyFraming;
  /** The origin connection may carry the next request. */
  upstreamKeepAlive: boolean;
  /** The client connection stays open after this response. */
  clientKeepAlive: boolean;
  /** The head can go to the client byte for byte (no connection fields to rewrite). */
  passThrough: boolean;
}

/** How to relay a final response, or why it cannot be (ambiguous framing). */
export function planResponse(req: Request, res: ResponseHead, clientWantsKeepAlive: boolean): ResponsePlan | { error: string } {
  const noBody = req.isHead || res.status === 204 || res.status === 304;
  const framing = noBody ? ({ kind: "none" } as const) : bodyFraming(res.headers, false);
  if (typeof framing === "string") return { error: framing };
  const conn = tokens(res.headers.get("connection"));
  const upstreamKeeps = res.version === "1.1" ? !conn.includes("close") : conn.includes("keep-alive");
  const clientKeepAlive = clientWantsKeepAlive && framing.kind !== "close";
  return {
    framing,
    upstreamKeepAlive: upstreamKeeps && framing.kind !== "close",
    clientKeepAlive,
    // Most responses need no rewriting: then head and body go out as received, in one write.
    passThrough:
      clientKeepAlive &&
      req.head.version === "1.1" &&
      res.headers.get("connection") === undefined &&
      res.headers.get("keep-alive") === undefined &&
      res.headers.get("proxy-connection") === undefined,
  };
}

/** Request head for the origin: origin-form target, hop-by-hop fields removed, Host ensured. */
export function buildUpstreamHead(req: Request): Buffer {
  const h = req.head;
  const connection = h.headers.get("connection");
  const named = connection === undefined ? NONE : new Set(tokens(connection));
  let out = `${h.method} ${req.path} HTTP/${h.version}\r\n`;
  let hasHost = false;
  for (const [name, value] of h.headers.list) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    if (lower === "host") hasHost = true;
    out += `${name}: ${value}\r\n`;
  }
  if (!hasHost) out = out.replace("\r\n", `\r\nHost: ${req.authority}\r\n`);
  if (!req.keepAlive && h.version === "1.1") out += "Connection: close\r\n";
  return Buffer.from(out + "\r\n", "latin1");
}

/** Response head for the client with our own connection management. */
export function buildClientHead(res: ResponseHead, keepAlive: boolean, clientVersion: string): Buffer {
  const named = new Set(tokens(res.headers.get("connection")));
  let out = `HTTP/${res.version} ${res.status} ${res.reason}\r\n`;
  for (const [name, value] of res.headers.list) {
    const lower = name.toLowerCase();
    if (lower === "connection" || lower === "keep-alive" || lower === "proxy-connection" || named.has(lower)) continue;
    out += `${name}: ${value}\r\n`;
  }
  if (!keepAlive) out += "Connection: close\r\n";
  else if (clientVersion === "1.0") out += "Connection: keep-alive\r\n";
  return Buffer.from(out + "\r\n", "latin1");
}

