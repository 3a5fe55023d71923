/**
 * appliance/db-setup.sh against a real PostgreSQL: a throwaway cluster (initdb as the postgres user, random port,
 * socket in a temp dir) stands in for the box's; the script must create the role and database from the URL in the
 * config, be idempotent, follow a password change, and leave URLs it did not make alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./helpers.ts";

const SCRIPT = join(REPO, "appliance/db-setup.sh");
const pgBin = existsSync("/usr/lib/postgresql")
  ? readdirSync("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/initdb`))
  : undefined;
const pgUid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim() || NaN);
const pgGid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim() || NaN);
const why = process.getuid?.() !== 0 ? "needs root" : !pgBin ? "no PostgreSQL server binaries" : Number.isNaN(pgUid) ? "no postgres user"
  : !Bun.which("psql") || !Bun.which("setpriv") ? "psql or setpriv missing" : "";
if (why) console.warn(`SKIPPED db-setup.sh test: ${why}`);

const dir = mkdtempSync(join(tmpdir(), "ltp-dbsetup-"));
const data = join(dir, "data");
const port = 20000 + Math.floor(Math.random() * 20000);
let started = false;

const asPostgres = (argv: string[]) =>
  spawnSync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", ...argv], { encoding: "utf8", timeout: 60_000 });

function config(url: string): string {
  const file = join(dir, `cfg-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, `[http]\nport = 8080\n\n[database]\nurl = "${url}"\n`, { mode: 0o600 });
  return file;
}
function setup(file: string) {
  const r = spawnSync("bash", [SCRIPT, file], { encoding: "utf8", timeout: 120_000, env: { ...process.env, PGHOST: dir, LTEPROXY_DB_WAIT_S: "20" } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
function loginAs(user: string, password: string, db: string) {
  const r = spawnSync("psql", ["-X", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", db, "-tAc",
    "SELECT current_user || '|' || current_database() || '|' || (SELECT datdba::regrole FROM pg_database WHERE datname = current_database())"],
  { encoding: "utf8", env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" } });
  return r.status === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`;
}

beforeAll(() => {
  if (why) return;
  chownSync(dir, pgUid, pgGid);
  const init = asPostgres([`${pgBin}/initdb`, "-D", data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256"]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const start = asPostgres([`${pgBin}/pg_ctl`, "-D", data, "-l", join(dir, "log"), "-w", "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "start"]);
  if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}${start.stdout}`);
  started = true;
}, 120_000);

afterAll(() => {
  if (started) asPostgres([`${pgBin}/pg_ctl`, "-D", data, "-m", "immediate", "stop"]);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(why !== "")("db-setup.sh", () => {
  test("creates the role and the database from the configured URL, owned by the role", () => {
    const r = setup(config(`postgres://lteproxy:Secret123@127.0.0.1:${port}/lteproxy`));
    expect(r.out).toContain("role lteproxy and database lteproxy ready");
    expect(r.code).toBe(0);
    expect(loginAs("lteproxy", "Secret123", "lteproxy")).toBe("lteproxy|lteproxy|lteproxy");
  }, 60_000);

  test("is idempotent and follows a password change", () => {
    expect(setup(config(`postgres://lteproxy:Secret123@127.0.0.1:${port}/lteproxy`)).code).toBe(0);
    expect(setup(config(`postgres://lteproxy:NewSecret456@127.0.0.1:${port}/lteproxy`)).code).toBe(0);
    expect(loginAs("lteproxy", "NewSecret456", "lteproxy")).toBe("lteproxy|lteproxy|lteproxy");
    expect(loginAs("lteproxy", "Secret123", "lteproxy")).toStartWith("failed:");
  }, 60_000);

  test("leaves a remote or hand-made URL alone", () => {
    for (const url of [`postgres://other:pw@db.example:5432/other`, `postgres://lteproxy:p%40ss@127.0.0.1:${port}/x`]) {
      const r = setup(config(url));
      expect(r.code).toBe(0);
      expect(r.out).toContain("leaving it alone");
    }
    const roles = asPostgres(["psql", "-X", "-h", dir, "-p", String(port), "-d", "postgres", "-tAc", "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_'"]);
    expect(roles.stdout.trim()).toBe("lteproxy,postgres");
  }, 60_000);

  test("a missing config is an error, a config without a URL is not", () => {
    expect(setup(join(dir, "missing.toml")).code).toBe(1);
    const file = join(dir, "nourl.toml");
    writeFileSync(file, "[http]\nport = 8080\n");
    const r = setup(file);
    expect(r.code).toBe(0);
    expect(r.out).toContain("nothing to do");
  });
});
