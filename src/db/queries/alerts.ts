/** alerts: one open row per (node, dedup key); a repeat bumps occurrences. Health opens/resolves, humans ack. */
import type { Sql } from "../client.ts";

export type AlertSeverity = "info" | "warning" | "critical";
export type AlertState = "open" | "acknowledged" | "resolved" | "active" | "all";

export interface AlertRow {
  id: number;
  node_id: string;
  kind: string;
  severity: AlertSeverity;
  scope: AlertScope;
  modem_id: number | null;
  hub: string | null;
  dedup_key: string;
  message: string;
  details: Record<string, unknown>;
  occurrences: number;
  opened_at: Date;
  last_seen_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  slot?: string | null;
}

export type AlertScope = "modem" | "hub" | "system";

/**
 * What an alert is about, before it has a row: what health's rules and the hub watcher produce (src/health) and
 * the webhook's `alert` for an opened alert. The dedup key names the thing ("modem:7:failed", "hub:1-2:down").
 */
export interface AlertSpec {
  kind: string;
  severity: AlertSeverity;
  scope: AlertScope;
  modemId?: number | null;
  hub?: string | null;
  dedupKey: string;
  message: string;
  details?: Record<string, unknown>;
}

/** An alert to open on one node. */
export interface NewAlert extends AlertSpec {
  nodeId: string;
}

/** Opens an alert or bumps the open one with the same dedup key. Returns its id and whether it is new. */
export async function openAlert(sql: Sql, a: NewAlert): Promise<{ id: number; created: boolean }> {
  const rows = await sql`
    insert into alerts (node_id, kind, severity, scope, modem_id, hub, dedup_key, message, details)
    values (${a.nodeId}, ${a.kind}, ${a.severity}, ${a.scope}, ${a.modemId ?? null}, ${a.hub ?? null},
            ${a.dedupKey}, ${a.message}, ${sql.json((a.details ?? {}) as never)})
    on conflict (node_id, dedup_key) where resolved_at is null do update set
      occurrences = alerts.occurrences + 1, last_seen_at = now(), message = excluded.message,
      severity = excluded.severity, details = excluded.details
    returning id, (xmax = 0) as created`;
  return { id: Number(rows[0]!.id), created: Boolean(rows[0]!.created) };
}

export interface AlertFilter {
  state?: AlertState;
  nodeId?: string | null;
  modemId?: number;
  severity?: AlertSeverity;
  beforeId?: number;
  limit?: number;
}

export async function listAlerts(sql: Sql, f: AlertFilter = {}): Promise<AlertRow[]> {
  const state = f.state ?? "active";
  const stateCond =
    state === "open" ? sql`a.resolved_at is null and a.acknowledged_at is null`
    : state === "acknowledged" ? sql`a.resolved_at is null and a.acknowledged_at is not null`
    : state === "active" ? sql`a.resolved_at is null`
    : state === "resolved" ? sql`a.resolved_at is not null`
    : sql`true`;
  return (await sql`
    select a.*, m.slot from alerts a left join modems m on m.id = a.modem_id
    where ${stateCond}
      and ${f.nodeId ? sql`a.node_id = ${f.nodeId}` : sql`true`}
      and ${f.modemId ? sql`a.modem_id = ${f.modemId}` : sql`true`}
      and ${f.severity ? sql`a.severity = ${f.severity}` : sql`true`}
      and ${f.beforeId ? sql`a.id < ${f.beforeId}` : sql`true`}
    order by a.id desc limit ${f.limit ?? 100}`) as unknown as AlertRow[];
}

export async function getAlert(sql: Sql, id: number): Promise<AlertRow | null> {
  const rows = await sql`select * from alerts where id = ${id}`;
  return (rows[0] as unknown as AlertRow) ?? null;
}

/** Acknowledges an open alert. "missing" | "resolved" | "already" let callers answer 404/409. */
export async function acknowledgeAlert(sql: Sql, id: number, by: string): Promise<"ok" | "missing" | "resolved" | "already"> {
  const rows = await sql`
    update alerts set acknowledged_at = now(), acknowledged_by = ${by}
    where id = ${id} and resolved_at is null and acknowledged_at is null returning id`;
  if (rows.length) return "ok";
  const a = await getAlert(sql, id);
  return !a ? "missing" : a.resolved_at ? "resolved" : "already";
}

export async function resolveAlert(sql: Sql, id: number): Promise<"ok" | "missing" | "resolved"> {
  const rows = await sql`update alerts set resolved_at = now() where id = ${id} and resolved_at is null returning id`;
  if (rows.length) return "ok";
  return (await getAlert(sql, id)) ? "resolved" : "missing";
}

/** Resolves the open alert with this dedup key, if any (health calls it when a condition clears). */
export async function resolveAlertByKey(sql: Sql, nodeId: string, dedupKey: string): Promise<boolean> {
  const rows = await sql`
    update alerts set resolved_at = now() where node_id = ${nodeId} and dedup_key = ${dedupKey} and resolved_at is null
    returning id`;
  return rows.length > 0;
}

/** Unresolved alerts by node and severity, for metrics and the nav badge. */
export async function countActiveAlerts(sql: Sql): Promise<Array<{ node_id: string; severity: AlertSeverity; acknowledged: boolean; n: number }>> {
  return (await sql`
    select node_id, severity, (acknowledged_at is not null) as acknowledged, count(*)::int as n
    from alerts where resolved_at is null group by 1, 2, 3`) as unknown as Array<{ node_id: string; severity: AlertSeverity; acknowledged: boolean; n: number }>;
}

/** Unresolved alerts of one node by dedup key: what health compares the alerts it wants with (src/health). */
export async function openAlertsOfNode(sql: Sql, nodeId: string): Promise<Map<string, AlertRow>> {
  const rows = (await sql`select * from alerts where node_id = ${nodeId} and resolved_at is null`) as unknown as AlertRow[];
  return new Map(rows.map((r) => [r.dedup_key, r]));
}

/** Like resolveAlertByKey, but returns the resolved row (null when none was open), for webhook delivery. */
export async function resolveAlertByKeyReturning(sql: Sql, nodeId: string, dedupKey: string): Promise<AlertRow | null> {
  const rows = await sql`
    update alerts set resolved_at = now() where node_id = ${nodeId} and dedup_key = ${dedupKey} and resolved_at is null
    returning *`;
  return (rows[0] as unknown as AlertRow) ?? null;
}

/** Rows by id (missing ids are left out), for the alert center to learn how alerts it announced ended. */
export async function alertsById(sql: Sql, ids: readonly number[]): Promise<AlertRow[]> {
  if (!ids.length) return [];
  return (await sql`select * from alerts where id = any(${ids as number[]}::bigint[]) order by id`) as unknown as AlertRow[];
}
