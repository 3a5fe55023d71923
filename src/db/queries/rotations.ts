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

// ---------------------------------------------------------------- the rotation service's writes (src/health/rotation.ts)

export type RotationMethod = "data" | "airplane" | "reboot";
export type RotationTrigger = "manual" | "api" | "link" | "schedule" | "heal";
export type RotationResult = "OK" | "SAME_IP" | "COLLISION" | "FAILED" | "CANCELLED";

/**
 * Creates the `queued` row of a new rotation job. The method defaults to the modem's rotation_method; old_ip is the
 * modem's public IP right now. Null when the modem is not this node's.
 */
export async function insertRotation(sql: Sql, r: {
  jobId: string; nodeId: string; modemId: number; method?: RotationMethod | null; trigger: RotationTrigger; requestedBy: string | null;
}): Promise<{ method: RotationMethod; old_ip: string | null } | null> {
  const rows = await sql`
    insert into rotations (job_id, node_id, modem_id, method, trigger, requested_by, status, old_ip)
    select ${r.jobId}::uuid, m.node_id, m.id, coalesce(${r.method ?? null}, m.rotation_method), ${r.trigger}, ${r.requestedBy},
           'queued', m.public_ip
    from modems m where m.id = ${r.modemId} and m.node_id = ${r.nodeId}
    returning method, host(old_ip) as old_ip`;
  return (rows[0] as unknown as { method: RotationMethod; old_ip: string | null }) ?? null;
}

export async function markRotationRunning(sql: Sql, jobId: string): Promise<void> {
  await sql`update rotations set status = 'running' where job_id = ${jobId}::uuid and status = 'queued'`;
}

/** Finishes a job (status done) and stamps modems.last_rotation_at, which the schedule counts from. */
export async function finishRotation(sql: Sql, f: {
  jobId: string; modemId: number; result: RotationResult; method: RotationMethod; newIp: string | null; attempts: number;
  error: string | null; durationMs: number;
}): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      update rotations set status = 'done', result = ${f.result}, method = ${f.method}, new_ip = ${f.newIp}::inet,
        attempts = ${f.attempts}, error = ${f.error}, finished_at = now(), duration_ms = ${Math.round(f.durationMs)}
      where job_id = ${f.jobId}::uuid`;
    await tx`update modems set last_rotation_at = now(), updated_at = now() where id = ${f.modemId}`;
  });
}

/**
 * Jobs of this node that a previous process left unfinished (crash, kill -9): closed as CANCELLED. Returns them so
 * the caller can tell the event stream.
 */
export async function cancelUnfinishedRotations(sql: Sql, nodeId: string, why: string): Promise<Array<{ job_id: string; modem_id: number }>> {
  return (await sql`
    update rotations set status = 'done', result = 'CANCELLED', error = ${why}, finished_at = now(),
      duration_ms = (extract(epoch from now() - started_at) * 1000)::int
    where node_id = ${nodeId} and status <> 'done'
    returning job_id::text as job_id, modem_id`) as unknown as Array<{ job_id: string; modem_id: number }>;
}

/**
 * The modem's most recent public IPs, newest first, without repeats: its current IP, then the new and old IPs of
 * its past rotations. The unique-IP guarantee compares a new IP with the first N of these.
 */
export async function recentModemIps(sql: Sql, modemId: number, n: number): Promise<string[]> {
  const rows = await sql`
    select host(public_ip) as ip from modems where id = ${modemId} and public_ip is not null`;
  const past = await sql`
    select host(new_ip) as new_ip, host(old_ip) as old_ip from rotations
    where modem_id = ${modemId} and (new_ip is not null or old_ip is not null)
    order by id desc limit ${n}`;
  const out: string[] = [];
  const add = (ip: unknown) => {
    if (typeof ip === "string" && ip && !out.includes(ip)) out.push(ip);
  };
  for (const r of rows) add(r.ip);
  for (const r of past) {
    add(r.new_ip);
    add(r.old_ip);
  }
  return out.slice(0, n);
}

/** Current public IPs of every other modem (all nodes: they may share a carrier's pool). */
export async function otherPublicIps(sql: Sql, modemId: number): Promise<Set<string>> {
  const rows = await sql`select host(public_ip) as ip from modems where id <> ${modemId} and public_ip is not null`;
  return new Set(rows.map((r) => r.ip as string));
}

/** The modem columns a rotation reads after its attempt: current state, public and WAN address. */
export async function rotationModemAddress(sql: Sql, modemId: number): Promise<{ public_ip: string | null; wan_ip: string | null } | null> {
  const rows = await sql`select host(public_ip) as public_ip, host(wan_ip) as wan_ip from modems where id = ${modemId}`;
  return (rows[0] as unknown as { public_ip: string | null; wan_ip: string | null }) ?? null;
}

export interface ScheduledModemRow {
  id: number;
  state: string;
  rotation_schedule: string | null;
  last_rotation_at: Date | null;
}

/** This node's modems with what the rotation schedule needs. */
export async function scheduledModems(sql: Sql, nodeId: string): Promise<ScheduledModemRow[]> {
  return (await sql`
    select id, state, rotation_schedule, last_rotation_at from modems where node_id = ${nodeId} order by id`) as unknown as ScheduledModemRow[];
}

/** Sets (or clears, with null) a modem's own rotation schedule; validate it with parseRotationSchedule first. */
export async function setRotationSchedule(sql: Sql, modemId: number, schedule: string | null): Promise<boolean> {
  const rows = await sql`update modems set rotation_schedule = ${schedule}, updated_at = now() where id = ${modemId} returning id`;
  return rows.length > 0;
}
