import { describe, expect, test, afterAll } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { connect } from "../../../src/db/client.ts";
import { migrate, migrationStatus, assertMigrationsCurrent, checksum } from "../../../src/db/migrate.ts";
import { MIGRATIONS } from "../../../src/db/migration-files.ts";

const dbs: TestDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

describe("migrations", () => {
  test("every sql/NNN_name.sql is embedded, in order", () => {
    const files = readdirSync(join(import.meta.dir, "../../../sql")).filter((f) => f.endsWith(".sql")).sort();
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files);
    MIGRATIONS.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      expect(m.name.startsWith(String(m.version).padStart(3, "0") + "_")).toBe(true);
    });
  });

  test("applies all, records checksums, second run applies nothing", async () => {
    const db = await createTestDb({ migrated: false });
    dbs.push(db);
    expect(await migrate(db.sql)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await migrate(db.sql)).toEqual([]);
    const status = await migrationStatus(db.sql);
    expect(status.pending).toEqual([]);
    expect(status.applied[0]!.checksum).toBe(checksum(MIGRATIONS[0]!.sql));
    await assertMigrationsCurrent(db.sql);
  });

  test("concurrent starts apply each migration once", async () => {
    const db = await createTestDb({ migrated: false });
    dbs.push(db);
    const others = [connect(db.url), connect(db.url), connect(db.url)];
    const results = await Promise.all(others.map((s) => migrate(s)));
    await Promise.all(others.map((s) => s.end()));
    const appliedCount = results.reduce((n, r) => n + r.length, 0);
    expect(appliedCount).toBe(MIGRATIONS.length);
    const rows = await db.sql`select count(*)::int as n from schema_migrations`;
    expect(rows[0]!.n).toBe(MIGRATIONS.length);
  });

  test("refuses to start when an applied file was edited", async () => {
    const db = await createTestDb();
    dbs.push(db);
    const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: m.sql + "\n-- edited\n" } : m));
    await expect(migrate(db.sql, edited)).rejects.toMatchObject({ code: "MIGRATION_MODIFIED" });
  });

  test("a failing migration is rolled back and reported with its name", async () => {
    const db = await createTestDb();
    dbs.push(db);
    const bad = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: "999_bad.sql", sql: "create table ok_part (x int); select nope;" }];
    await expect(migrate(db.sql, bad)).rejects.toMatchObject({ code: "MIGRATION_FAILED" });
    const t = await db.sql`select to_regclass('ok_part') as t`;
    expect(t[0]!.t).toBeNull();
    const status = await migrationStatus(db.sql, bad);
    expect(status.pending.map((p) => p.name)).toEqual(["999_bad.sql"]);
  });

  test("pending migrations make assertMigrationsCurrent fail", async () => {
    const db = await createTestDb({ migrated: false });
    dbs.push(db);
    await expect(assertMigrationsCurrent(db.sql)).rejects.toMatchObject({ code: "MIGRATIONS_PENDING" });
  });
});
