/**
 * The per-modem input of the 3proxy renderer, and its validation. Everything that ends up in a 3proxy config line is
 * checked here, because 3proxy has no quoting for most fields and exits 0 on a config error (3proxy.md §2): a stray
 * space or colon would silently break a whole modem's port.
 */
import { isIP } from "node:net";
import { AppError } from "../../lib/errors.ts";

export interface ThreeProxyUser {
  name: string;
  /** Clear-text password (3proxy type CL). Exactly one of password/hash. */
  password?: string;
  /** crypt(3)-style hash such as `$1$salt$digest` (3proxy type CR). */
  hash?: string;
}

export interface ThreeProxyQuota {
  user: string;
  /** in = from the server (download), out = from the client (upload), all = both. */
  dir: "in" | "out" | "all";
  period: "D" | "W" | "M";
  mb: number;
  /**
   * 3proxy keys its counter file by this rule number, so it must stay the same for the same quota across renders
   * (a database id is ideal). Defaults to the position in the list plus one.
   */
  id?: number;
}

export interface ThreeProxyBandwidth {
  user: string;
  /** in = download (bandlimin), out = upload (bandlimout). */
  dir: "in" | "out";
  bps: number;
}

export interface ThreeProxyPaths {
  cfg: string;
  passwd: string;
  log: string;
  counter: string;
  pid: string;
}

/** One modem's proxy: what `renderThreeProxyConfig` turns into `<imei>.cfg` and `<imei>.passwd`. */
export interface ThreeProxyModem {
  /** Instance name (3proxy@<imei>.service); digits for a real IMEI, [A-Za-z0-9_-] allowed for labs. */
  imei: string;
  /** Address the port listens on (-i). Not the modem's address: 3proxy retries a missing -i forever (3proxy.md §3). */
  listen: string;
  port: number;
  /** The modem's WAN address (-e): outgoing connections bind to it and policy routing sends them via the modem. */
  outAddress: string;
  /**
   * The modem's carrier DNS servers. At least one. 3proxy never asks them directly (its nserver is the modem's
   * dns-relay, relayNserver(port)); the 3proxy backend hands them to the relay, which asks them from outAddress.
   */
  dns: string[];
  users: ThreeProxyUser[];
  /** Networks allowed without a password (CIDR or a single address). */
  whitelist: string[];
  maxconn: number;
  quotas?: ThreeProxyQuota[];
  bandwidth?: ThreeProxyBandwidth[];
  paths: ThreeProxyPaths;
}

const INSTANCE_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Same alphabet as proxy_users.username in the schema; excludes ACL separators (",", "*") and everything 3proxy parses. */
const USERNAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
/** crypt(3) "$id$salt$digest": no characters that would end the entry or the line. */
const HASH_RE = /^\$[0-9a-z]{1,2}\$[A-Za-z0-9./]{0,64}\$[A-Za-z0-9./]{1,128}$/;
const PATH_RE = /^\/[A-Za-z0-9._\/@+-]{1,255}$/;

function invalid(field: string, message: string, value?: unknown): AppError {
  return new AppError("THREEPROXY_INVALID", `${field}: ${message}`, value === undefined ? { field } : { field, value });
}

/** Why a clear-text password cannot go into a 3proxy users entry, or null when it can. */
export function passwordProblem(password: string): string | null {
  if (password.length === 0) return "is empty";
  if (password.length > 128) return "is longer than 128 characters";
  const named: Array<[RegExp, string]> = [
    [/ /, "a space"], [/\t/, "a tab"], [/[\r\n]/, "a line break"], [/"/, "a double quote"], [/'/, "a single quote"],
    [/:/, "a colon"], [/\\/, "a backslash"], [/#/, "a '#'"],
  ];
  for (const [re, what] of named) if (re.test(password)) return `contains ${what}, which would break 3proxy's users syntax`;
  if (/[^\x21-\x7e]/.test(password)) return "contains a control or non-ASCII character, which 3proxy cannot take";
  return null;
}

function checkIp(field: string, value: string): void {
  if (typeof value !== "string" || isIP(value) === 0) throw invalid(field, `${JSON.stringify(value)} is not an IP address`, value);
}

function checkCidr(field: string, value: string): void {
  const [addr, bits, extra] = typeof value === "string" ? value.split("/") : [];
  const family = addr ? isIP(addr) : 0;
  const max = family === 4 ? 32 : 128;
  const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
  if (family === 0 || !okBits || extra !== undefined) {
    throw invalid(field, `${JSON.stringify(value)} is not an address or CIDR network`, value);
  }
}

function checkInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, value);
  }
}

/** Throws AppError THREEPROXY_INVALID (details.field names the offending field) on anything 3proxy could misread. */
export function validateThreeProxyModem(m: ThreeProxyModem): void {
  if (typeof m.imei !== "string" || !INSTANCE_RE.test(m.imei)) {
    throw invalid("imei", "must be 1-64 characters of A-Z a-z 0-9 _ -", m.imei);
  }
  checkIp("listen", m.listen);
  checkInt("port", m.port, 1, 65535);
  checkIp("outAddress", m.outAddress);
  if (!Array.isArray(m.dns) || m.dns.length === 0) {
    throw invalid("dns", "needs at least one of the modem's DNS servers (the dns-relay has nothing to ask otherwise)");
  }
  m.dns.forEach((ip, i) => checkIp(`dns[${i}]`, ip));
  checkInt("maxconn", m.maxconn, 1, 100_000);
  m.whitelist.forEach((cidr, i) => checkCidr(`whitelist[${i}]`, cidr));

  const names = new Set<string>();
  m.users.forEach((u, i) => {
    const field = `users[${i}]`;
    if (typeof u.name !== "string" || !USERNAME_RE.test(u.name)) {
      throw invalid(`${field}.name`, "must be 1-64 characters of A-Z a-z 0-9 . _ - (no spaces, quotes, colons or commas)", u.name);
    }
    if (names.has(u.name)) throw invalid(`${field}.name`, `duplicate user ${u.name}`, u.name);
    names.add(u.name);
    if ((u.password === undefined) === (u.hash === undefined)) {
      throw invalid(field, `user ${u.name} needs exactly one of password (CL) or hash (CR)`);
    }
    if (u.password !== undefined) {
      const problem = passwordProblem(u.password);
      // Never echo the password itself into the error.
      if (problem) throw invalid(`${field}.password`, `password of ${u.name} ${problem}`);
    }
    if (u.hash !== undefined && !HASH_RE.test(u.hash)) {
      throw invalid(`${field}.hash`, `hash of ${u.name} is not a crypt(3) string like $1$salt$digest`);
    }
  });

  const ids = new Set<number>();
  (m.quotas ?? []).forEach((q, i) => {
    const field = `quotas[${i}]`;
    if (!names.has(q.user)) throw invalid(`${field}.user`, `unknown user ${JSON.stringify(q.user)}`, q.user);
    if (!["in", "out", "all"].includes(q.dir)) throw invalid(`${field}.dir`, "must be in, out or all", q.dir);
    if (!["D", "W", "M"].includes(q.period)) throw invalid(`${field}.period`, "must be D, W or M", q.period);
    checkInt(`${field}.mb`, q.mb, 1, 1_000_000_000);
    const id = q.id ?? i + 1;
    checkInt(`${field}.id`, id, 1, 1_000_000_000);
    if (ids.has(id)) throw invalid(`${field}.id`, `duplicate counter number ${id}`, id);
    ids.add(id);
  });
  (m.bandwidth ?? []).forEach((b, i) => {
    const field = `bandwidth[${i}]`;
    if (!names.has(b.user)) throw invalid(`${field}.user`, `unknown user ${JSON.stringify(b.user)}`, b.user);
    if (!["in", "out"].includes(b.dir)) throw invalid(`${field}.dir`, "must be in or out", b.dir);
    checkInt(`${field}.bps`, b.bps, 1000, 100_000_000_000);
  });

  for (const [key, path] of Object.entries(m.paths ?? {})) {
    if (typeof path !== "string" || !PATH_RE.test(path) || path.split("/").includes("..")) {
      throw invalid(`paths.${key}`, "must be an absolute path without spaces, quotes or '..'", path);
    }
  }
  for (const key of ["cfg", "passwd", "log", "counter", "pid"] as const) {
    if (!m.paths?.[key]) throw invalid(`paths.${key}`, "is required");
  }
}
