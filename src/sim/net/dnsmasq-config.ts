/**
 * The carrier's dnsmasq (pure renderers): DHCP on every modem link, DNS for the lab names, one process per lab.
 * Leases are static reservations (MAC of the box-side wwan -> the session's private address) in a hosts file that
 * sessionUp/sessionDown rewrite and dnsmasq re-reads on SIGHUP; the ranges are "static" so a link with no live
 * session answers nothing ("no address available"), like a modem whose data call is down.
 */
import { CARRIER_DNS, ECHO_HOST, ECHO_IP, linkPlan, prefixToMask } from "./address-plan.ts";

export interface DnsmasqPaths {
  logPath: string;
  leasePath: string;
  hostsPath: string;
  pidPath: string;
}

export interface DnsmasqOptions extends DnsmasqPaths {
  count: number;
  mtu: number;
  leaseSeconds: number;
}

export function renderDnsmasqConf(o: DnsmasqOptions): string {
  const lines = [
    "# lteproxy lab carrier: generated, do not edit",
    // We run it ourselves with -k; running as root keeps the log and lease files writable (no privilege drop dance).
    "user=root",
    `pid-file=${o.pidPath}`,
    "no-resolv",
    "no-hosts",
    "no-poll",
    // Every query with its source address ("query[A] echo.lab from 100.64.0.2"), so tests can tell the link.
    `log-facility=${o.logPath}`,
    "log-queries=extra",
    `address=/${ECHO_HOST}/${ECHO_IP}`,
    // Everything else under .lab is NXDOMAIN here; other names have no upstream and get REFUSED.
    "local=/lab/",
    "dhcp-authoritative",
    // Static reservations only: no ping probe before offering (it would add seconds per lease).
    "no-ping",
    `dhcp-leasefile=${o.leasePath}`,
    `dhcp-hostsfile=${o.hostsPath}`,
    `dhcp-option=option:dns-server,${CARRIER_DNS.join(",")}`,
    // Sent even when not requested: busybox udhcpc asks for MTU only with -O mtu.
    `dhcp-option-force=option:mtu,${o.mtu}`,
  ];
  for (let i = 0; i < o.count; i++) {
    const p = linkPlan(i);
    lines.push(`dhcp-range=${p.hosts[0]},static,${prefixToMask(p.prefix)},${o.leaseSeconds}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The reservations file: one "mac,ip" line per live session. */
export function renderDhcpHosts(entries: Iterable<{ mac: string; ip: string }>): string {
  let out = "";
  for (const e of entries) out += `${e.mac},${e.ip}\n`;
  return out;
}
