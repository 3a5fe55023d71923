/**
 * export-config on one box, import-config on another: settings, panel users, proxy users (fleet, node and per-modem)
 * and rotation settings arrive; per-modem entries for IMEIs the target lacks are skipped and listed; a bad document
 * is refused as a whole with every problem named by its JSON path; --dry-run changes nothing. The CLI entry points
 * run against a config file naming the test database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportConfigCommand, importConfigCommand } from "../../../src/cli/ops/commands.ts";
import { exportConfig, importConfig, parseConfigDoc, type ConfigDoc } from "../../../src/cli/ops/config-transfer.ts";
import { hasCode } from "../../../src/lib/errors.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

let a: TestDb;
let b: TestDb;
const dir = mkdtempSync(join(tmpdir(), "ltp-cfgx-"));
const H = "$argon2id$v=19$m=4096,t=2,p=1$c2FsdA$aGFzaA";
const [M1, M2, M3] = ["866000000000071", "866000000000072", "866000000000073"];

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

beforeAll(async () => {
  a = await createTestDb({ prefix: "cfga" });
  b = await createTestDb({ prefix: "cfgb" });
  for (const [db, node, imeis] of [[a, "boxa", [M1, M2, M3]], [b, "boxb", [M1, M2]]] as const) {
    await db.sql`insert into nodes (id, hostname) values (${node}, ${node})`;
    for (const imei of imeis) await db.sql`insert into modems (node_id, imei) values (${node}, ${imei})`;
  }
  const m1 = Number((await a.sql`select id from modems where imei = ${M1}`)[0]!.id);
  const m3 = Number((await a.sql`select id from modems where imei = ${M3}`)[0]!.id);
  await a.sql`insert into settings (node_id, key, value) values ('', 'proxy.whitelist', '["192.168.7.0/24"]'), ('boxa', 'health.interval_s', '45'),
              ('boxa', 'internal.proxy_counters', '{"startedAt":"x"}')`;
  await a.sql`insert into users (username, password_hash, role, must_change_password) values ('admin', ${H}, 'admin', false), ('tech', ${H}, 'technician', true)`;
  await a.sql`insert into proxy_users (node_id, modem_id, username, password, password_hash, quota_mb) values
              (null, null, 'fleetuser', 'fpw', ${H}, null), ('boxa', null, 'nodeuser', 'npw', ${H}, 500),
              ('boxa', ${m1}, 'u3128', 'pw1', ${H}, null), ('boxa', ${m3}, 'u3130', 'pw3', ${H}, null)`;
  await a.sql`update modems set rotation_method = 'data', rotation_schedule = '*/30 * * * *' where imei = ${M1}`;
  await b.sql`insert into users (username, password_hash, role) values ('admin', '$argon2id$old', 'viewer')`;
  writeFileSync(join(dir, "b.toml"), `[database]\nurl = "${b.url}"\n[node]\nid = "boxb"\n[paths]\ndata_dir = "${dir}"\n`);
});

afterAll(async () => {
  await a?.drop();
  await b?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("export-config / import-config", () => {
  let doc: ConfigDoc;

  test("export holds settings (not internal ones), users, proxy users with their scope, rotation", async () => {
    doc = await exportConfig(a.sql, "boxa");
    expect(doc.settings).toEqual([
      { scope: "fleet", key: "proxy.whitelist", value: ["192.168.7.0/24"] },
      { scope: "node", key: "health.interval_s", value: 45 },
    ]);
    expect(doc.users.map((u) => [u.username, u.role, u.must_change_password])).toEqual([["admin", "admin", false], ["tech", "technician", true]]);
    expect(doc.proxy_users.map((p) => [p.scope, p.username, p.password, p.quota_mb])).toEqual([
      ["fleet", "fleetuser", "fpw", null], ["node", "nodeuser", "npw", 500], [{ imei: M1 }, "u3128", "pw1", null], [{ imei: M3 }, "u3130", "pw3", null],
    ]);
    expect(doc.rotation.find((r) => r.imei === M1)).toEqual({ imei: M1, method: "data", schedule: "*/30 * * * *" });
    // What export prints parses again.
    expect(parseConfigDoc(JSON.stringify(doc))).toEqual(doc);
  });

  test("the CLI exports to a private file and imports it on the other box; a dry run changes nothing", async () => {
    writeFileSync(join(dir, "a.toml"), `[database]\nurl = "${a.url}"\n[node]\nid = "boxa"\n[paths]\ndata_dir = "${dir}"\n`);
    const out = join(dir, "export.json");
    expect(await quietly(() => exportConfigCommand(["--config", join(dir, "a.toml"), "--output", out]))).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(out, "utf8")).format).toBe("lteproxy-config");

    const before = await b.sql`select count(*)::int as n from proxy_users`;
    expect(await quietly(() => importConfigCommand([out, "--dry-run", "--config", join(dir, "b.toml")]))).toBe(0);
    expect((await b.sql`select count(*)::int as n from proxy_users`)[0]!.n).toBe(before[0]!.n);

    expect(await quietly(() => importConfigCommand([out, "--config", join(dir, "b.toml")]))).toBe(0);
    const users = await b.sql`select username, role, password_hash, session_epoch from users order by username`;
    expect(users.map((u) => [u.username, u.role, u.password_hash])).toEqual([["admin", "admin", H], ["tech", "technician", H]]);
    expect(users[0]!.session_epoch).toBe(1);
    const pu = await b.sql`select p.node_id, m.imei, p.username, p.password from proxy_users p left join modems m on m.id = p.modem_id order by p.username`;
    expect(pu.map((p) => [p.node_id, p.imei, p.username, p.password])).toEqual([
      [null, null, "fleetuser", "fpw"], ["boxb", null, "nodeuser", "npw"], ["boxb", M1, "u3128", "pw1"],
    ]);
    const s = await b.sql`select node_id, key, value from settings order by key`;
    expect(s.map((x) => [x.node_id, x.key, x.value])).toEqual([["boxb", "health.interval_s", 45], ["", "proxy.whitelist", ["192.168.7.0/24"]]]);
    const rot = await b.sql`select rotation_method, rotation_schedule from modems where imei = ${M1}`;
    expect(rot[0]).toEqual({ rotation_method: "data", rotation_schedule: "*/30 * * * *" });
    const audit = await b.sql`select action from audit_log`;
    expect(audit.map((x) => x.action)).toEqual(["config.import"]);
  });

  test("importing twice changes nothing more; M3's entries are reported as skipped", async () => {
    const r = await importConfig(b.sql, "boxb", doc);
    expect(r.users).toEqual({ created: 0, updated: 2 });
    expect(r.proxyUsers).toEqual({ created: 0, updated: 3 });
    expect(r.skipped).toEqual([`proxy user u3130: modem ${M3} is not on node boxb`, `rotation of ${M3}: modem is not on node boxb`]);
    expect((await b.sql`select count(*)::int as n from proxy_users`)[0]!.n).toBe(3);
  });

  test("a bad document is refused whole, with every problem named by its path", () => {
    const bad = {
      ...doc,
      users: [{ ...doc.users[0], role: "root" }, { username: "bad name", password_hash: "plain", role: "admin" }],
      proxy_users: [{ ...doc.proxy_users[0], scope: { imei: "12" } }],
      settings: [{ scope: "node", key: "health.interval_s", value: 5 }, { scope: "node", key: "internal.x", value: 1 }],
      extra: true,
    };
    let err: unknown;
    try {
      parseConfigDoc(JSON.stringify(bad));
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, "CONFIG_DOC_INVALID")).toBe(true);
    const issues = ((err as { details: { issues: string[] } }).details.issues).join("\n");
    for (const path of ["users.0.role", "users.1.username", "users.1.password_hash", "proxy_users.0.scope", "settings.1.key", "extra"]) {
      expect(issues).toContain(path);
    }
    const settingErr = (() => {
      try {
        parseConfigDoc(JSON.stringify({ ...doc, settings: [{ scope: "node", key: "health.interval_s", value: 5 }] }));
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(settingErr).toContain("settings.0.value (health.interval_s)");
    for (const text of ["", "{", "[]", '{"format":"other","version":1}']) {
      expect(() => parseConfigDoc(text)).toThrow(/not JSON|invalid config document/);
    }
  });
});
