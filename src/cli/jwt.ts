/**
 * `lteproxy jwt rotate|list`: the panel's session signing keys (jwt_keys, shared by every node of a fleet).
 * Rotating makes a new key for new sessions; the old ones keep verifying until the sessions they signed have
 * expired, so nobody is logged out. Running control planes pick the new key up on their next key reload.
 */
import type { Sql } from "../db/client.ts";
import { AppError } from "../lib/errors.ts";
import { RETIRED_KEY_GRACE_MINUTES, rotateJwtKey } from "../http/auth/jwt-keys.ts";
import { parseArgs } from "./args.ts";

export const JWT_USAGE = `lteproxy jwt rotate [--config FILE]
lteproxy jwt list [--json] [--config FILE]

rotate  makes a new session signing key (new kid); sessions signed with the previous key stay valid until they
        expire, and running panels switch to the new key within 30 s. Use it after a suspected key leak (then
        also log everybody out from the users page) or on a schedule.
list    shows the keys (never their secrets): kid, created, retired, and whether they still verify sessions.`;

export interface JwtKeyInfo {
  kid: string;
  created_at: Date;
  retired_at: Date | null;
  /** signs new sessions / verifies old ones only / expired (kept a while, then deleted by the next rotation) */
  status: "current" | "verifying" | "expired";
}

export async function listJwtKeys(sql: Sql): Promise<JwtKeyInfo[]> {
  const rows = await sql`
    select kid, created_at, retired_at,
           case when retired_at is null then 'current'
                when retired_at > now() - make_interval(mins => ${RETIRED_KEY_GRACE_MINUTES}) then 'verifying'
                else 'expired' end as status
    from jwt_keys order by created_at desc`;
  return rows as unknown as JwtKeyInfo[];
}

export async function jwtCommand(argv: string[], sql: Sql): Promise<number> {
  const args = parseArgs(argv, { values: ["config"], booleans: ["json"] });
  const [sub, ...extra] = args.positionals;
  if (args.flags.help || !sub) {
    console.log(JWT_USAGE);
    return sub || args.flags.help ? 0 : 2;
  }
  if (extra.length) throw new AppError("CLI_USAGE", `unexpected argument ${JSON.stringify(extra[0])}`);
  switch (sub) {
    case "rotate": {
      const kid = await rotateJwtKey(sql);
      console.log(`new session signing key: ${kid}`);
      console.log(`previous keys keep verifying existing sessions for ${RETIRED_KEY_GRACE_MINUTES / 60} h; running panels sign with ${kid} within 30 s`);
      return 0;
    }
    case "list": {
      const keys = await listJwtKeys(sql);
      if (args.flags.json) {
        console.log(JSON.stringify(keys, null, 2));
        return 0;
      }
      if (!keys.length) {
        console.log("no keys yet (the control plane makes the first one when it starts)");
        return 0;
      }
      const w = Math.max(3, ...keys.map((k) => k.kid.length));
      console.log(`${"KID".padEnd(w)}  ${"CREATED".padEnd(24)}  ${"RETIRED".padEnd(24)}  STATUS`);
      for (const k of keys) {
        console.log(`${k.kid.padEnd(w)}  ${k.created_at.toISOString().padEnd(24)}  ${(k.retired_at?.toISOString() ?? "–").padEnd(24)}  ${k.status}`);
      }
      return 0;
    }
    default:
      throw new AppError("CLI_USAGE", `unknown jwt command ${JSON.stringify(sub)}: expected rotate or list`);
  }
}
