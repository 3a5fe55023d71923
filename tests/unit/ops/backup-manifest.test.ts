/** The restore's version check and the backup manifest/connection helpers, without a database. */
import { describe, expect, test } from "bun:test";
import { parseManifest, type BackupManifest } from "../../../src/cli/ops/archive.ts";
import { pgConnection } from "../../../src/cli/ops/pg-tools.ts";
import { checkBackupSchema } from "../../../src/cli/ops/restore.ts";
import { checksum } from "../../../src/db/migrate.ts";
import { hasCode } from "../../../src/lib/errors.ts";

const known = [{ version: 1, name: "001_a.sql", sql: "create table a ()" }, { version: 2, name: "002_b.sql", sql: "create table b ()" }];
const manifest = (migrations: BackupManifest["schemaMigrations"]): BackupManifest => ({
  format: "lteproxy-backup", formatVersion: 1, lteproxy: { version: "0.2.0", commit: "abc" }, createdAt: "2026-11-25T00:00:00Z",
  nodeId: "n", hostname: "h", database: { serverMajor: 15, name: "lteproxy", dumpTool: "pg_dump 15" }, schemaMigrations: migrations,
  rowCounts: { a: 1 }, config: { files: [], skipped: [] },
});
const applied = (v: number) => ({ version: v, name: known[v - 1]!.name, checksum: checksum(known[v - 1]!.sql) });
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe("checkBackupSchema", () => {
  test("same or older schema passes (pending migrations run after the restore)", () => {
    expect(() => checkBackupSchema(manifest([applied(1), applied(2)]), known)).not.toThrow();
    expect(() => checkBackupSchema(manifest([applied(1)]), known)).not.toThrow();
  });

  test("a newer schema is refused, naming the unknown migration; an edited one too", () => {
    const newer = thrown(() => checkBackupSchema(manifest([applied(1), applied(2), { version: 3, name: "003_c.sql", checksum: "x" }]), known));
    expect(hasCode(newer, "BACKUP_TOO_NEW")).toBe(true);
    expect((newer as Error).message).toContain("003_c.sql");
    expect((newer as Error).message).toContain("0.2.0");
    const edited = thrown(() => checkBackupSchema(manifest([{ ...applied(1), checksum: "0".repeat(64) }]), known));
    expect(hasCode(edited, "BACKUP_SCHEMA_MISMATCH")).toBe(true);
  });
});

describe("parseManifest", () => {
  test("round trip; garbage and foreign JSON are BACKUP_INVALID", () => {
    const m = manifest([applied(1)]);
    expect(parseManifest(JSON.stringify(m))).toEqual(m);
    for (const text of ["nope", "{}", JSON.stringify({ ...m, format: "pg_dump" }), JSON.stringify({ ...m, formatVersion: 2 })]) {
      expect(hasCode(thrown(() => parseManifest(text)), "BACKUP_INVALID")).toBe(true);
    }
  });
});

describe("pgConnection", () => {
  test("the password moves from the URL to PGPASSWORD", () => {
    const c = pgConnection("postgres://lteproxy:p%40ss%3Aw@127.0.0.1:5432/lteproxy?sslmode=disable");
    expect(c.url).toBe("postgres://lteproxy@127.0.0.1:5432/lteproxy?sslmode=disable");
    expect(c.env).toEqual({ PGPASSWORD: "p@ss:w" });
    expect(c.secrets).toContain("p@ss:w");
    expect(pgConnection("postgres://u@h/db").env).toEqual({});
  });
});
