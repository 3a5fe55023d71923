/**
 * `lteproxy restore FILE`: puts a backup made by `lteproxy backup` into the configured database.
 *
 * Checks before anything is written: the archive and its manifest are valid; every migration in the backup is one
 * this binary knows with the same checksum (a backup from a newer schema is refused: upgrade lteproxy first); the
 * database is empty (or `--replace` was given and no running lteproxy is connected to it). Then pg_restore in a
 * single transaction, pending migrations on top (an older backup comes up to this version's schema), and the row
 * counts compared with the manifest.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { checksum, migrate } from "../../db/migrate.ts";
import { MIGRATIONS, type MigrationFile } from "../../db/migration-files.ts";
import { AppError } from "../../lib/errors.ts";
import { run } from "../../lib/exec.ts";
import { CONFIG_DIR, DUMP_FILE, MANIFEST_FILE, parseManifest, unpackArchive, type BackupManifest } from "./archive.ts";
import { findPgTool, pgConnection, serverMajor, tableRowCounts } from "./pg-tools.ts";

export interface RestoreOptions {
  sql: Sql;
  url: string;
  file: string;
  /** Wipe a non-empty database first (its public schema) instead of refusing. */
  replace?: boolean;
  /** Also write the backup's config files back to where they came from (existing ones are kept as .bak-<ts>). */
  restoreConfig?: boolean;
  /** Migrations this binary knows (tests pass their own). */
  migrations?: MigrationFile[];
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Migrations applied after the restore (the backup was older than this binary). */
  migrated: string[];
  rowCounts: Record<string, number>;
  /** Tables whose row count differs from the manifest (rows written while the backup ran). */
  countDiffs: Array<{ table: string; backup: number; restored: number }>;
  configRestored: string[];
}

/** Refuses a backup whose schema this binary does not know (newer, or an edited migration). */
export function checkBackupSchema(manifest: BackupManifest, known: MigrationFile[] = MIGRATIONS): void {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  const newer = manifest.schemaMigrations.filter((m) => !byVersion.has(m.version));
  if (newer.length) {
    const max = Math.max(0, ...known.map((m) => m.version));
    throw new AppError("BACKUP_TOO_NEW", `the backup was made by lteproxy ${manifest.lteproxy.version} with schema migration(s) ` +
      `${newer.map((m) => m.name).join(", ")} that this lteproxy (schema ${max}) does not know: install that version or newer, then restore`,
      { newer: newer.map((m) => m.version) });
  }
  const edited = manifest.schemaMigrations.filter((m) => checksum(byVersion.get(m.version)!.sql) !== m.checksum);
  if (edited.length) {
    throw new AppError("BACKUP_SCHEMA_MISMATCH", `the backup's migration(s) ${edited.map((m) => m.name).join(", ")} differ from this ` +
      "lteproxy's: it was made by a different build of the same version", { edited: edited.map((m) => m.version) });
  }
}

async function userTables(sql: Sql): Promise<string[]> {
  const r = await sql`select tablename from pg_tables where schemaname = 'public' order by tablename`;
  return r.map((x) => x.tablename as string);
}

/** Empties the public schema; refuses while another lteproxy process is connected to this database. */
async function wipe(sql: Sql): Promise<void> {
  const others = await sql`
    select pid, application_name from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and application_name like 'lteproxy%'`;
  if (others.length) {
    throw new AppError("RESTORE_DB_IN_USE", `${others.length} lteproxy connection(s) to this database are open (a running control ` +
      "plane?): stop it first (systemctl stop lteproxy)", { pids: others.map((o) => o.pid) });
  }
  await sql.unsafe("drop schema public cascade; create schema public");
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  if (!existsSync(opts.file)) throw new AppError("BACKUP_NOT_FOUND", `${opts.file} does not exist`);
  const work = mkdtempSync(join(tmpdir(), "lteproxy-restore-"));
  try {
    const members = await unpackArchive(opts.file, work);
    if (!members.includes(MANIFEST_FILE) || !members.includes(DUMP_FILE)) {
      throw new AppError("BACKUP_INVALID", `${opts.file} is not an lteproxy backup (no ${MANIFEST_FILE} or ${DUMP_FILE})`);
    }
    const manifest = parseManifest(readFileSync(join(work, MANIFEST_FILE), "utf8"));
    checkBackupSchema(manifest, opts.migrations);
    const tables = await userTables(opts.sql);
    if (tables.length && !opts.replace) {
      throw new AppError("RESTORE_DB_NOT_EMPTY", `the database already has ${tables.length} table(s) (${tables.slice(0, 4).join(", ")}` +
        `${tables.length > 4 ? ", …" : ""}): restore into an empty database, or stop lteproxy and pass --replace to wipe it first`);
    }
    const major = await serverMajor(opts.sql);
    const pgRestore = await findPgTool("pg_restore", Math.max(major, manifest.database.serverMajor));
    if (tables.length) await wipe(opts.sql);
    const conn = pgConnection(opts.url);
    await run([pgRestore.path, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", `--dbname=${conn.url}`,
      join(work, DUMP_FILE)], { env: conn.env, secrets: conn.secrets, timeoutMs: 3_600_000 });
    const migrated = await migrate(opts.sql, opts.migrations);
    const rowCounts = await tableRowCounts(opts.sql);
    const countDiffs = Object.entries(manifest.rowCounts)
      .filter(([t, n]) => rowCounts[t] !== n)
      .map(([table, backup]) => ({ table, backup, restored: rowCounts[table] ?? 0 }));
    const configRestored = opts.restoreConfig ? restoreConfigFiles(manifest, join(work, CONFIG_DIR)) : [];
    return { manifest, migrated, rowCounts, countDiffs, configRestored };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Writes config files back (mode 0600); an existing file is renamed to <name>.bak-<ts> first. */
function restoreConfigFiles(manifest: BackupManifest, from: string): string[] {
  const ts = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const out: string[] = [];
  for (const f of manifest.config.files) {
    const src = join(from, f.name);
    if (!existsSync(src)) continue;
    mkdirSync(dirname(f.from), { recursive: true });
    if (existsSync(f.from)) renameSync(f.from, `${f.from}.bak-${ts}`);
    copyFileSync(src, f.from);
    chmodSync(f.from, 0o600);
    out.push(f.from);
  }
  return out;
}
