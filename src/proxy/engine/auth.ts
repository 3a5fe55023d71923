/**
 * Who may use a port. No open proxy by default: a client needs valid credentials or an address
 * on the global or the port's whitelist. Credentials, when given, must be right even from a
 * whitelisted address (a wrong password is never silently ignored).
 */
import { compileWhitelist } from "./cidr.ts";
import type { ProxyPortConfig } from "./config-schema.ts";
import type { PasswordVerifier } from "./password-cache.ts";

export interface Credentials {
  user: string;
  pass: string;
}

/** One port's compiled auth rules; rebuilt on reload, captured by each connection at accept. */
export interface PortAuth {
  users: ReadonlyMap<string, string>;
  isWhitelisted(ip: string): boolean;
}

export type AuthResult = { ok: true; user: string | null } | { ok: false; reason: "auth_required" | "auth_failed" };

export function compilePortAuth(port: ProxyPortConfig, globalWhitelist: readonly string[]): PortAuth {
  return {
    users: new Map(port.users.map((u) => [u.name, u.passwordHash])),
    isWhitelisted: compileWhitelist([...globalWhitelist, ...port.whitelist]),
  };
}

export async function authenticate(
  auth: PortAuth,
  verifier: PasswordVerifier,
  clientIp: string,
  creds: Credentials | null,
): Promise<AuthResult> {
  if (creds) {
    const hash = auth.users.get(creds.user);
    if (hash === undefined) return { ok: false, reason: "auth_failed" };
    return (await verifier.verify(hash, creds.pass)) ? { ok: true, user: creds.user } : { ok: false, reason: "auth_failed" };
  }
  return auth.isWhitelisted(clientIp) ? { ok: true, user: null } : { ok: false, reason: "auth_required" };
}

/** `Basic dXNlcjpwYXNz` to {user, pass}; null when absent, another scheme, or malformed. */
export function parseBasicAuth(value: string | undefined): Credentials | null {
  if (!value) return null;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i <= 0) return null;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}
