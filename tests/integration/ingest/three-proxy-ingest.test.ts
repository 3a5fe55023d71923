/**
 * 3proxy logs into connection_log: lines captured from a real 3proxy 1.0.0 (3proxy.md §2), tailed from a stored
 * offset (a partial last line waits for its newline), listener messages and garbage skipped, bytes added to the
 * modem, rotated files read from the start, deleted files forgotten.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ingestThreeProxyLogs, threeProxyLogFiles } from "../../../src/proxy/ingest/index.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const NODE = "n3p";
const IMEI = "866000000000041";
const REAL = [
  "2026-11-25T18:37:21.118 PROXY 3128 00004 - 127.0.0.1 37216 0.0.0.0 0.0.0.0 0 127.0.0.1 8000 0 0 0 GET_http://127.0.0.1:8000/small.txt_HTTP/1.1",
  "2026-11-25T18:37:21.178 PROXY 3128 00000 bob 127.0.0.1 37232 127.0.0.1 127.0.0.1 8000 origin.test 8000 204 156 12 GET_http://origin.test:8000/small.txt_HTTP/1.1",
  "2026-11-25T18:37:21.193 PROXY 3128 00000 - 127.0.0.2 43782 127.0.0.1 127.0.0.1 8000 127.0.0.1 8000 204 154 12 GET_http://127.0.0.1:8000/small.txt_HTTP/1.1",
  "2026-11-25T18:37:21.207 SOCK5 4128 00000 alice 127.0.0.1 34154 127.0.0.1 127.0.0.1 8000 origin.test 8000 204 89 12 CONNECT_origin.test:8000",
];
const LISTENER = "2026-11-25T18:37:20.000 AUTO 23128 00000 - 127.0.0.1 23128 0.0.0.0 127.0.0.1 0 [0.0.0.0] 0 0 0 0 Accepting_connections_[3510/1403]";

let db: TestDb;
let modemId: number;
const dir = mkdtempSync(join(tmpdir(), "ltp-3p-logs-"));
const file = join(dir, `${IMEI}.log.2026.11.25`);
const rows = () => db.sql`select * from connection_log where node_id = ${NODE} order by ts, id`;
const bytes = async () => {
  const r = await db.sql`select bytes_tx, bytes_rx from modems where id = ${modemId}`;
  return { tx: Number(r[0]!.bytes_tx), rx: Number(r[0]!.bytes_rx) };
};

beforeAll(async () => {
  db = await createTestDb({ prefix: "ing3p" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'test')`;
  modemId = Number((await db.sql`insert into modems (node_id, imei) values (${NODE}, ${IMEI}) returning id`)[0]!.id);
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

describe("3proxy log ingest", () => {
  test("log file names: plain and every rotation suffix, nothing else", () => {
    for (const n of [`${IMEI}.log`, `${IMEI}.log.2026.11.25`, `${IMEI}.log.2026.11`, `${IMEI}.log.2026.11.25-13`, `${IMEI}.3cf`, "x.log.gz", "a b.log"]) {
      writeFileSync(join(dir, n), "");
    }
    expect(threeProxyLogFiles(dir).map((f) => f.file)).toEqual([
      `${IMEI}.log`, `${IMEI}.log.2026.11`, `${IMEI}.log.2026.11.25`, `${IMEI}.log.2026.11.25-13`,
    ]);
    for (const n of [`${IMEI}.log`, `${IMEI}.log.2026.11`, `${IMEI}.log.2026.11.25-13`, `${IMEI}.3cf`, "x.log.gz", "a b.log"]) rmSync(join(dir, n));
  });

  test("complete lines become rows; listener lines and garbage are skipped; a partial line waits", async () => {
    const half = REAL[3]!.slice(0, 40);
    writeFileSync(file, [LISTENER, REAL[0], "garbage line", REAL[1], REAL[2]].join("\n") + "\n" + half);
    const r = await ingestThreeProxyLogs(db.sql, { nodeId: NODE, logDir: dir });
    expect(r).toMatchObject({ files: 1, rows: 3, garbage: 1, failed: [] });
    const got = await rows();
    expect(got.map((x) => [x.result, x.username, x.target_host, Number(x.bytes_down), Number(x.bytes_up), x.engine])).toEqual([
      ["auth_required", null, "127.0.0.1", 0, 0, "3proxy"],
      ["ok", "bob", "origin.test", 204, 156, "3proxy"],
      ["ok", null, "127.0.0.1", 204, 154, "3proxy"],
    ]);
    expect(got[1]).toMatchObject({ modem_id: modemId, imei: IMEI, port: 3128, client_port: 37232, target_port: 8000, duration_ms: 12 });
    expect((got[1]!.ts as Date).toISOString()).toBe("2026-11-25T18:37:21.178Z");
    expect(await bytes()).toEqual({ tx: 310, rx: 408 });

    // 3proxy finishes the line: only the new record is read.
    appendFileSync(file, REAL[3]!.slice(40) + "\n");
    expect(await ingestThreeProxyLogs(db.sql, { nodeId: NODE, logDir: dir })).toMatchObject({ files: 1, rows: 1, garbage: 0 });
    expect((await rows()).at(-1)).toMatchObject({ username: "alice", port: 4128, target_host: "origin.test" });
    expect(await bytes()).toEqual({ tx: 399, rx: 612 });
    // Nothing new: nothing happens.
    expect(await ingestThreeProxyLogs(db.sql, { nodeId: NODE, logDir: dir })).toMatchObject({ files: 0, rows: 0 });
    expect((await rows()).length).toBe(4);
  });

  test("a replaced file (new inode) is read from the start; a deleted file's offset is forgotten", async () => {
    const tmp = `${file}.new`;
    writeFileSync(tmp, REAL[1] + "\n");
    renameSync(tmp, file);
    expect(await ingestThreeProxyLogs(db.sql, { nodeId: NODE, logDir: dir })).toMatchObject({ rows: 1 });
    expect((await rows()).length).toBe(5);
    rmSync(file);
    await ingestThreeProxyLogs(db.sql, { nodeId: NODE, logDir: dir });
    const cursors = await db.sql`select key from settings where node_id = ${NODE} and key like 'internal.3proxy_log:%'`;
    expect(cursors.length).toBe(0);
  });

  test("a line for a modem the database does not know is kept with its IMEI", async () => {
    writeFileSync(join(dir, "lab-unknown.log"), REAL[1] + "\n");
    await ingestThreeProxyLogs(db.sql, { nodeId: NODE, logDir: dir });
    const r = await db.sql`select modem_id, imei from connection_log where imei = 'lab-unknown'`;
    expect([...r]).toEqual([{ modem_id: null, imei: "lab-unknown" }]);
  });
});
