/**
 * Readers for the lab's logs (pure parsers + file readers), for tests that must prove where traffic went.
 */
import { readFileSync } from "node:fs";
import type { EchoLogEntry } from "./echo-server.ts";

export type { EchoLogEntry } from "./echo-server.ts";

export interface DnsQueryEntry {
  /** syslog-style timestamp as dnsmasq wrote it ("Nov 25 18:58:19"). */
  ts: string;
  /** Source address of the query. */
  src: string;
  srcPort: number;
  /** "A", "AAAA", "TXT", ... */
  type: string;
  name: string;
}

export interface DhcpEventEntry {
  ts: string;
  /** "DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK", "DHCPNAK", "DHCPRELEASE". */
  event: string;
  /** Carrier-side interface ("m3" = modem 3's link). */
  iface: string;
  ip?: string;
  mac?: string;
}

// log-queries=extra: "Nov 25 18:58:19 dnsmasq[17370]: 5 100.64.0.2/41234 query[A] echo.lab from 100.64.0.2"
const QUERY_RE = /^(\w{3} [ \d]\d \d\d:\d\d:\d\d) dnsmasq\[\d+\]: \d+ ([\d.]+)\/(\d+) query\[([A-Za-z0-9]+)\] (\S+) from [\d.]+$/;
// "Nov 25 18:58:19 dnsmasq-dhcp[17370]: DHCPACK(m0) 100.64.0.4 02:00:00:00:00:01 " (extra: a serial before it)
const DHCP_RE = /^(\w{3} [ \d]\d \d\d:\d\d:\d\d) dnsmasq-dhcp\[\d+\]: (?:\d+ )?(DHCP[A-Z]+)\(([^)]+)\)(?: (\d+\.\d+\.\d+\.\d+))?(?: ([0-9a-f:]{17}))?/;

/** DNS queries in a dnsmasq log (other lines are skipped). */
export function parseDnsLog(text: string): DnsQueryEntry[] {
  const out: DnsQueryEntry[] = [];
  for (const line of text.split("\n")) {
    const m = QUERY_RE.exec(line.trimEnd());
    if (m) out.push({ ts: m[1]!, src: m[2]!, srcPort: Number(m[3]), type: m[4]!, name: m[5]! });
  }
  return out;
}

/** DHCP events in a dnsmasq log. */
export function parseDhcpLog(text: string): DhcpEventEntry[] {
  const out: DhcpEventEntry[] = [];
  for (const line of text.split("\n")) {
    const m = DHCP_RE.exec(line);
    if (m) out.push({ ts: m[1]!, event: m[2]!, iface: m[3]!, ip: m[4], mac: m[5] });
  }
  return out;
}

/** Echo server entries in JSON-lines text; a torn or foreign line is skipped, not fatal. */
export function parseEchoLog(text: string): EchoLogEntry[] {
  const out: EchoLogEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Partial<EchoLogEntry>;
      if (typeof e.src === "string" && typeof e.path === "string") {
        out.push({ ts: String(e.ts), src: e.src, method: String(e.method), path: e.path });
      }
    } catch {
      // a line being written right now
    }
  }
  return out;
}

function readText(path: string | undefined): string {
  if (!path) return "";
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export const readEchoLog = (path: string | undefined): EchoLogEntry[] => parseEchoLog(readText(path));
export const readDnsLog = (path: string | undefined): DnsQueryEntry[] => parseDnsLog(readText(path));
export const readDhcpLog = (path: string | undefined): DhcpEventEntry[] => parseDhcpLog(readText(path));
