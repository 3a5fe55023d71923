/**
 * Ingestion bookkeeping (done-markers of spool files, 3proxy log offsets, the engine counter baseline) kept in the
 * settings table under `internal.*` keys of this node. It lives in PostgreSQL, not in files, so that it commits in
 * the same transaction as the rows it describes: an ingest interrupted at any point neither loses nor doubles rows.
 * getSettings() ignores keys outside its schema, and export-config leaves `internal.*` out.
 */
import type { Sql } from "../../db/client.ts";

export const INTERNAL_PREFIX = "internal.";

export async function readInternal<T>(sql: Sql, nodeId: string, key: string): Promise<T | undefined> {
  const rows = await sql`select value from settings where node_id = ${nodeId} and key = ${key}`;
  return rows[0]?.value as T | undefined;
}

/** All internal keys starting with `prefix` (e.g. "internal.3proxy_log:"), with their values. */
export async function readInternalPrefix<T>(sql: Sql, nodeId: string, prefix: string): Promise<Map<string, T>> {
  const rows = await sql`select key, value from settings where node_id = ${nodeId} and starts_with(key, ${prefix})`;
  return new Map(rows.map((r) => [r.key as string, r.value as T]));
}

export async function writeInternal(sql: Sql, nodeId: string, key: string, value: unknown): Promise<void> {
  await sql`
    insert into settings (node_id, key, value, updated_at, updated_by)
    values (${nodeId}, ${key}, ${sql.json(value as never)}, now(), 'ingest')
    on conflict (node_id, key) do update set value = excluded.value, updated_at = now()`;
}

export async function deleteInternal(sql: Sql, nodeId: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`delete from settings where node_id = ${nodeId} and key = any(${keys}::text[])`;
}
