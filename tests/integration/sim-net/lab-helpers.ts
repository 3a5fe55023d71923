/**
 * What the lab tests do inside the box namespace, standing in for the production code of issue 5: raise the wwan
 * link, run the real busybox udhcpc, and route a modem's address through its link like the routing reconciler does
 * (src/net/routing-plan.ts: default dev wwanN in table T, an unreachable guard at a worse metric, a from-rule,
 * ignore_routes_with_linkdown=1 on the link).
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../../src/lib/exec.ts";

export interface ExecOut {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs argv inside namespace `ns`; never throws on a non-zero exit. */
export async function inNs(ns: string, argv: string[], timeoutMs = 20_000): Promise<ExecOut> {
  const t0 = performance.now();
  const r = await run(["ip", "netns", "exec", ns, ...argv], { check: false, timeoutMs });
  return { ...r, ms: performance.now() - t0 };
}

/** A udhcpc script that records the lease (KEY=VALUE lines) and configures only the address and MTU. */
export function writeUdhcpcScript(dir: string): string {
  const path = join(dir, "udhcpc.sh");
  writeFileSync(path, `#!/bin/sh
# Records what the carrier handed out; never touches routes or resolv.conf (the reconciler owns routing).
out="${dir}/lease-$interface"
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew)
    printf 'event=%s\\nip=%s\\nmask=%s\\nsubnet=%s\\nrouter=%s\\ndns=%s\\nmtu=%s\\nlease=%s\\n' \\
      "$1" "$ip" "$mask" "$subnet" "$router" "$dns" "$mtu" "$lease" > "$out"
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    ;;
esac
exit 0
`);
  chmodSync(path, 0o755);
  return path;
}

export function readLease(dir: string, ifname: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(dir, `lease-${ifname}`), "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** `udhcpc -q -f -n` on the box's wwan link: quit after the lease, foreground, fail when nobody answers. */
export async function dhcp(boxNs: string, ifname: string, script: string, tries = 3): Promise<ExecOut> {
  await inNs(boxNs, ["ip", "link", "set", "dev", ifname, "up"]);
  return inNs(boxNs, ["udhcpc", "-q", "-f", "-n", "-t", String(tries), "-T", "1", "-i", ifname, "-s", script]);
}

/** Routes `ip` through `ifname` in table `table`, as the reconciler would (with or without the gateway). */
export async function routeModem(boxNs: string, o: { ifname: string; ip: string; gateway?: string; table: number; guard?: boolean }): Promise<void> {
  const via = o.gateway ? ` via ${o.gateway} onlink` : "";
  const lines = [
    `route replace default${via} dev ${o.ifname} table ${o.table} metric 100`,
    ...(o.guard === false ? [] : [`route replace unreachable default table ${o.table} metric 4000`]),
    `rule add priority ${1000 + o.table} from ${o.ip}/32 lookup ${o.table}`,
  ];
  await run(["ip", "-n", boxNs, "-batch", "-"], { input: `${lines.join("\n")}\n` });
  await run(["ip", "netns", "exec", boxNs, "sysctl", "-q", "-w", `net.ipv4.conf.${o.ifname}.ignore_routes_with_linkdown=1`]);
}

/** Removes the from-rule of a previous address (after a reconnect moved the modem to a new one). */
export async function unrouteAddress(boxNs: string, ip: string, table: number): Promise<void> {
  await run(["ip", "-n", boxNs, "rule", "del", "priority", String(1000 + table), "from", `${ip}/32`], { check: false });
}

/** GET echo /ip from the box, bound to `bindIp` (or unbound: the leak path). */
export async function echoIp(boxNs: string, url: string, bindIp?: string, tag = ""): Promise<ExecOut> {
  const bind = bindIp ? ["--interface", bindIp] : [];
  return inNs(boxNs, ["curl", "-sS", "--max-time", "5", ...bind, `${url}/ip${tag ? `?t=${tag}` : ""}`]);
}
