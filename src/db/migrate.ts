/**
 * Migration runner: applies sql/NNN_name.sql in order, each in its own transaction, recorded in schema_migrations
 * with a SHA-256 checksum. Refuses to run when an applied file was edited. A session advisory lock makes two
 * processes that start at once apply each migration exactly once.
 */
import { createHash } from "node:crypto";
import type { Sql } from "./client.ts";
import { MIGRATIONS, type MigrationFile } from "./migration-files.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("migrate");

/** Arbitrary constant: "ltep" in ASCII. Every lteproxy process uses it for the migration lock. */
const MIGRATION_LOCK_KEY = 0x6c746570;

export function checksum(sqlText: string): string {
  return createHash("sha256").update(sqlText).digest("hex");
}

export interface MigrationStatus {
  applied: Array<{ version: number; name: string; checksum: string; applied_at: Date }>;
  pending: MigrationFile[];
  /** Applied files whose content changed since. */
  modified: Array<{ version: number; name: string }>;
  /** Versions in the database that this binary does not know (a newer binary migrated it). */
  unknown: number[];
}

async function ensureTable(sql: Sql): Promise<void> {
  await sql`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version     integer PRIMARY KEY,
      name        text NOT NULL,
      checksum    text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`;
}

export async function migrationStatus(sql: Sql, files: MigrationFile[] = MIGRATIONS): Promise<MigrationStatus> {
  const exists = await sql`select to_regclass('schema_migrations') as t`;
  const rows = exists[0]?.t
    ? ((await sql`select version, name, checksum, applied_at from schema_migrations order by version`) as unknown as MigrationStatus["applied"])
    : [];
  const byVersion = new Map(rows.map((r) => [r.version, r]));
  const known = new Set(files.map((f) => f.version));
  return {
    applied: rows,
    pending: files.filter((f) => !byVersion.has(f.version)),
    modified: files
      .filter((f) => byVersion.has(f.version) && byVersion.get(f.version)!.checksum !== checksum(f.sql))
      .map((f) => ({ version: f.version, name: f.name })),
    unknown: rows.filter((r) => !known.has(r.version)).map((r) => r.version),
  };
}

function assertConsistent(status: MigrationStatus): void {
  if (status.modified.length > 0) {
    const names = status.modified.map((m) => m.name).join(", ");
    throw new AppError("MIGRATION_MODIFIED", `applied migration(s) were edited after being applied: ${names}. ` +
      "Never edit an applied migration; add a new one.", { modified: status.modified });
  }
  if (status.unknown.length > 0) {
    throw new AppError("MIGRATION_UNKNOWN", `the database has migration(s) ${status.unknown.join(", ")} that this ` +
      "lteproxy version does not know: it was migrated by a newer version", { unknown: status.unknown });
  }
}

/**
 * Applies pending migrations, each in its own transaction. Returns the names applied.
 * Safe to call from several processes at once: every transaction first takes the same transaction-level advisory
 * lock and re-reads the status, so a concurrent runner waits and then finds the migration already applied.
 */
export async function migrate(sql: Sql, files: MigrationFile[] = MIGRATIONS): Promise<string[]> {
  const sorted = [...files].sort((a, b) => a.version - b.version);
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await ensureTable(tx as unknown as Sql);
  });
  const applied: string[] = [];
  for (;;) {
    const name = (await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
      const status = await migrationStatus(tx as unknown as Sql, sorted);
      assertConsistent(status);
      const file = status.pending[0];
      if (!file) return null;
      log.info({ migration: file.name }, "applying migration");
      try {
        await tx.unsafe(file.sql);
      } catch (error) {
        throw new AppError("MIGRATION_FAILED", `migration ${file.name} failed: ${(error as Error).message}`,
          { file: file.name }, { cause: error });
      }
      await tx`insert into schema_migrations (version, name, checksum) values (${file.version}, ${file.name}, ${checksum(file.sql)})`;
      return file.name;
    })) as string | null;
    if (!name) return applied;
    applied.push(name);
  }
}

/** For serve/readyz/doctor: throws unless every migration is applied and unmodified. */
export async function assertMigrationsCurrent(sql: Sql): Promise<void> {
  const status = await migrationStatus(sql);
  assertConsistent(status);
  if (status.pending.length > 0) {
    throw new AppError("MIGRATIONS_PENDING", `pending migrations: ${status.pending.map((p) => p.name).join(", ")}`);
  }
}
