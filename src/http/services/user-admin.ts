/**
 * User and API-key administration (admin only; panel and API share it). Every change is audited; the last
 * active admin can be neither demoted, disabled nor deleted (409 LAST_ADMIN), so the box never locks itself out.
 */
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import type { Actor, Role } from "../context.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import { generatePassword, hashPassword, PASSWORD_MAX, PASSWORD_MIN } from "../auth/passwords.ts";
import { createApiKey } from "../auth/api-keys.ts";
import { roleAllows } from "../auth/roles.ts";
import { countActiveAdmins, createUser, deleteUser, findUserById, unlockUser, updateUser, type UserInfo } from "../../db/queries/users.ts";
import { listApiKeys, revokeApiKey, type ApiKeyInfo } from "../../db/queries/api-keys.ts";
import { writeAudit } from "../../db/queries/audit.ts";

export const RoleSchema = v.picklist(["admin", "technician", "viewer"], "admin, technician or viewer");
const Password = v.pipe(v.string("a password"), v.minLength(PASSWORD_MIN, `at least ${PASSWORD_MIN} characters`), v.maxLength(PASSWORD_MAX, `at most ${PASSWORD_MAX} characters`));
const EmptyToUndefined = v.pipe(v.unknown(), v.transform((x) => (x === "" ? undefined : x)));

export const NewUserBody = v.object({
  username: v.pipe(v.string("a username"), v.trim(), v.regex(/^[A-Za-z0-9._@-]{1,64}$/, "1-64 letters, digits or . _ @ -")),
  role: RoleSchema,
  /** Absent: a one-time password is generated and shown once. */
  password: v.optional(v.pipe(EmptyToUndefined, v.optional(Password))),
});

export const UserPatchBody = v.object({
  role: v.optional(RoleSchema),
  disabled: v.optional(v.pipe(v.unknown(), v.transform((x) => (x === "true" || x === "on" ? true : x === "false" || x === "off" ? false : x)), v.boolean("true or false"))),
  password: v.optional(Password),
  unlock: v.optional(v.pipe(v.unknown(), v.transform((x) => x === true || x === "true" || x === "on"), v.boolean())),
});

export const NewKeyBody = v.object({
  name: v.pipe(v.string("a name"), v.trim(), v.minLength(1, "a name"), v.maxLength(64, "at most 64 characters")),
  userId: v.optional(v.pipe(v.unknown(), v.transform((x) => (typeof x === "string" && /^\d{1,15}$/.test(x) ? Number(x) : x)), v.number("a user id"), v.integer(), v.minValue(1))),
  role: v.optional(v.pipe(EmptyToUndefined, v.optional(RoleSchema))),
});

async function audit(env: HttpEnv, actor: Actor, action: string, target: string, details: Record<string, unknown> = {}): Promise<void> {
  await writeAudit(env.ctx.sql, { nodeId: env.ctx.nodeId, userId: actor.userId, actor: actor.username, action, target, ip: actor.ip, details });
}

export async function createUserOp(env: HttpEnv, actor: Actor, body: v.InferOutput<typeof NewUserBody>): Promise<{ user: UserInfo; password?: string }> {
  const generated = body.password ? undefined : generatePassword();
  const user = await createUser(env.ctx.sql, { username: body.username, role: body.role, passwordHash: await hashPassword(body.password ?? generated!), mustChangePassword: !!generated });
  if (!user) throw conflict(`user ${body.username} already exists`, "USER_EXISTS");
  await audit(env, actor, "user.create", `user:${user.username}`, { role: body.role });
  return { user, password: generated };
}

async function guardLastAdmin(env: HttpEnv, target: { role: Role; disabled: boolean }, next: { role?: Role; disabled?: boolean; deleted?: boolean }): Promise<void> {
  const losesAdmin = target.role === "admin" && !target.disabled && (next.deleted || next.disabled === true || (next.role !== undefined && next.role !== "admin"));
  if (losesAdmin && (await countActiveAdmins(env.ctx.sql)) <= 1) throw conflict("this is the last active admin", "LAST_ADMIN");
}

export async function updateUserOp(env: HttpEnv, actor: Actor, id: number, patch: v.InferOutput<typeof UserPatchBody>): Promise<UserInfo> {
  const target = await findUserById(env.ctx.sql, id);
  if (!target) throw notFound("user");
  await guardLastAdmin(env, target, patch);
  if (patch.unlock) await unlockUser(env.ctx.sql, id);
  const changes = patch.role !== undefined || patch.disabled !== undefined || patch.password !== undefined;
  const user = changes
    ? await updateUser(env.ctx.sql, id, { role: patch.role, disabled: patch.disabled, passwordHash: patch.password ? await hashPassword(patch.password) : undefined })
    : await findUserById(env.ctx.sql, id);
  if (!user) throw notFound("user");
  await audit(env, actor, "user.update", `user:${target.username}`, { role: patch.role, disabled: patch.disabled, password: patch.password ? "changed" : undefined, unlock: patch.unlock || undefined });
  const { password_hash: _h, ...info } = user as UserInfo & { password_hash?: string };
  return info;
}

/** Sets a generated one-time password (must be changed at next login) and ends the user's sessions. */
export async function resetPasswordOp(env: HttpEnv, actor: Actor, id: number): Promise<{ user: UserInfo; password: string }> {
  const password = generatePassword();
  const user = await updateUser(env.ctx.sql, id, { passwordHash: await hashPassword(password), mustChangePassword: true });
  if (!user) throw notFound("user");
  await audit(env, actor, "user.password.reset", `user:${user.username}`);
  return { user, password };
}

export async function deleteUserOp(env: HttpEnv, actor: Actor, id: number): Promise<void> {
  const target = await findUserById(env.ctx.sql, id);
  if (!target) throw notFound("user");
  if (target.id === actor.userId) throw conflict("you cannot delete yourself", "SELF_DELETE");
  await guardLastAdmin(env, target, { deleted: true });
  await deleteUser(env.ctx.sql, id);
  await audit(env, actor, "user.delete", `user:${target.username}`);
}

export async function createKeyOp(env: HttpEnv, actor: Actor, body: v.InferOutput<typeof NewKeyBody>): Promise<{ key: string; info: ApiKeyInfo }> {
  const owner = await findUserById(env.ctx.sql, body.userId ?? actor.userId!);
  if (!owner) throw notFound("user");
  if (body.role && !roleAllows(owner.role, body.role)) throw invalid({ role: `cannot exceed the owner's role (${owner.role})` });
  const r = await createApiKey(env.ctx.sql, { userId: owner.id, name: body.name, role: body.role ?? null });
  await audit(env, actor, "api_key.create", `user:${owner.username}`, { keyId: r.info.id, prefix: r.info.prefix, name: body.name, role: body.role });
  return r;
}

export async function revokeKeyOp(env: HttpEnv, actor: Actor, id: number): Promise<void> {
  if (!(await revokeApiKey(env.ctx.sql, id))) {
    const exists = (await listApiKeys(env.ctx.sql)).some((k) => k.id === id);
    if (!exists) throw notFound("API key");
    throw conflict("the key is already revoked", "KEY_REVOKED");
  }
  await audit(env, actor, "api_key.revoke", `api_key:${id}`);
}
