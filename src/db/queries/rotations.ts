/**
 * rotations (the log of IP rotations, written by src/health/rotation.ts) and the secure per-port rotation link.
 * The link token is random; only its SHA-256 is stored in modems.rotation_token_hash, so it is shown once.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Sql } from "../client.ts";

export interface RotationRow {
  id: number;
  job_id: string;
  node_id: string;
  modem_id: number;
  slot: string | null;
  imei: string | null;
  method: string;
  trigger: string;
  requested_by: string | null;
  status: string;
  result: string | null;
  old_ip: string | null;
  new_ip: string | null;
  attempts: number;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
}

export interface RotationFilter {
  nodeId?: string | null;
  modemId?: number;
  result?: string;
  trigger?: string;
  sinceHours?: number;
  beforeId?: number;
  limit?: number;
}

function where(sql: Sql, f: RotationFilter) {
  return sql`
    ${f.nodeId ? sql`r.node_id = ${f.nodeId}` : sql`true`}
    and ${f.modemId ? sql`r.modem_id = ${f.modemId}` : sql`true`}
    and ${f.result ? sql`r.result = ${f.result}` : sql`true`}
    and ${f.trigger ? sql`r.trigger = ${f.trigger}` : sql`true`}
    and ${f.sinceHours ? sql`r.started_at > now() - make_interval(hours => ${f.sinceHours})` : sql`true`}`;
}

export async function listRotations(sql: Sql, f: RotationFilter = {}): Promise<RotationRow[]> {
  return (await sql`
    select r.id, r.job_id::text as job_id, r.node_id, r.modem_id, m.slot, m.imei, r.method, r.trigger, r.requested_by,
           r.status, r.result, host(r.old_ip) as old_ip, host(r.new_ip) as new_ip, r.attempts, r.error,
           r.started_at, r.finished_at, r.duration_ms
    from rotations r left join modems m on m.id = r.modem_id
    where ${where(sql, f)} and ${f.beforeId ? sql`r.id < ${f.beforeId}` : sql`true`}
    order by r.id desc limit ${f.limit ?? 100}`) as unknown as RotationRow[];
}

export interface RotationStats {
  total: number;
  finished: number;
  ok: number;
  collisions: number;
  failed: number;
  /** Distinct new IPs / finished rotations that produced an IP (1.0 = every rotation gave a never-seen IP). */
  uniqueRate: number | null;
  avgDurationMs: number | null;
}

export async function rotationStats(sql: Sql, f: RotationFilter = {}): Promise<RotationStats> {
  const rows = await sql`
    select count(*)::int as total,
           count(*) filter (where r.status = 'done')::int as finished,
           count(*) filter (where r.result = 'OK')::int as ok,
           count(*) filter (where r.result = 'COLLISION')::int as collisions,
           count(*) filter (where r.result = 'FAILED')::int as failed,
           count(distinct r.new_ip)::int as distinct_ips,
           count(r.new_ip)::int as with_ip,
           avg(r.duration_ms)::float8 as avg_ms
    from rotations r where ${where(sql, f)}`;
  const r = rows[0]!;
  const withIp = Number(r.with_ip);
  return {
    total: Number(r.total), finished: Number(r.finished), ok: Number(r.ok), collisions: Number(r.collisions),
    failed: Number(r.failed), uniqueRate: withIp ? Number(r.distinct_ips) / withIp : null,
    avgDurationMs: r.avg_ms === null ? null : Number(r.avg_ms),
  };
}

/** Finished rotations by result, for the lteproxy_rotations_total metric. */
export async function rotationsByResult(sql: Sql): Promise<Array<{ node_id: string; result: string; n: number }>> {
  return (await sql`
    select node_id, coalesce(result, 'UNKNOWN') as result, count(*)::int as n
    from rotations where status = 'done' group by 1, 2`) as unknown as Array<{ node_id: string; result: string; n: number }>;
}

export async function findRotationByJob(sql: Sql, jobId: string): Promise<RotationRow | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) return null;
  const rows = await sql`
    select r.id, r.job_id::text as job_id, r.node_id, r.modem_id, null as slot, null as imei, r.method, r.trigger,
           r.requested_by, r.status, r.result, host(r.old_ip) as old_ip, host(r.new_ip) as new_ip, r.attempts, r.error,
           r.started_at, r.finished_at, r.duration_ms
    from rotations r where r.job_id = ${jobId}::uuid`;
  return (rows[0] as unknown as RotationRow) ?? null;
}

/** The stored form of a rotation-link token. */
export function hashRotationToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Makes a new link token for the modem (the old link stops working) and returns it: show it once. */
export async function regenerateRotationToken(sql: Sql, modemId: number): Promise<string | null> {
  const token = randomBytes(24).toString("base64url");
  const rows = await sql`update modems set rotation_token_hash = ${hashRotationToken(token)} where id = ${modemId} returning id`;
  return rows.length ? token : null;
}

export async function revokeRotationToken(sql: Sql, modemId: number): Promise<boolean> {
  const rows = await sql`update modems set rotation_token_hash = null where id = ${modemId} returning id`;
  return rows.length > 0;
}

/** The modem a link token belongs to, or null (unknown or revoked token). */
export async function findModemByRotationToken(sql: Sql, token: string): Promise<{ id: number; node_id: string } | null> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) return null;
  const rows = await sql`select id, node_id from modems where rotation_token_hash = ${hashRotationToken(token)}`;
  return (rows[0] as unknown as { id: number; node_id: string }) ?? null;
}
