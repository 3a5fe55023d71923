/**
 * Where a client wants to go, from an HTTP request target or a SOCKS5 address. Pure.
 */
import { isIP } from "node:net";
import { normalizeHostname } from "./dns-message.ts";

export interface Target {
  /** An IP literal (no brackets) or a normalized hostname. */
  host: string;
  port: number;
}

/** "host:port" for logs and upstream reuse; IPv6 in brackets. */
export function formatTarget(t: Target): string {
  return isIP(t.host) === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** Validates a host from the wire: IP literal (IPv6 without brackets) or a DNS name. */
export function normalizeHost(host: string): string | null {
  if (isIP(host) !== 0) return host.toLowerCase();
  return normalizeHostname(host);
}

/**
 * "example.com:443", "[2001:db8::1]:8080", or without a port when `defaultPort` is given.
 * Null when malformed (the client gets 400).
 */
export function parseAuthority(authority: string, defaultPort?: number): Target | null {
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return null;
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return null;
    portText = rest === "" ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return null;
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0 && authority.indexOf(":") !== colon) return null; // bare IPv6 without brackets
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
  }
  if (port === undefined || port < 1 || port > 65535) return null;
  const h = normalizeHost(host);
  return h === null ? null : { host: h, port };
}

export interface AbsoluteTarget extends Target {
  /** The authority as the client wrote it (for a missing Host header). */
  authority: string;
  /** origin-form: path and query, at least "/". */
  path: string;
}

/**
 * `http://host[:port]/path?q` → target + origin-form path. Userinfo is dropped. Returns
 * "unsupported" for other schemes (https:// without CONNECT), null when malformed.
 */
export function parseAbsoluteTarget(target: string): AbsoluteTarget | "unsupported" | null {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(target);
  if (!m) return null;
  if (m[1].toLowerCase() !== "http") return "unsupported";
  const at = m[2].lastIndexOf("@");
  const authority = at >= 0 ? m[2].slice(at + 1) : m[2];
  const t = parseAuthority(authority, 80);
  if (!t) return null;
  let path = m[3];
  if (path === "") path = "/";
  else if (path.startsWith("?")) path = "/" + path;
  return { ...t, authority, path };
}
