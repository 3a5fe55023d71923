/**
 * Doctor checks of the running appliance: policy routing matches the database, proxy ports listen, the data plane
 * answers, PostgreSQL allows enough connections for the fleet. The database ones read what the data-plane router
 * would apply (dataPlaneModems) and compare with what the kernel and the engine show.
 */
import { join } from "node:path";
import type { Config } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import { dataPlaneModems, type DataPlaneModem } from "../../db/queries/data-plane.ts";
import { planRouting } from "../../net/routing-plan.ts";
import { RoutingReconciler } from "../../net/routing-reconciler.ts";
import type { ModemRouting } from "../../net/routing-types.ts";
import { probeDnsRelay } from "../../proxy/dns-relay/probe.ts";
import { relayNserver } from "../../proxy/dns-relay/address.ts";
import { engineRequest } from "../../proxy/supervisor/stats-client.ts";
import { probeHostFor, probeTcp } from "../../proxy/supervisor/tcp-probe.ts";
import type { CheckResult } from "../doctor.ts";

/** States in which the router keeps routes (data-plane-router.ts). */
const ROUTED = new Set(["online", "rotating", "healing", "degraded", "connecting"]);

export function desiredRouting(modems: DataPlaneModem[]): ModemRouting[] {
  return modems
    .filter((m) => ROUTED.has(m.state) && m.wan_ip && m.ifname && m.route_table !== null)
    .map((m) => ({
      imei: m.imei, ifname: m.ifname!, address: m.wan_ip!, table: m.route_table!, mtu: m.mtu ?? 1500, dns: m.dns ?? [],
      gateway: ((m.data_session ?? {}) as { gateway?: string }).gateway,
    }));
}

/** Plans what the reconciler would change now: nothing to change = consistent. Read-only. */
export async function checkRouting(config: Config, modems: DataPlaneModem[], reconciler?: Pick<RoutingReconciler, "readState" | "owned">): Promise<CheckResult> {
  const rec = reconciler ?? new RoutingReconciler({
    netns: config.net.netns || undefined,
    owned: { priorityMin: config.net.rule_priority_min, priorityMax: config.net.rule_priority_max, tableMin: config.proxy.table_min, tableMax: config.proxy.table_max },
  });
  let state;
  try {
    state = await rec.readState();
  } catch (error) {
    return { name: "routing rules and tables", level: "warn", detail: `cannot read ip rules/routes: ${(error as Error).message}` };
  }
  const desired = desiredRouting(modems);
  const plan = planRouting(state, desired, rec.owned);
  const ownedRules = state.rules.filter((r) => r.protocol === rec.owned.protocol && r.priority >= rec.owned.priorityMin && r.priority <= rec.owned.priorityMax);
  if (plan.commands.length === 0) {
    return { name: "routing rules and tables", level: "ok", detail: `${desired.length} routed modem(s), ${ownedRules.length} owned rule(s), nothing to repair` };
  }
  const sample = plan.commands.slice(0, 3).map((c) => `${c.op} ${c.line}`).join("; ");
  return {
    name: "routing rules and tables", level: "fail",
    detail: `${plan.commands.length} difference(s) from the database (the control plane repairs them within a tick when it runs): ${sample}`,
  };
}

/** Every port of a modem the data plane should serve accepts TCP connections. */
/** Modems whose proxy port should be serving now. */
const withLivePort = (modems: DataPlaneModem[]) =>
  modems.filter((m) => (m.state === "online" || m.state === "degraded") && m.proxy_enabled && m.proxy_port !== null);

export async function checkProxyPorts(config: Config, modems: DataPlaneModem[], probe = probeTcp): Promise<CheckResult> {
  const live = withLivePort(modems);
  if (live.length === 0) return { name: "proxy ports listening", level: "warn", detail: "no online modem with a port" };
  const host = probeHostFor(config.proxy.listen);
  const dead: string[] = [];
  await Promise.all(live.map(async (m) => {
    if (!(await probe(host, m.proxy_port!, 1000))) dead.push(`${m.proxy_port} (${m.imei})`);
  }));
  if (dead.length === 0) return { name: "proxy ports listening", level: "ok", detail: `${live.length}/${live.length} on ${host}` };
  return { name: "proxy ports listening", level: "fail", detail: `${dead.length}/${live.length} not accepting on ${host}: ${dead.sort().slice(0, 6).join(", ")}` };
}

/** The built-in engine answers on its stats socket; with 3proxy the port probes above are the liveness check. */
export async function checkDataPlane(config: Config): Promise<CheckResult> {
  if (config.proxy.engine === "3proxy") {
    return { name: "data plane", level: "ok", detail: "3proxy: one instance per modem, checked through its port (see proxy ports listening)" };
  }
  const socket = join(config.paths.runtime_dir, "proxy-stats.sock");
  const h = (await engineRequest(socket, "/healthz", 2000)) as { ok?: boolean; version?: unknown; uptimeMs?: number; listening?: number; ports?: number; configError?: string | null } | null;
  if (!h) return { name: "data plane", level: "fail", detail: `no answer on ${socket} (systemctl status lteproxy-proxy)` };
  const detail = `config ${String(h.version)}, up ${Math.round((h.uptimeMs ?? 0) / 1000)} s, ${h.listening}/${h.ports} ports listening` +
    (h.configError ? `; config refused: ${h.configError}` : "");
  return { name: "data plane", level: h.ok ? "ok" : "warn", detail };
}

/**
 * 3proxy engine: each live modem's DNS relay (lteproxy-dns-relay.service), which its 3proxy's nserver points at,
 * answers through the modem. Silent relay: fail. SERVFAIL: the relay runs but got no answer over the modem (warn: the
 * modem's link or carrier DNS, not lteproxy). The built-in engine resolves through the modems itself.
 */
export async function checkDnsRelay(config: Config, modems: DataPlaneModem[], probe = probeDnsRelay): Promise<CheckResult> {
  const name = "DNS relay";
  if (config.proxy.engine !== "3proxy") return { name, level: "ok", detail: "built-in engine: it resolves through each modem itself" };
  const live = withLivePort(modems);
  if (live.length === 0) return { name, level: "warn", detail: "no online modem with a port" };
  const silent: string[] = [];
  const servfail: string[] = [];
  await Promise.all(live.map(async (m) => {
    const rcode = await probe(m.proxy_port!);
    if (rcode === null) silent.push(`${relayNserver(m.proxy_port!)} (${m.imei})`);
    else if (rcode === 2) servfail.push(`${m.proxy_port} (${m.imei})`);
  }));
  const list = (a: string[]) => a.sort().slice(0, 6).join(", ");
  if (silent.length) return { name, level: "fail", detail: `${silent.length}/${live.length} relays silent: ${list(silent)} (systemctl status lteproxy-dns-relay)` };
  if (servfail.length) return { name, level: "warn", detail: `${servfail.length}/${live.length} got no answer through the modem: ${list(servfail)}` };
  return { name, level: "ok", detail: `${live.length}/${live.length} answer through their modem` };
}

/**
 * Every node keeps a pool of database.max_connections plus one LISTEN connection, and CLI commands open a few more;
 * superuser_reserved_connections are not available to lteproxy.
 */
export async function checkMaxConnections(config: Config, sql: Sql): Promise<CheckResult> {
  const r = await sql`
    select current_setting('max_connections')::int as max, current_setting('superuser_reserved_connections')::int as reserved,
           (select count(*)::int from pg_stat_activity) as used,
           (select count(*)::int from nodes where last_heartbeat > now() - interval '1 day') as nodes`;
  const { max, reserved, used, nodes } = r[0] as { max: number; reserved: number; used: number; nodes: number };
  const fleet = Math.max(1, nodes);
  const need = fleet * (config.database.max_connections + 1 + 3) + reserved;
  const detail = `max_connections ${max} (${reserved} reserved), ${used} in use; ${fleet} node(s) × (pool ${config.database.max_connections} + 4) = ${need - reserved} needed`;
  if (max < need) return { name: "PostgreSQL connections", level: "fail", detail: `${detail}: raise max_connections` };
  if (used > 0.8 * (max - reserved)) return { name: "PostgreSQL connections", level: "warn", detail: `${detail}: over 80% in use` };
  return { name: "PostgreSQL connections", level: "ok", detail };
}
