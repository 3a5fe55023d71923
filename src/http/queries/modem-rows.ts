/**
 * Panel reads of the modems table: the dashboard row (with traffic today and last rotation) and the modem page.
 * The dashboard query is one statement for every modem; "traffic today" is the modem's byte counter minus its
 * first health sample of the day (one index probe per modem via LATERAL), a counter reset counts from zero.
 */
import type { Sql } from "../../db/client.ts";

export interface DashboardRow {
  id: number;
  node_id: string;
  slot: string | null;
  imei: string;
  iccid: string | null;
  state: string;
  state_reason: string | null;
  state_since: Date;
  operator: string | null;
  rat: string | null;
  band: string | null;
  csq: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinr_raw: number | null;
  temperature: number | null;
  rtt_ms: number | null;
  wan_ip: string | null;
  public_ip: string | null;
  proxy_port: number | null;
  proxy_enabled: boolean;
  last_rotation_at: Date | null;
  traffic_today: number;
  updated_at: Date;
}

export interface ModemFilter {
  nodeId?: string | null;
  ids?: number[];
  /** Free text: slot, IMEI, operator, IPs, port. */
  q?: string;
  /** A state, or a group: "online" | "degraded" | "offline" | "failed" (see stateGroup). */
  state?: string;
  /** Table order (node, natural slot order; default) or, for live updates that go by row id, plain id order. */
  ordered?: boolean;
}

/** Dashboard counters group the fine-grained states into four words a technician scans for. */
export const STATE_GROUPS: Record<string, string[]> = {
  online: ["online"],
  degraded: ["degraded", "healing", "rotating", "connecting", "registered", "searching", "identifying", "detected"],
  offline: ["offline", "unplugged", "disabled"],
  failed: ["failed"],
};

export function stateGroup(state: string): "online" | "degraded" | "offline" | "failed" {
  for (const [g, states] of Object.entries(STATE_GROUPS)) if (states.includes(state)) return g as "online";
  return "degraded";
}

/** Natural order of USB path slots: "1-1.2" before "1-1.10" (numeric segments compared as numbers). */
const SLOT_ORDER_SQL = "(select array_agg(x::numeric order by ord) from regexp_split_to_table(m.slot, '[^0-9]+') with ordinality as t(x, ord) where x <> '')";

export async function dashboardRows(sql: Sql, f: ModemFilter = {}): Promise<DashboardRow[]> {
  const q = f.q?.trim().slice(0, 64);
  const like = q ? `%${q.replace(/[\\%_]/g, (c) => "\\" + c)}%` : null;
  const states = f.state ? (STATE_GROUPS[f.state] ?? [f.state]) : null;
  const SLOT_ORDER = sql.unsafe(SLOT_ORDER_SQL);
  return (await sql`
    select m.id, m.node_id, m.slot, m.imei, m.iccid, m.state, m.state_reason, m.state_since, m.operator, m.rat, m.band,
           m.csq, m.rsrp, m.rsrq, m.sinr_raw, m.temperature, m.rtt_ms, host(m.wan_ip) as wan_ip,
           host(m.public_ip) as public_ip, m.proxy_port, m.proxy_enabled, m.last_rotation_at, m.updated_at,
           greatest(0, case when first_today.total is null or first_today.total > m.bytes_tx + m.bytes_rx
                            then 0 else m.bytes_tx + m.bytes_rx - first_today.total end)::float8 as traffic_today
    from modems m
    left join lateral (
      select (h.bytes_tx + h.bytes_rx) as total from health_samples h
      where h.modem_id = m.id and h.ts >= date_trunc('day', now()) and h.bytes_tx is not null
      order by h.ts asc limit 1) first_today on true
    where ${f.nodeId ? sql`m.node_id = ${f.nodeId}` : sql`true`}
      and ${f.ids ? sql`m.id = any(${f.ids}::bigint[])` : sql`true`}
      and ${states ? sql`m.state = any(${states}::text[])` : sql`true`}
      and ${like ? sql`(coalesce(m.slot,'') ilike ${like} or m.imei ilike ${like} or coalesce(m.operator,'') ilike ${like}
                        or coalesce(host(m.wan_ip),'') ilike ${like} or coalesce(host(m.public_ip),'') ilike ${like}
                        or coalesce(m.proxy_port::text,'') = ${q ?? ""})` : sql`true`}
    ${f.ordered === false ? sql`order by m.id` : sql`order by m.node_id, ${SLOT_ORDER} nulls last, m.imei`}`) as unknown as DashboardRow[];
}

export interface Counters {
  total: number;
  online: number;
  degraded: number;
  offline: number;
  failed: number;
}

export function countStates(states: string[]): Counters {
  const c: Counters = { total: states.length, online: 0, degraded: 0, offline: 0, failed: 0 };
  for (const s of states) c[stateGroup(s)]++;
  return c;
}

/** Counters over every modem (of a node), independent of the dashboard's text filter. */
export async function modemCounters(sql: Sql, nodeId: string | null): Promise<Counters> {
  const rows = await sql`select state from modems where ${nodeId ? sql`node_id = ${nodeId}` : sql`true`}`;
  return countStates(rows.map((r) => String(r.state)));
}

export interface ModemDetail extends DashboardRow {
  imsi: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  hub: string | null;
  at_path: string | null;
  qmi_path: string | null;
  ifname: string | null;
  usb_device: string | null;
  sim_state: string | null;
  operator_code: string | null;
  registration: string | null;
  cell_id: string | null;
  rssi: number | null;
  wan_prefix: number | null;
  dns: string[] | null;
  mtu: number | null;
  data_session: Record<string, unknown> | null;
  route_table: number | null;
  rotation_method: string;
  rotation_schedule: string | null;
  has_rotation_link: boolean;
  bytes_tx: number;
  bytes_rx: number;
  health: Record<string, unknown>;
  last_seen_at: Date | null;
  created_at: Date;
}

/** Parses a path parameter: a numeric row id, or an IMEI (14-16 digits). Null for anything else. */
export function parseModemRef(ref: string): { id: number } | { imei: string } | null {
  if (/^[0-9]{14,16}$/.test(ref)) return { imei: ref };
  if (/^[1-9][0-9]{0,15}$/.test(ref) && Number(ref) <= Number.MAX_SAFE_INTEGER) return { id: Number(ref) };
  return null;
}

export async function modemDetail(sql: Sql, ref: { id: number } | { imei: string }): Promise<ModemDetail | null> {
  const cond = "id" in ref ? sql`m.id = ${ref.id}` : sql`m.imei = ${ref.imei}`;
  const rows = await sql`
    select m.id, m.node_id, m.slot, m.imei, m.iccid, m.imsi, m.manufacturer, m.model, m.firmware, m.hub, m.at_path,
           m.qmi_path, m.ifname, m.usb_device, m.state, m.state_reason, m.state_since, m.sim_state, m.operator,
           m.operator_code, m.registration, m.rat, m.band, m.cell_id, m.csq, m.rssi, m.rsrp, m.rsrq, m.sinr_raw,
           m.temperature, host(m.wan_ip) as wan_ip, m.wan_prefix, (select array_agg(host(d)) from unnest(m.dns) d) as dns,
           m.mtu, host(m.public_ip) as public_ip, m.rtt_ms, m.data_session, m.proxy_port, m.route_table,
           m.proxy_enabled, (m.rotation_token_hash is not null) as has_rotation_link, m.rotation_method,
           m.rotation_schedule, m.last_rotation_at, m.bytes_tx, m.bytes_rx, m.health, m.last_seen_at, m.created_at,
           m.updated_at, 0::float8 as traffic_today
    from modems m where ${cond} order by m.id limit 1`;
  return (rows[0] as unknown as ModemDetail) ?? null;
}
