/** Roles and route access levels. admin ⊃ technician ⊃ viewer. */
import type { Role } from "../context.ts";

export const ROLES: readonly Role[] = ["viewer", "technician", "admin"];

/**
 * A route's access level: a role (that role or higher), "public" (no login: login page, health, static, the
 * secure rotation link) or "metrics" (bearer metrics token or IP allow-list).
 */
export type Access = Role | "public" | "metrics";

const RANK: Record<Role, number> = { viewer: 1, technician: 2, admin: 3 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export function minRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

export function isRole(x: unknown): x is Role {
  return x === "viewer" || x === "technician" || x === "admin";
}
