/**
 * DHCP for the at-rmnet driver with busybox udhcpc (`udhcpc -q -f -n -i <if> -s <script>`, ec25.md §5.5).
 * The script we hand udhcpc only reports the lease as one JSON line; the driver applies it itself, exactly like the
 * qmi path, so both drivers leave the interface in the same state.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { run } from "../../lib/exec.ts";
import type { CommandRunner } from "../ip-command.ts";
import { isIpv4 } from "../routing-validate.ts";
import { maskToPrefix } from "./interface-config.ts";

export const LEASE_MARKER = "LTEPROXY_LEASE";

/**
 * The udhcpc script. Values are filtered to address characters first, so a hostile DHCP server cannot break the
 * JSON (udhcpc passes options through the environment verbatim).
 */
export const UDHCPC_SCRIPT = `#!/bin/sh
# Written by lteproxy. Reports the DHCP lease as one JSON line on stdout and changes nothing on the system.
f() { printf '%s' "$1" | tr -cd '0-9A-Za-z.:_ -'; }
case "$1" in
  bound|renew)
    printf '${LEASE_MARKER} {"event":"%s","interface":"%s","ip":"%s","subnet":"%s","router":"%s","dns":"%s","mtu":"%s","lease":"%s"}\\n' \\
      "$1" "$(f "$interface")" "$(f "$ip")" "$(f "$subnet")" "$(f "$router")" "$(f "$dns")" "$(f "$mtu")" "$(f "$lease")"
    ;;
esac
exit 0
`;

/** Writes the script into `dir` (mode 0755) unless it is already there unchanged. Returns its path. */
export async function ensureUdhcpcScript(dir: string): Promise<string> {
  const path = join(dir, "udhcpc-lease.sh");
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === UDHCPC_SCRIPT) return path;
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, UDHCPC_SCRIPT, { mode: 0o755 });
  await rename(tmp, path);
  return path;
}

export interface DhcpLease {
  address: string;
  prefix: number;
  gateway?: string;
  dns: string[];
  mtu?: number;
  leaseSeconds?: number;
}

/** Finds the last lease line in udhcpc's output and validates it. Pure. */
export function parseLeaseOutput(stdout: string): DhcpLease | null {
  const line = stdout.split("\n").reverse().find((l) => l.startsWith(`${LEASE_MARKER} `));
  if (!line) return null;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line.slice(LEASE_MARKER.length + 1)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const str = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string).trim() : "");
  if (!isIpv4(str("ip")) || !isIpv4(str("subnet"))) return null;
  let prefix: number;
  try {
    prefix = maskToPrefix(str("subnet"));
  } catch {
    return null;
  }
  const router = str("router").split(/\s+/).find(isIpv4);
  const mtu = /^\d+$/.test(str("mtu")) ? Number(str("mtu")) : undefined;
  const lease = /^\d+$/.test(str("lease")) ? Number(str("lease")) : undefined;
  return { address: str("ip"), prefix, gateway: router, dns: str("dns").split(/\s+/).filter(isIpv4), mtu, leaseSeconds: lease };
}

export interface UdhcpcOptions {
  /** udhcpc path (config net.udhcpc). */
  udhcpc?: string;
  run?: CommandRunner;
  /** Run inside this network namespace (`ip netns exec <ns> udhcpc …`). */
  netns?: string;
  /** Discover attempts and seconds between them (-t, -T). */
  tries?: number;
  pauseSeconds?: number;
}

/** Obtains one lease on `ifname` and exits (-q -f -n). Throws DHCP_NO_LEASE when none came. */
export async function obtainLease(ifname: string, script: string, opts: UdhcpcOptions = {}): Promise<DhcpLease> {
  const { udhcpc = "udhcpc", run: runner = run, netns, tries = 4, pauseSeconds = 2 } = opts;
  // -O mtu: udhcpc does not ask for option 26 by default, and servers only send what is asked for.
  const argv = [udhcpc, "-q", "-f", "-n", "-i", ifname, "-s", script, "-t", String(tries), "-T", String(pauseSeconds), "-O", "mtu"];
  const full = netns ? ["ip", "netns", "exec", netns, ...argv] : argv;
  // udhcpc's own bound: tries * pause, plus slack for the script and process start.
  const res = await runner(full, { check: false, timeoutMs: (tries * pauseSeconds + 10) * 1000 });
  const lease = parseLeaseOutput(res.stdout);
  if (!lease) {
    const tail = `${res.stderr}\n${res.stdout}`.trim().split("\n").slice(-3).join(" | ");
    throw new AppError("DHCP_NO_LEASE", `no DHCP lease on ${ifname} (udhcpc exited ${res.code}): ${tail}`, { ifname, exitCode: res.code });
  }
  return lease;
}
