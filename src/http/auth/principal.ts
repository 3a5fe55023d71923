/**
 * Who is calling: an API key (Authorization: Bearer lpk_…) or the session cookie. The user row is re-read on
 * every request so a role change, disable or password reset applies at once (the session epoch must match);
 * while PostgreSQL is down the last-known row is used, so the read-only panel keeps working.
 */
import type { Sql } from "../../db/client.ts";
import { findUserById, type UserRow } from "../../db/queries/users.ts";
import type { Principal } from "../request-state.ts";
import { verifyApiKey } from "./api-keys.ts";
import type { Sessions } from "./session.ts";
import type { SessionClaims } from "./jwt-keys.ts";

export interface AuthResult {
  principal: Principal | null;
  /** An Authorization header was sent but is not a valid key (401 + security event). */
  badKey?: boolean;
  claims?: SessionClaims;
}

const USER_CACHE_MAX = 1000;

export class Authenticator {
  private users = new Map<number, UserRow>();

  constructor(private sql: Sql, private sessions: Sessions) {}

  private async user(id: number): Promise<UserRow | null> {
    try {
      const row = await findUserById(this.sql, id);
      if (row) {
        if (this.users.size >= USER_CACHE_MAX) this.users.clear();
        this.users.set(id, row);
      } else this.users.delete(id);
      return row;
    } catch (error) {
      const cached = this.users.get(id);
      if (cached) return cached;
      throw error;
    }
  }

  async authenticate(request: Request): Promise<AuthResult> {
    const authz = request.headers.get("authorization");
    if (authz !== null) {
      const m = /^Bearer\s+(\S{1,200})$/i.exec(authz.trim());
      const key = m ? await verifyApiKey(this.sql, m[1]!) : null;
      if (!key) return { principal: null, badKey: true };
      return {
        principal: { userId: key.userId, username: key.username, role: key.role, via: "api_key", keyId: key.keyId, mustChangePassword: false },
      };
    }
    const claims = await this.sessions.read(request);
    if (!claims || !/^[1-9][0-9]{0,15}$/.test(claims.sub)) return { principal: null };
    const user = await this.user(Number(claims.sub));
    if (!user || user.disabled || user.session_epoch !== claims.ep) return { principal: null };
    return {
      principal: { userId: user.id, username: user.username, role: user.role, via: "session", mustChangePassword: user.must_change_password },
      claims,
    };
  }
}
