/** api_keys: bearer keys for automation. Only a SHA-256 of the key is stored; the key is shown once. */
import type { Sql } from "../client.ts";
import type { UserRole } from "./users.ts";

export interface ApiKeyRow {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  key_hash: string;
  role: UserRole | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export type ApiKeyInfo = Omit<ApiKeyRow, "key_hash"> & { username: string };

export async function insertApiKey(
  sql: Sql,
  k: { userId: number; name: string; prefix: string; keyHash: string; role: UserRole | null },
): Promise<ApiKeyInfo> {
  const rows = await sql`
    with k as (
      insert into api_keys (user_id, name, prefix, key_hash, role)
      values (${k.userId}, ${k.name}, ${k.prefix}, ${k.keyHash}, ${k.role})
      returning id, user_id, name, prefix, role, created_at, last_used_at, revoked_at)
    select k.*, u.username from k join users u on u.id = k.user_id`;
  return rows[0] as unknown as ApiKeyInfo;
}

/** The key row with its owner, for authentication. */
export async function findApiKeyByPrefix(
  sql: Sql,
  prefix: string,
): Promise<(ApiKeyRow & { username: string; user_role: UserRole; user_disabled: boolean }) | null> {
  const rows = await sql`
    select k.*, u.username, u.role as user_role, u.disabled as user_disabled
    from api_keys k join users u on u.id = k.user_id where k.prefix = ${prefix}`;
  return (rows[0] as never) ?? null;
}

export async function listApiKeys(sql: Sql, userId?: number): Promise<ApiKeyInfo[]> {
  return (await sql`
    select k.id, k.user_id, k.name, k.prefix, k.role, k.created_at, k.last_used_at, k.revoked_at, u.username
    from api_keys k join users u on u.id = k.user_id
    where ${userId === undefined ? sql`true` : sql`k.user_id = ${userId}`}
    order by k.revoked_at nulls first, k.created_at desc`) as unknown as ApiKeyInfo[];
}

export async function revokeApiKey(sql: Sql, id: number): Promise<boolean> {
  const rows = await sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null returning id`;
  return rows.length > 0;
}

export async function touchApiKey(sql: Sql, id: number): Promise<void> {
  await sql`update api_keys set last_used_at = now() where id = ${id}`;
}
