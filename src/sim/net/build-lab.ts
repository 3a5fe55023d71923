/**
 * Builds the namespace topology of topology.ts and starts the lab's two servers. A fixed number of processes
 * whatever the modem count: 4 `ip -batch`, 4 sysctl, 2 nft, dnsmasq and the echo server.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import { AppError } from "../../lib/errors.ts";
import { lanSlotFor, lanSubnet, overlaps } from "./address-plan.ts";
import type { LabNames } from "./names.ts";
import { ipBatch, nsRun, rootIpv4Prefixes } from "./netns.ts";
import {
  boxLines, boxLinkLines, boxResolvConf, carrierLines, carrierLinkLines, carrierLinkSysctls, carrierNft, inetLines, inetNft, type LanAddressing, rootLines, sysctls,
} from "./topology.ts";

export interface LabPaths {
  dir: string;
  dnsmasqConf: string;
  dhcpHosts: string;
  leases: string;
  dnsmasqPid: string;
  dnsmasqStderr: string;
  dnsLog: string;
  echoLog: string;
  echoStderr: string;
}

export function labPaths(dir: string): LabPaths {
  return {
    dir,
    dnsmasqConf: join(dir, "dnsmasq.conf"),
    dhcpHosts: join(dir, "dhcp-hosts"),
    leases: join(dir, "dnsmasq.leases"),
    dnsmasqPid: join(dir, "dnsmasq.pid"),
    dnsmasqStderr: join(dir, "dnsmasq.stderr"),
    dnsLog: join(dir, "carrier-dns.log"),
    echoLog: join(dir, "echo.jsonl"),
    echoStderr: join(dir, "echo.stderr"),
  };
}

/** A LAN /30 that overlaps nothing configured in the root namespace (starting at the lab id's hash slot). */
export async function pickLanSubnet(labId: string): Promise<LanAddressing> {
  const used = await rootIpv4Prefixes();
  const start = lanSlotFor(labId);
  for (let k = 0; k < 16384; k++) {
    const s = lanSubnet(start + k);
    if (!used.some((u) => overlaps(u.ip, u.prefix, s.network, s.prefix))) return s;
  }
  throw new AppError("LAB_NO_LAN_SUBNET", "no free /30 left in 172.31.0.0/16 for the lab's LAN link");
}

async function setSysctls(ns: string, assignments: string[]): Promise<void> {
  if (assignments.length > 0) await nsRun(ns, ["sysctl", "-q", "-w", ...assignments]);
}

async function loadNft(ns: string, nft: string, ruleset: string): Promise<void> {
  await nsRun(ns, [nft, "-f", "-"], { input: ruleset });
}

/** Namespaces, links, addresses, routes, sysctls, NAT. Leaves the servers to the caller. */
export async function buildTopology(o: { names: LabNames; lan: LanAddressing; count: number; mtu: number; nft: string }): Promise<void> {
  const { names: n, lan, count, mtu } = o;
  await ipBatch(rootLines(n, lan));
  // Before the links exist, so that new interfaces inherit the "default" settings (IPv6 off).
  await Promise.all([
    setSysctls(n.boxNs, sysctls("box")),
    setSysctls(n.inetNs, sysctls("inet")),
    setSysctls(n.carrierNs, sysctls("carrier")),
  ]);
  await ipBatch([...boxLines(n, lan), ...boxLinkLines(n, 0, count, mtu)], n.boxNs);
  await ipBatch([...carrierLines(n), ...carrierLinkLines(0, count)], n.carrierNs);
  await ipBatch(inetLines(n), n.inetNs);
  await Promise.all([
    setSysctls(n.carrierNs, carrierLinkSysctls(0, count)),
    loadNft(n.carrierNs, o.nft, carrierNft(n)),
    loadNft(n.inetNs, o.nft, inetNft(n)),
  ]);
  // Without this file `ip netns exec` shows the host's resolv.conf, and udhcpc's default script would overwrite it.
  mkdirSync(`/etc/netns/${n.boxNs}`, { recursive: true });
  writeFileSync(`/etc/netns/${n.boxNs}/resolv.conf`, boxResolvConf());
}

/** Adds links from..to-1 to a built lab. */
export async function growTopology(o: { names: LabNames; from: number; to: number; mtu: number }): Promise<void> {
  const { names: n, from, to, mtu } = o;
  await ipBatch(boxLinkLines(n, from, to, mtu), n.boxNs);
  await ipBatch(carrierLinkLines(from, to), n.carrierNs);
  await setSysctls(n.carrierNs, carrierLinkSysctls(from, to));
}

/** The argv that runs echo-server.ts: this Bun on the source file, or the caller's command in a compiled binary. */
export function defaultEchoCommand(): string[] {
  const script = fileURLToPath(new URL("./echo-server.ts", import.meta.url));
  if (script.startsWith("/$bunfs")) {
    // A compiled binary has no source tree; main.ts must route `sim echo-server` to echoServerMain().
    return [process.execPath, "sim", "echo-server"];
  }
  return [process.execPath, "--smol", script];
}

/** Starts the echo server inside the inet ns on port 80 and waits for its ready line. */
export async function startEcho(o: { ns: string; command: string[]; paths: LabPaths; timeoutMs?: number }): Promise<Subprocess> {
  const proc = Bun.spawn(["ip", "netns", "exec", o.ns, ...o.command, "--host", "0.0.0.0", "--port", "80", "--log", o.paths.echoLog], {
    stdin: "ignore", stdout: "pipe", stderr: Bun.file(o.paths.echoStderr),
  });
  const reader = proc.stdout.getReader();
  let text = "";
  const timeout = Bun.sleep(o.timeoutMs ?? 10_000).then(() => "timeout" as const);
  while (!text.includes("\n")) {
    const r = await Promise.race([reader.read(), timeout]);
    if (r === "timeout" || r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  if (!text.includes('"ready":true')) {
    proc.kill("SIGKILL");
    const stderr = await Bun.file(o.paths.echoStderr).text().catch(() => "");
    throw new AppError("LAB_ECHO_FAILED", `echo server did not start in ${o.ns}: ${stderr.trim().slice(-500) || "no ready line"}`);
  }
  return proc;
}
