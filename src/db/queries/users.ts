/** users: panel accounts. Passwords are argon2id hashes (Bun.password); the HTTP layer does the hashing. */
import type { Sql } from "../client.ts";

export type UserRole = "admin" | "technician" | "viewer";

export interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  role: UserRole;
  disabled: boolean;
  failed_logins: number;
  locked_until: Date | null;
  must_change_password: boolean;
  session_epoch: number;
  created_at: Date;
  last_login_at: Date | null;
}

/** The public view of a user (never the hash). */
export type UserInfo = Omit<UserRow, "password_hash">;

const INFO = ["id", "username", "role", "disabled", "failed_logins", "locked_until", "must_change_password", "session_epoch", "created_at", "last_login_at"];

export async function countUsers(sql: Sql): Promise<number> {
  const rows = await sql`select count(*)::int as n from users`;
  return Number(rows[0]!.n);
}

export async function findUserByName(sql: Sql, username: string): Promise<UserRow | null> {
  const rows = await sql`select * from users where username = ${username}`;
  return (rows[0] as unknown as UserRow) ?? null;
}

export async function findUserById(sql: Sql, id: number): Promise<UserRow | null> {
  const rows = await sql`select * from users where id = ${id}`;
  return (rows[0] as unknown as UserRow) ?? null;
}

export async function listUsers(sql: Sql): Promise<UserInfo[]> {
  return (await sql`select ${sql(INFO)} from users order by username`) as unknown as UserInfo[];
}

/** Inserts a user; returns null when the username is taken (ON CONFLICT), so callers answer 409. */
export async function createUser(
  sql: Sql,
  u: { username: string; passwordHash: string; role: UserRole; mustChangePassword?: boolean },
): Promise<UserInfo | null> {
  const rows = await sql`
    insert into users (username, password_hash, role, must_change_password)
    values (${u.username}, ${u.passwordHash}, ${u.role}, ${u.mustChangePassword ?? false})
    on conflict (username) do nothing
    returning ${sql(INFO)}`;
  return (rows[0] as unknown as UserInfo) ?? null;
}

/** Changes role / disabled / password; any of them ends the user's sessions (session_epoch + 1). */
export async function updateUser(
  sql: Sql,
  id: number,
  patch: { role?: UserRole; disabled?: boolean; passwordHash?: string; mustChangePassword?: boolean },
): Promise<UserInfo | null> {
  const rows = await sql`
    update users set
      role = coalesce(${patch.role ?? null}, role),
      disabled = coalesce(${patch.disabled ?? null}, disabled),
      password_hash = coalesce(${patch.passwordHash ?? null}, password_hash),
      must_change_password = coalesce(${patch.mustChangePassword ?? null}, must_change_password),
      failed_logins = case when ${patch.passwordHash ?? null}::text is null then failed_logins else 0 end,
      locked_until = case when ${patch.passwordHash ?? null}::text is null then locked_until else null end,
      session_epoch = session_epoch + 1
    where id = ${id}
    returning ${sql(INFO)}`;
  return (rows[0] as unknown as UserInfo) ?? null;
}

export async function deleteUser(sql: Sql, id: number): Promise<boolean> {
  const rows = await sql`delete from users where id = ${id} returning id`;
  return rows.length > 0;
}

/** Admins that can still log in: the last one may not be demoted, disabled or deleted. */
export async function countActiveAdmins(sql: Sql): Promise<number> {
  const rows = await sql`select count(*)::int as n from users where role = 'admin' and not disabled`;
  return Number(rows[0]!.n);
}

/** Ends every session of the user (logout, "sign out everywhere"). */
export async function bumpSessionEpoch(sql: Sql, id: number): Promise<void> {
  await sql`update users set session_epoch = session_epoch + 1 where id = ${id}`;
}

/**
 * Records a failed password and locks the account after `lockAfter` consecutive failures.
 * Returns the new count and whether this failure locked the account.
 */
export async function recordLoginFailure(
  sql: Sql,
  id: number,
  opts: { lockAfter: number; lockMinutes: number },
): Promise<{ failures: number; lockedNow: boolean }> {
  const rows = await sql`
    update users set
      failed_logins = failed_logins + 1,
      locked_until = case when failed_logins + 1 >= ${opts.lockAfter}
        then now() + make_interval(mins => ${opts.lockMinutes}) else locked_until end
    where id = ${id}
    returning failed_logins, locked_until`;
  const failures = Number(rows[0]?.failed_logins ?? 0);
  return { failures, lockedNow: failures >= opts.lockAfter };
}

export async function recordLoginSuccess(sql: Sql, id: number): Promise<void> {
  await sql`update users set failed_logins = 0, locked_until = null, last_login_at = now() where id = ${id}`;
}

/** Lifts a lockout (admin action from the users page). */
export async function unlockUser(sql: Sql, id: number): Promise<void> {
  await sql`update users set failed_logins = 0, locked_until = null where id = ${id}`;
}
