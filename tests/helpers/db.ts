/**
 * Real PostgreSQL for tests: TEST_DATABASE_URL if set (CI: Debian's PostgreSQL 15), otherwise one embedded cluster
 * started on first use and shared by the whole run. Every test file gets its own fresh database.
 */
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { connect, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded.ts";

let shared: Promise<{ url: string; embedded?: EmbeddedPostgres; dir?: string }> | undefined;

async function baseUrl() {
  shared ??= (async () => {
    if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL };
    const dir = mkdtempSync(join(tmpdir(), "lteproxy-test-pg-"));
    const embedded = await startEmbeddedPostgres({ dataDir: dir });
    return { url: embedded.url, embedded, dir };
  })();
  return shared;
}

export async function stopSharedTestPostgres(): Promise<void> {
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  shared = undefined;
  if (s?.embedded) await s.embedded.stop();
  if (s?.dir) rmSync(s.dir, { recursive: true, force: true });
}

/** The server URL with another database name. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export interface TestDb {
  url: string;
  name: string;
  sql: Sql;
  drop(): Promise<void>;
}

/** Creates a fresh database (migrated unless `migrated: false`) for one test file. */
export async function createTestDb(opts: { migrated?: boolean; prefix?: string } = {}): Promise<TestDb> {
  const { url } = await baseUrl();
  const name = `${opts.prefix ?? "t"}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const dbUrl = withDatabase(url, name);
  const sql = connect(dbUrl, { max: 10 });
  if (opts.migrated !== false) await migrate(sql);
  return {
    url: dbUrl,
    name,
    sql,
    async drop() {
      await sql.end({ timeout: 5 }).catch(() => undefined);
      const a = postgres(url, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists "${name}" with (force)`).catch(() => undefined);
      await a.end();
    },
  };
}
