/**
 * Small wrappers over iproute2 and /proc for the lab (src/sim may not import src/net, so this is its own).
 * Everything that changes many objects goes through `ip -batch` so that 100 modems cost a handful of processes.
 */
import { existsSync, readFileSync } from "node:fs";
import { AppError } from "../../lib/errors.ts";
import { run } from "../../lib/exec.ts";

const IP = "ip";

/** Runs `ip [-n ns] -batch -` with the given lines; stops at the first failing line and throws LAB_IP_FAILED. */
export async function ipBatch(lines: string[], ns?: string): Promise<void> {
  if (lines.length === 0) return;
  for (const line of lines) {
    // ip splits batch lines like a shell; nothing the lab builds contains these characters.
    if (/[\n\r\\"';#]/.test(line)) throw new AppError("LAB_IP_FAILED", `unsafe ip batch line: ${JSON.stringify(line)}`);
  }
  const argv = ns ? [IP, "-n", ns, "-batch", "-"] : [IP, "-batch", "-"];
  const res = await run(argv, { input: `${lines.join("\n")}\n`, check: false, timeoutMs: 60_000 });
  if (res.code !== 0) {
    const failed = /Command failed -:(\d+)/.exec(res.stderr);
    const line = failed ? lines[Number(failed[1]) - 1] : undefined;
    throw new AppError("LAB_IP_FAILED", `ip ${ns ? `-n ${ns} ` : ""}-batch failed${line ? ` at "${line}"` : ""}: ${res.stderr.trim()}`, {
      ns, line, stderr: res.stderr,
    });
  }
}

/** Runs argv inside namespace `ns` (`ip netns exec`), throwing LAB_EXEC_FAILED on a non-zero exit. */
export async function nsRun(ns: string, argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const res = await run([IP, "netns", "exec", ns, ...argv], { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000, check: false });
  if (res.code !== 0) {
    throw new AppError("LAB_EXEC_FAILED", `in ${ns}: ${argv.join(" ")} exited ${res.code}: ${res.stderr.trim()}`, { ns, argv });
  }
  return res.stdout;
}

/** Names of all named network namespaces (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const res = await run([IP, "-json", "netns", "list"], { check: false });
  // With no namespaces at all, old iproute2 prints nothing instead of "[]".
  if (res.code !== 0 || !res.stdout.trim()) return [];
  return (JSON.parse(res.stdout) as Array<{ name: string }>).map((n) => n.name);
}

/** Interface names of the root namespace. */
export async function listRootLinks(): Promise<string[]> {
  const res = await run([IP, "-json", "link", "show"], { check: false });
  if (res.code !== 0 || !res.stdout.trim()) return [];
  return (JSON.parse(res.stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
}

/** IPv4 prefixes in use in the root namespace (addresses and routes), to keep the LAN subnet clear of them. */
export async function rootIpv4Prefixes(): Promise<Array<{ ip: string; prefix: number }>> {
  const out: Array<{ ip: string; prefix: number }> = [];
  const addrs = await run([IP, "-json", "-4", "addr", "show"], { check: false });
  if (addrs.code === 0 && addrs.stdout.trim()) {
    for (const link of JSON.parse(addrs.stdout) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>) {
      for (const a of link.addr_info ?? []) out.push({ ip: a.local, prefix: a.prefixlen });
    }
  }
  const routes = await run([IP, "-json", "-4", "route", "show", "table", "all"], { check: false });
  if (routes.code === 0 && routes.stdout.trim()) {
    for (const r of JSON.parse(routes.stdout) as Array<{ dst: string }>) {
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(r.dst);
      // Default routes overlap everything by definition and do not make a subnet unusable.
      if (m) out.push({ ip: m[1]!, prefix: m[2] ? Number(m[2]) : 32 });
    }
  }
  return out;
}

/** PIDs of the processes whose network namespace is `ns` (`ip netns pids`). */
export async function nsPids(ns: string): Promise<number[]> {
  const res = await run([IP, "netns", "pids", ns], { check: false });
  if (res.code !== 0) return [];
  return res.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 1);
}

/** True while `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/pid/stat); tells a reused pid from the original. */
export function pidStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. */
export async function killPids(pids: number[], graceMs = 1000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await Bun.sleep(20);
    left = left.filter(pidAlive);
  }
  for (const pid of left) signal(pid, "SIGKILL");
  const killDeadline = Date.now() + 2000;
  while (left.length > 0 && Date.now() < killDeadline) {
    await Bun.sleep(10);
    left = left.filter(pidAlive);
  }
}

/** True when we can build namespaces: root and iproute2 present. */
export function canBuildLab(): boolean {
  return process.getuid?.() === 0 && Bun.which(IP) !== null;
}

/** Path of dnsmasq: PATH first, then Debian's location (root's PATH may lack /usr/sbin under some runners). */
export function dnsmasqPath(): string | undefined {
  return Bun.which("dnsmasq") ?? (existsSync("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : undefined);
}

export function nftPath(): string | undefined {
  return Bun.which("nft") ?? (existsSync("/usr/sbin/nft") ? "/usr/sbin/nft" : undefined);
}
