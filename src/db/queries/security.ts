/** security_events (failed logins, lockouts, forbidden attempts) and ip_blocks (repeat offenders, liftable). */
import type { Sql } from "../client.ts";

export type SecurityKind =
  | "login_failed" | "login_locked" | "account_locked" | "login_ok" | "forbidden" | "unauthenticated"
  | "csrf_rejected" | "api_key_invalid" | "ip_blocked" | "ip_unblocked" | "rate_limited" | "rotation_link_invalid";

export interface SecurityEventRow {
  id: number;
  ts: Date;
  kind: string;
  username: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface IpBlockRow {
  ip: string;
  reason: string;
  blocked_until: Date;
  created_at: Date;
  lifted_by: string | null;
}

export async function recordSecurityEvent(
  sql: Sql,
  e: { kind: SecurityKind; username?: string | null; ip?: string | null; details?: Record<string, unknown> },
): Promise<void> {
  await sql`
    insert into security_events (kind, username, ip, details)
    values (${e.kind}, ${e.username ?? null}, ${e.ip ?? null}, ${sql.json((e.details ?? {}) as never)})`;
}

export async function listSecurityEvents(
  sql: Sql,
  f: { kind?: string; ip?: string; beforeId?: number; limit?: number } = {},
): Promise<SecurityEventRow[]> {
  return (await sql`
    select id, ts, kind, username, host(ip) as ip, details from security_events
    where ${f.kind ? sql`kind = ${f.kind}` : sql`true`}
      and ${f.ip ? sql`ip = ${f.ip}::inet` : sql`true`}
      and ${f.beforeId ? sql`id < ${f.beforeId}` : sql`true`}
    order by id desc limit ${f.limit ?? 100}`) as unknown as SecurityEventRow[];
}

/** Blocks (or extends the block of) an address until now + minutes. */
export async function blockIp(sql: Sql, ip: string, reason: string, minutes: number): Promise<void> {
  await sql`
    insert into ip_blocks (ip, reason, blocked_until)
    values (${ip}, ${reason}, now() + make_interval(mins => ${minutes}))
    on conflict (ip) do update set reason = excluded.reason, blocked_until = excluded.blocked_until,
      created_at = now(), lifted_by = null`;
}

/** Ends a block now; returns false when the address was not blocked. */
export async function liftIpBlock(sql: Sql, ip: string, by: string): Promise<boolean> {
  const rows = await sql`
    update ip_blocks set blocked_until = now(), lifted_by = ${by}
    where ip = ${ip}::inet and blocked_until > now() returning ip`;
  return rows.length > 0;
}

export async function activeIpBlocks(sql: Sql): Promise<IpBlockRow[]> {
  return (await sql`
    select host(ip) as ip, reason, blocked_until, created_at, lifted_by from ip_blocks
    where blocked_until > now() order by created_at desc`) as unknown as IpBlockRow[];
}

/** Recent blocks including lifted and expired ones, for the security page. */
export async function recentIpBlocks(sql: Sql, limit = 50): Promise<IpBlockRow[]> {
  return (await sql`
    select host(ip) as ip, reason, blocked_until, created_at, lifted_by from ip_blocks
    order by created_at desc limit ${limit}`) as unknown as IpBlockRow[];
}
