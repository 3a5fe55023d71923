/**
 * The panel session: a short-lived JWT in an HttpOnly, SameSite=Strict cookie (Secure under HTTPS). A request
 * after half the lifetime gets a fresh cookie (sliding refresh), so an active technician stays logged in and an
 * abandoned one is out after `session_minutes`.
 */
import type { JwtKeyRing, SessionClaims } from "./jwt-keys.ts";

export const SESSION_COOKIE = "lteproxy_session";

export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header || header.length > 8192) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function isHttps(request: Request): boolean {
  return request.url.startsWith("https:");
}

export function sessionCookie(token: string, opts: { maxAgeS: number; secure: boolean }): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${opts.maxAgeS}${opts.secure ? "; Secure" : ""}`;
}

export function clearSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

export class Sessions {
  constructor(private keys: JwtKeyRing, private lifetimeMinutes: number, private now: () => number = Date.now) {}

  async issue(userId: number, epoch: number, secure: boolean): Promise<string> {
    const token = await this.keys.sign({ sub: String(userId), ep: epoch });
    return sessionCookie(token, { maxAgeS: this.lifetimeMinutes * 60, secure });
  }

  async read(request: Request): Promise<SessionClaims | null> {
    const token = readCookie(request, SESSION_COOKIE);
    return token ? this.keys.verify(token) : null;
  }

  /** True when the token has used more than half of its lifetime. */
  needsRefresh(claims: SessionClaims): boolean {
    if (!claims.iat || !claims.exp) return false;
    return this.now() / 1000 > claims.iat + (claims.exp - claims.iat) / 2;
  }
}
