/**
 * `backup` then `restore` into an empty database gives identical rows: a checksum of every row of every table
 * (schema_migrations, the event counter and sequences included) before and after. Also: a backup from a newer
 * schema is refused before anything is written, a non-empty database is refused without --replace, and config
 * files travel along. Needs a pg_dump at least as new as the test server (Debian's PostgreSQL 15 in CI); without
 * one the tests are reported as skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sql } from "../../../src/db/client.ts";
import { createBackup } from "../../../src/cli/ops/backup.ts";
import { findPgTool, serverMajor } from "../../../src/cli/ops/pg-tools.ts";
import { restoreBackup } from "../../../src/cli/ops/restore.ts";
import { packArchive, unpackArchive } from "../../../src/cli/ops/archive.ts";
import { hasCode } from "../../../src/lib/errors.ts";
import { connect } from "../../../src/db/client.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

// Which pg_dump/pg_restore fit the test server decides whether this file runs at all (top-level await, so that the
// tests are reported as skipped rather than passed without one).
const source: TestDb = await createTestDb({ prefix: "bksrc" });
let target: TestDb;
const skipWhy = await Promise.all([serverMajor(source.sql)]).then(async ([major]) => {
  await findPgTool("pg_dump", major);
  await findPgTool("pg_restore", major);
  return "";
}).catch((error: Error) => error.message);
const available = skipWhy === "";
if (!available) console.warn(`SKIPPED backup/restore tests: ${skipWhy}`);
const dir = mkdtempSync(join(tmpdir(), "ltp-backup-"));
const backupFile = join(dir, "out", "box.tar.gz");
const confDir = join(dir, "etc");

/** md5 over every row (as text, sorted) of every public table, plus every sequence's last value. */
async function checksums(sql: Sql): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const tables = await sql`select tablename from pg_tables where schemaname = 'public' order by tablename`;
  for (const t of tables) {
    const name = t.tablename as string;
    const r = await sql`select count(*)::int as n, md5(coalesce(string_agg(x::text, E'\n' order by x::text), '')) as h from ${sql(name)} x`;
    out[name] = `${r[0]!.n}:${r[0]!.h}`;
  }
  const seqs = await sql`select sequencename, last_value from pg_sequences where schemaname = 'public' order by sequencename`;
  for (const s of seqs) out[`seq:${s.sequencename}`] = String(s.last_value);
  return out;
}

async function seed(sql: Sql): Promise<void> {
  await sql`insert into nodes (id, hostname, info) values ('box1', 'box1.lan', '{"pid": 1}')`;
  const m = await sql`insert into modems (node_id, imei, slot, state, wan_ip, dns, proxy_port, route_table, bytes_tx, data_session, rotation_schedule)
    values ('box1', '866000000000061', 'pci-0000_00_14_0-usb-0_1_1_1_2', 'online', '10.64.0.2', '{10.64.0.1}', 3128, 100, 123456789012, '{"cid": 7}', '0 */6 * * *'),
           ('box1', '866000000000062', 'pci-0000_00_14_0-usb-0_1_2_1_2', 'offline', null, null, 3129, 101, 0, null, null)
    returning id`;
  const id = Number(m[0]!.id);
  await sql`insert into modem_events (node_id, modem_id, kind, payload) values ('box1', ${id}, 'modem.state', '{"from":"registered","to":"online"}'),
            ('box1', ${id}, 'data.up', '{"address":"10.64.0.2"}')`;
  await sql`insert into proxy_users (node_id, modem_id, username, password, password_hash, quota_mb) values ('box1', ${id}, 'u3128', 'p@ss:w"rd', '$argon2id$v=19$x', 100)`;
  await sql`insert into users (username, password_hash, role) values ('admin', '$argon2id$v=19$y', 'admin')`;
  await sql`insert into settings (node_id, key, value) values ('', 'proxy.whitelist', '["192.168.1.0/24"]'), ('box1', 'health.interval_s', '45')`;
  await sql`insert into connection_log (node_id, modem_id, imei, port, ts, client_ip, username, target_host, target_port, bytes_up, bytes_down, result)
    select 'box1', ${id}, '866000000000061', 3128, now() - make_interval(secs => g), '192.168.1.5', 'u3128', 'example.org', 443, g, g * 10, 'ok'
    from generate_series(1, 3000) g`;
  await sql`insert into health_samples (modem_id, ok, csq, rtt_ms, public_ip) values (${id}, true, 20, 41.5, '198.18.0.7')`;
}

beforeAll(async () => {
  if (!available) return;
  await seed(source.sql);
  target = await createTestDb({ prefix: "bkdst", migrated: false });
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(confDir, "lteproxy.toml"), "[http]\nport = 8080\n", { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await source?.drop();
  await target?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)("backup and restore", () => {
  test("backup writes one private archive with the dump, the config and a manifest", async () => {
    const r = await createBackup({ sql: source.sql, url: source.url, nodeId: "box1", file: backupFile, configFiles: [join(confDir, "lteproxy.toml"), join(confDir, "missing.env")] });
    expect(r.file).toBe(backupFile);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    expect(r.manifest.schemaMigrations.map((m) => m.name)).toEqual(["001_schema.sql", "002_panel.sql"]);
    expect(r.manifest.rowCounts.connection_log).toBe(3000);
    expect(r.manifest.config.files).toEqual([{ name: "lteproxy.toml", from: join(confDir, "lteproxy.toml") }]);
    const members = await unpackArchive(backupFile, join(dir, "peek"));
    expect(members.sort()).toEqual(["config/lteproxy.toml", "database.dump", "manifest.json"]);
  }, 60_000);

  test("restore into an empty database gives identical rows in every table", async () => {
    const before = await checksums(source.sql);
    const r = await restoreBackup({ sql: target.sql, url: target.url, file: backupFile });
    expect(r.countDiffs).toEqual([]);
    expect(r.migrated).toEqual([]);
    const after = await checksums(target.sql);
    expect(Object.keys(after).length).toBeGreaterThan(15);
    expect(after).toEqual(before);
    // The restored database keeps working: sequences continue, the event trigger numbers on.
    const next = await target.sql`insert into modem_events (node_id, kind) values ('box1', 'x') returning seq`;
    expect(Number(next[0]!.seq)).toBe(3);
  }, 60_000);

  test("a non-empty database is refused without --replace; with it (and nothing else connected) it is replaced", async () => {
    const err = await restoreBackup({ sql: target.sql, url: target.url, file: backupFile }).catch((e) => e);
    expect(hasCode(err, "RESTORE_DB_NOT_EMPTY")).toBe(true);
    await target.sql`delete from connection_log where id % 2 = 0`;
    // Our own pool is "lteproxy": a running control plane would look the same, so --replace refuses while it is open.
    const busy = await restoreBackup({ sql: connect(target.url, { max: 1, applicationName: "restore-test" }), url: target.url, file: backupFile, replace: true }).catch((e) => e);
    expect(hasCode(busy, "RESTORE_DB_IN_USE")).toBe(true);
    await target.sql.end();
    const sql = connect(target.url, { max: 2, applicationName: "restore-test" });
    try {
      const r = await restoreBackup({ sql, url: target.url, file: backupFile, replace: true });
      expect(r.rowCounts.connection_log).toBe(3000);
      expect(await checksums(sql)).toEqual(await checksums(source.sql));
    } finally {
      await sql.end();
      target.sql = connect(target.url, { max: 2 });
    }
  }, 60_000);

  test("a backup from a newer schema is refused before anything is written", async () => {
    const unpacked = join(dir, "newer");
    await unpackArchive(backupFile, unpacked);
    const manifest = JSON.parse(readFileSync(join(unpacked, "manifest.json"), "utf8"));
    manifest.schemaMigrations.push({ version: 999, name: "999_future.sql", checksum: "0".repeat(64) });
    writeFileSync(join(unpacked, "manifest.json"), JSON.stringify(manifest));
    const newer = join(dir, "newer.tar.gz");
    await packArchive(unpacked, newer);
    const empty = await createTestDb({ prefix: "bknew", migrated: false });
    try {
      const err = await restoreBackup({ sql: empty.sql, url: empty.url, file: newer }).catch((e) => e);
      expect(hasCode(err, "BACKUP_TOO_NEW")).toBe(true);
      expect((err as Error).message).toContain("999_future.sql");
      const tables = await empty.sql`select count(*)::int as n from pg_tables where schemaname = 'public'`;
      expect(tables[0]!.n).toBe(0);
    } finally {
      await empty.drop();
    }
  }, 60_000);

});

describe("restore of something that is not a backup", () => {
  test("garbage instead of a backup gets a clear error", async () => {
    const junk = join(dir, "junk.tar.gz");
    writeFileSync(junk, "this is not a tarball");
    const err = await restoreBackup({ sql: source.sql, url: source.url, file: junk }).catch((e) => e);
    expect(hasCode(err, "BACKUP_INVALID")).toBe(true);
    const missing = await restoreBackup({ sql: source.sql, url: source.url, file: join(dir, "nope.tar.gz") }).catch((e) => e);
    expect(hasCode(missing, "BACKUP_NOT_FOUND")).toBe(true);
  });
});
