/**
 * Bearer API keys: `lpk_<prefix>_<secret>`. The prefix finds the row; the stored SHA-256 of the whole key is
 * compared in constant time. The keys are 192-bit random, so a fast hash is enough (unlike passwords), and an
 * API call costs no argon2 work.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Sql } from "../../db/client.ts";
import { findApiKeyByPrefix, insertApiKey, touchApiKey, type ApiKeyInfo } from "../../db/queries/api-keys.ts";
import type { UserRole } from "../../db/queries/users.ts";
import { minRole } from "./roles.ts";

const KEY_RE = /^lpk_([a-z0-9]{10})_([A-Za-z0-9_-]{32})$/;

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Creates a key for a user; the returned `key` is shown once and never stored. */
export async function createApiKey(
  sql: Sql,
  opts: { userId: number; name: string; role?: UserRole | null },
): Promise<{ key: string; info: ApiKeyInfo }> {
  const prefix = randomBytes(8).toString("hex").slice(0, 10);
  const key = `lpk_${prefix}_${randomBytes(24).toString("base64url")}`;
  const info = await insertApiKey(sql, { userId: opts.userId, name: opts.name, prefix, keyHash: hashApiKey(key), role: opts.role ?? null });
  return { key, info };
}

export interface ApiKeyPrincipal {
  keyId: number;
  userId: number;
  username: string;
  role: UserRole;
}

const lastTouched = new Map<number, number>();

/** Verifies a presented key; null when malformed, unknown, revoked, or its owner is disabled. */
export async function verifyApiKey(sql: Sql, presented: string): Promise<ApiKeyPrincipal | null> {
  const m = KEY_RE.exec(presented);
  if (!m) return null;
  const row = await findApiKeyByPrefix(sql, m[1]!);
  if (!row) return null;
  const a = Buffer.from(hashApiKey(presented), "hex");
  const b = Buffer.from(row.key_hash, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  if (row.revoked_at || row.user_disabled) return null;
  // last_used_at is informational: write it at most once a minute per key, off the request path.
  const now = Date.now();
  if ((lastTouched.get(row.id) ?? 0) < now - 60_000) {
    lastTouched.set(row.id, now);
    void touchApiKey(sql, row.id).catch(() => undefined);
  }
  return { keyId: row.id, userId: row.user_id, username: row.username, role: row.role ? minRole(row.role, row.user_role) : row.user_role };
}
