/**
 * `lteproxy backup [file]`: pg_dump of the configured database (the embedded one by default) plus the config
 * directory and a manifest, as one tar.gz (or tar.zst). The archive is written next to its final name and renamed
 * into place, mode 0600: it holds the database password, the signing secrets and every proxy password.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { DEFAULT_CONFIG_FILE } from "../../config.ts";
import type { Sql } from "../../db/client.ts";
import { migrationStatus } from "../../db/migrate.ts";
import { run } from "../../lib/exec.ts";
import { COMMIT, VERSION } from "../../version.ts";
import { CONFIG_DIR, DUMP_FILE, MANIFEST_FILE, packArchive, type BackupManifest } from "./archive.ts";
import { findPgTool, pgConnection, serverMajor, tableRowCounts } from "./pg-tools.ts";

export interface BackupOptions {
  sql: Sql;
  /** libpq URL of the same database (with its password; it is passed to pg_dump through PGPASSWORD). */
  url: string;
  nodeId: string;
  /** Output file; default `<dataDir>/backups/lteproxy-<node>-<utc>.tar.gz`. */
  file?: string;
  dataDir?: string;
  /** Config files to include (see backupConfigFiles). */
  configFiles?: string[];
}

export interface BackupResult {
  file: string;
  bytes: number;
  manifest: BackupManifest;
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Copies the readable files into `dest` under their base names; unreadable ones are listed, not fatal. */
function copyConfigFiles(paths: string[], dest: string): BackupManifest["config"] {
  const out: BackupManifest["config"] = { files: [], skipped: [] };
  mkdirSync(dest, { recursive: true, mode: 0o700 });
  for (const from of paths) {
    const name = basename(from);
    try {
      if (!statSync(from).isFile() || out.files.some((f) => f.name === name)) continue;
      copyFileSync(from, join(dest, name));
      out.files.push({ name, from });
    } catch (error) {
      out.skipped.push(`${from}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  return out;
}

export async function createBackup(opts: BackupOptions): Promise<BackupResult> {
  const createdAt = new Date();
  const file = resolve(opts.file ?? join(opts.dataDir ?? ".", "backups", `lteproxy-${opts.nodeId}-${stamp(createdAt)}.tar.gz`));
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const work = mkdtempSync(join(tmpdir(), "lteproxy-backup-"));
  const tmpFile = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    const major = await serverMajor(opts.sql);
    const pgDump = await findPgTool("pg_dump", major);
    const conn = pgConnection(opts.url);
    // Counts first: the dump is one snapshot taken a moment later, so on a busy box it may hold a few more rows.
    const rowCounts = await tableRowCounts(opts.sql);
    const status = await migrationStatus(opts.sql);
    await run([pgDump.path, "--format=custom", "--no-owner", "--no-privileges", `--file=${join(work, DUMP_FILE)}`, `--dbname=${conn.url}`], {
      env: conn.env, secrets: conn.secrets, timeoutMs: 3_600_000,
    });
    const dbName = String((await opts.sql`select current_database() as d`)[0]!.d);
    const config = copyConfigFiles(opts.configFiles ?? [], join(work, CONFIG_DIR));
    const manifest: BackupManifest = {
      format: "lteproxy-backup",
      formatVersion: 1,
      lteproxy: { version: VERSION, commit: COMMIT },
      createdAt: createdAt.toISOString(),
      nodeId: opts.nodeId,
      hostname: hostname(),
      database: { serverMajor: major, name: dbName, dumpTool: `pg_dump ${pgDump.major}` },
      schemaMigrations: status.applied.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })),
      rowCounts,
      config,
    };
    writeFileSync(join(work, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
    await packArchive(work, tmpFile);
    chmodSync(tmpFile, 0o600);
    renameSync(tmpFile, file);
    return { file, bytes: statSync(file).size, manifest };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(tmpFile, { force: true });
  }
}

/**
 * What a backup includes besides the database: the config file in use (--config, $LTEPROXY_CONFIG or
 * /etc/lteproxy/lteproxy.toml) and, next to the default one, lteproxy.env (the first-run admin password).
 */
export function backupConfigFiles(configFile: string | undefined): string[] {
  const file = configFile ?? process.env.LTEPROXY_CONFIG ?? DEFAULT_CONFIG_FILE;
  const files = [resolve(file)];
  if (resolve(file) === DEFAULT_CONFIG_FILE) files.push(join(dirname(DEFAULT_CONFIG_FILE), "lteproxy.env"));
  return files.filter((f) => existsSync(f));
}
