/**
 * Panel reads of the modems table: the dashboard row (with traffic today and last rotation) and the modem page.
 * The dashboard query is one statement for every modem; "traffic today" is the modem's byte counter minus its
 * first health sample of the day (one index probe per modem via LATERAL), a counter reset counts from zero.
 */
import type { Sql } from "../../db/client.ts";
import { modemColumns, type ModemRow } from "../../db/queries/modem-state.ts";

const DASHBOARD_COLUMNS = [
  "id", "node_id", "slot", "imei", "iccid", "state", "state_reason", "state_since", "operator", "rat", "band",
  "csq", "rsrp", "rsrq", "sinr_raw", "temperature", "rtt_ms", "wan_ip", "public_ip", "proxy_port", "proxy_enabled",
  "last_rotation_at", "updated_at",
] as const satisfies readonly (keyof ModemRow)[];

/** A dashboard table row: the columns above plus the bytes moved since midnight. */
export interface DashboardRow extends Pick<ModemRow, (typeof DASHBOARD_COLUMNS)[number]> {
  traffic_today: number;
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
    select ${sql.unsafe(modemColumns(DASHBOARD_COLUMNS, { table: "m" }))},
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

const DETAIL_COLUMNS = [
  "id", "node_id", "slot", "imei", "iccid", "imsi", "manufacturer", "model", "firmware", "hub", "at_path",
  "qmi_path", "ifname", "usb_device", "state", "state_reason", "state_since", "sim_state", "operator",
  "operator_code", "registration", "rat", "band", "cell_id", "csq", "rssi", "rsrp", "rsrq", "sinr_raw",
  "temperature", "wan_ip", "wan_prefix", "dns", "mtu", "public_ip", "rtt_ms", "data_session", "proxy_port", "route_table",
  "proxy_enabled", "has_rotation_link", "rotation_method", "rotation_schedule", "last_rotation_at", "bytes_tx", "bytes_rx",
  "health", "last_seen_at", "created_at", "updated_at",
] as const satisfies readonly (keyof ModemRow)[];

/** The modem page: every column (traffic_today is 0 here; the page does not show it). */
export interface ModemDetail extends DashboardRow, Pick<ModemRow, (typeof DETAIL_COLUMNS)[number]> {}

/** Parses a path parameter: a numeric row id, or an IMEI (14-16 digits). Null for anything else. */
export function parseModemRef(ref: string): { id: number } | { imei: string } | null {
  if (/^[0-9]{14,16}$/.test(ref)) return { imei: ref };
  if (/^[1-9][0-9]{0,15}$/.test(ref) && Number(ref) <= Number.MAX_SAFE_INTEGER) return { id: Number(ref) };
  return null;
}

export async function modemDetail(sql: Sql, ref: { id: number } | { imei: string }): Promise<ModemDetail | null> {
  const cond = "id" in ref ? sql`m.id = ${ref.id}` : sql`m.imei = ${ref.imei}`;
  const rows = await sql`
    select ${sql.unsafe(modemColumns(DETAIL_COLUMNS, { table: "m" }))}, 0::float8 as traffic_today
    from modems m where ${cond} order by m.id limit 1`;
  return (rows[0] as unknown as ModemDetail) ?? null;
}
