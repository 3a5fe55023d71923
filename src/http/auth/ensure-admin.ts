/**
 * First run (PocketBase style): with no users at all, create `admin` with the installer's / LTEPROXY_ADMIN_PASSWORD
 * password, or with a generated one-time password that is printed once and must be changed at first login.
 */
import type { Config } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import { countUsers, createUser } from "../../db/queries/users.ts";
import { childLogger } from "../../lib/logger.ts";
import { generatePassword, hashPassword } from "./passwords.ts";

const log = childLogger("auth");

export interface EnsureAdminResult {
  created: boolean;
  /** Only for a generated password: show it to the operator once. */
  password?: string;
}

/** Call at start-up after migrations. Safe to race between nodes (the username is unique). */
export async function ensureAdmin(
  sql: Sql,
  config: Pick<Config, "auth">,
  opts: { print?: (line: string) => void } = {},
): Promise<EnsureAdminResult> {
  if ((await countUsers(sql)) > 0) return { created: false };
  const configured = config.auth.admin_password;
  const password = configured || generatePassword();
  const user = await createUser(sql, {
    username: "admin",
    passwordHash: await hashPassword(password),
    role: "admin",
    mustChangePassword: !configured,
  });
  if (!user) return { created: false }; // another node won the race
  if (configured) {
    log.info("created user admin with the configured password (LTEPROXY_ADMIN_PASSWORD / auth.admin_password)");
    return { created: true };
  }
  const print = opts.print ?? ((line: string) => process.stderr.write(line + "\n"));
  print(`\n  lteproxy first run: log in as "admin" with the one-time password  ${password}\n  (you will be asked to change it)\n`);
  log.warn({ username: "admin" }, "created user admin with a one-time password (printed on the console)");
  return { created: true, password };
}
