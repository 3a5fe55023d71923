/** audit_log: who did what to which target, from which address (every state change the panel or API makes). */
import type { Sql } from "../client.ts";

export interface AuditEntry {
  nodeId?: string | null;
  userId?: number | null;
  actor: string;
  action: string;
  target?: string | null;
  result?: string;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  id: number;
  ts: Date;
  node_id: string | null;
  user_id: number | null;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  ip: string | null;
  details: Record<string, unknown>;
}

export async function writeAudit(sql: Sql, e: AuditEntry): Promise<void> {
  await sql`
    insert into audit_log (node_id, user_id, actor, action, target, result, ip, details)
    values (${e.nodeId ?? null}, ${e.userId ?? null}, ${e.actor}, ${e.action}, ${e.target ?? null},
            ${e.result ?? "ok"}, ${e.ip ?? null}, ${sql.json((e.details ?? {}) as never)})`;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  beforeId?: number;
  limit?: number;
}

/** Newest first, keyset-paged by id. */
export async function listAudit(sql: Sql, f: AuditFilter = {}): Promise<AuditRow[]> {
  return (await sql`
    select id, ts, node_id, user_id, actor, action, target, result, host(ip) as ip, details from audit_log
    where ${f.action ? sql`action like ${f.action + "%"}` : sql`true`}
      and ${f.actor ? sql`actor = ${f.actor}` : sql`true`}
      and ${f.beforeId ? sql`id < ${f.beforeId}` : sql`true`}
    order by id desc limit ${f.limit ?? 100}`) as unknown as AuditRow[];
}
