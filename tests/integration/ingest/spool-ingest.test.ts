/**
 * Built-in engine telemetry into PostgreSQL: a real engine writes its connection-log spool while curl goes through
 * it; the ingest puts every entry into connection_log exactly once (garbage counted and skipped, a run interrupted
 * before or after its commit neither loses nor doubles rows), and the stats counters land in modems.bytes_tx/rx.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sql } from "../../../src/db/client.ts";
import { createIngestRunner, ingestConnectionLogs, ingestPortCounters, rolledSpoolFiles, startIngestJob } from "../../../src/proxy/ingest/index.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { curl, freePort, hashPassword, randomLoopback, startLab, startOrigin, type Lab, type Origin } from "../proxy/helpers.ts";

const IMEI = "866000000000031";
const NODE = "ingest-node";
let db: TestDb;
let modemId: number;
let origin: Origin;
let lab: Lab;
let stats: ReturnType<Lab["engine"]["stats"]>;
let spool: string;
const port = freePort();
const scratch = mkdtempSync(join(tmpdir(), "ltp-ingest-"));

const line = (o: Record<string, unknown>) => JSON.stringify({
  ts: "2026-11-25T18:37:21.118Z", port, portId: IMEI, client: "127.0.0.1:40000", user: "alice", target: "example.org:443",
  proto: "connect", up: 10, down: 20, ms: 5, result: "ok", status: 200, ...o,
});
const count = async (where = db.sql`true`) => Number((await db.sql`select count(*)::int as n from connection_log where ${where}`)[0]!.n);

beforeAll(async () => {
  db = await createTestDb({ prefix: "ingest" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'test')`;
  modemId = Number((await db.sql`insert into modems (node_id, imei, proxy_port) values (${NODE}, ${IMEI}, ${port}) returning id`)[0]!.id);
  origin = startOrigin();
  lab = await startLab({
    version: "v1",
    spool: { rollSeconds: 3600, rollEntries: 2 },
    ports: [{ id: IMEI, port, listen: "127.0.0.1", outAddress: randomLoopback(), state: "online", users: [{ name: "alice", passwordHash: await hashPassword("pw") }] }],
  });
  spool = join(lab.dir, "connlog");
  await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, origin.url("/big?bytes=150000")]);
  await curl(["-x", `http://alice:bad@127.0.0.1:${port}`, origin.url("/small")]);
  await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, "-p", origin.url("/small")]);
  await curl(["-x", `http://127.0.0.1:${port}`, origin.url("/small")]);
  await Bun.sleep(300);
  stats = lab.engine.stats();
  // Stopping the engine rolls current.jsonl, so every entry is in a rolled file.
  await lab.engine.stop({ drainMs: 200 });
}, 30_000);

afterAll(async () => {
  origin?.stop();
  rmSync(lab?.dir ?? "/nonexistent", { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  await db?.drop();
});

describe("connection-log spool ingest", () => {
  test("every entry of a real engine's spool becomes one row; files are deleted after the commit", async () => {
    const files = rolledSpoolFiles(spool);
    expect(files.length).toBeGreaterThanOrEqual(2);
    const r = await ingestConnectionLogs(db.sql, { nodeId: NODE, spoolDir: spool });
    expect(r).toMatchObject({ files: files.length, rows: 4, garbage: 0, failed: [] });
    expect(rolledSpoolFiles(spool)).toEqual([]);
    const rows = await db.sql`select * from connection_log where node_id = ${NODE} order by ts, id`;
    expect(rows.length).toBe(4);
    for (const row of rows) expect(row).toMatchObject({ modem_id: modemId, imei: IMEI, port, engine: "builtin", client_ip: "127.0.0.1" });
    const results = rows.map((x) => x.result).sort();
    expect(results).toEqual(["auth_failed", "auth_required", "ok", "ok"]);
    const big = rows.find((x) => Number(x.bytes_down) > 150_000);
    expect(big).toMatchObject({ username: "alice", target_host: "127.0.0.1", target_port: origin.port, result: "ok" });
    // A second run finds nothing to do.
    expect(await ingestConnectionLogs(db.sql, { nodeId: NODE, spoolDir: spool })).toMatchObject({ files: 0, rows: 0 });
    expect(await count(db.sql`node_id = ${NODE}`)).toBe(4);
  });

  test("garbage lines are counted and skipped; valid lines around them are kept", async () => {
    const dir = join(scratch, "garbage");
    const node = "garbage-node";
    mkdirSync(dir, { recursive: true });
    const text = [
      line({}), "{not json", "[1,2]", line({ port: 0 }), line({ ts: "yesterday" }), line({ up: -5 }), line({ portId: "" }),
      "\u0000\u0001binary", line({ client: "[::1]:5555", target: "[2001:db8::1]:8443", user: null }), line({ client: "garbage" }),
      '{"ts":"2026-11-25T18:37:21.118Z","port":31', // a partial last line left by a crash
    ].join("\n");
    writeFileSync(join(dir, "2026-11-25T18-37-21-118Z-000000.jsonl"), text);
    writeFileSync(join(dir, "current.jsonl"), line({}) + "\n");
    writeFileSync(join(dir, "notes.txt"), "not a spool file");
    const r = await ingestConnectionLogs(db.sql, { nodeId: node, spoolDir: dir, imeiToModem: new Map([[IMEI, modemId]]) });
    expect(r).toMatchObject({ files: 1, rows: 3, garbage: 8 });
    const rows = await db.sql`select host(client_ip) as client_ip, client_port, target_host, target_port, username from connection_log where node_id = ${node} order by id`;
    expect([...rows]).toEqual([
      { client_ip: "127.0.0.1", client_port: 40000, target_host: "example.org", target_port: 443, username: "alice" },
      { client_ip: "::1", client_port: 5555, target_host: "2001:db8::1", target_port: 8443, username: null },
      { client_ip: null, client_port: null, target_host: "example.org", target_port: 443, username: "alice" },
    ]);
    // current.jsonl belongs to the engine; other files are not ours.
    expect(readdirSync(dir).sort()).toEqual(["current.jsonl", "notes.txt"]);
  });

  test("a run interrupted before its commit loses nothing; one interrupted after its commit doubles nothing", async () => {
    const dir = join(scratch, "crash");
    const node = "crash-node";
    mkdirSync(dir, { recursive: true });
    const name = "2026-11-25T18-40-00-000Z-000001.jsonl";
    const body = Array.from({ length: 2500 }, (_, i) => line({ up: i })).join("\n") + "\n";
    writeFileSync(join(dir, name), body);
    // Before the commit: the transaction fails after the inserts (e.g. the database went away).
    const failing = new Proxy(db.sql, {
      get(target, prop, receiver) {
        if (prop !== "begin") return Reflect.get(target, prop, receiver);
        return (fn: (tx: Sql) => Promise<unknown>) => target.begin(async (tx) => {
          await fn(tx as unknown as Sql);
          throw new Error("connection lost");
        });
      },
    });
    await expect(ingestConnectionLogs(failing, { nodeId: node, spoolDir: dir })).rejects.toThrow("connection lost");
    expect(await count(db.sql`node_id = ${node}`)).toBe(0);
    expect(existsSync(join(dir, name))).toBe(true);
    // The retry inserts all 2,500 (three multi-row inserts) once.
    expect(await ingestConnectionLogs(db.sql, { nodeId: node, spoolDir: dir })).toMatchObject({ files: 1, rows: 2500 });
    expect(await count(db.sql`node_id = ${node}`)).toBe(2500);
    // After the commit, before the unlink: the file is back and its done-marker is there (the state such a crash leaves).
    writeFileSync(join(dir, name), body);
    await db.sql`insert into settings (node_id, key, value) values (${node}, ${`internal.ingested:${name}`}, '{"rows":2500}')`;
    expect(await ingestConnectionLogs(db.sql, { nodeId: node, spoolDir: dir })).toMatchObject({ files: 0, rows: 0 });
    expect(await count(db.sql`node_id = ${node}`)).toBe(2500);
    expect(existsSync(join(dir, name))).toBe(false);
    const markers = await db.sql`select key from settings where node_id = ${node}`;
    expect(markers.length).toBe(0);
    const sum = await db.sql`select sum(bytes_up)::float8 as s from connection_log where node_id = ${node}`;
    expect(Number(sum[0]!.s)).toBe((2499 * 2500) / 2);
  });
});

describe("engine byte counters → modems.bytes_tx/rx", () => {
  const bytes = async () => {
    const r = await db.sql`select bytes_tx, bytes_rx from modems where id = ${modemId}`;
    return { tx: Number(r[0]!.bytes_tx), rx: Number(r[0]!.bytes_rx) };
  };

  test("adds the difference since the last sample, once; an engine restart counts from zero", async () => {
    const p = stats.ports.find((x) => x.id === IMEI)!;
    expect(p.bytesDown).toBeGreaterThan(150_000);
    await ingestPortCounters(db.sql, { nodeId: NODE, stats });
    expect(await bytes()).toEqual({ tx: p.bytesUp, rx: p.bytesDown });
    // The same sample again (a restarted control plane re-reading an idle engine): nothing added.
    await ingestPortCounters(db.sql, { nodeId: NODE, stats });
    expect(await bytes()).toEqual({ tx: p.bytesUp, rx: p.bytesDown });
    // Later: 1000 more bytes down, 10 up.
    const later = { ...stats, ports: stats.ports.map((x) => ({ ...x, bytesUp: x.bytesUp + 10, bytesDown: x.bytesDown + 1000 })) };
    await ingestPortCounters(db.sql, { nodeId: NODE, stats: later });
    expect(await bytes()).toEqual({ tx: p.bytesUp + 10, rx: p.bytesDown + 1000 });
    // A restarted engine (new startedAt) reports small counters: they are all new traffic.
    const restarted = { ...stats, startedAt: new Date(Date.now() + 1000).toISOString(), ports: stats.ports.map((x) => ({ ...x, bytesUp: 1, bytesDown: 2 })) };
    await ingestPortCounters(db.sql, { nodeId: NODE, stats: restarted });
    expect(await bytes()).toEqual({ tx: p.bytesUp + 11, rx: p.bytesDown + 1002 });
    // An unreachable engine (null) changes nothing.
    expect(await ingestPortCounters(db.sql, { nodeId: NODE, stats: null })).toEqual([]);
  });
});

describe("the ingest job", () => {
  test("runner text for the jobs page; countBytes false leaves the modem counters alone; the timer runs it", async () => {
    const dir = join(scratch, "job");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "2026-11-25T19-00-00-000Z-000001.jsonl"), `${line({})}\nnot json\n`);
    const before = (await db.sql`select bytes_tx from modems where id = ${modemId}`)[0]!.bytes_tx;
    const run = createIngestRunner({ sql: db.sql, nodeId: "job-node", engine: "builtin", spoolDir: dir, countBytes: false, stats: async () => stats });
    expect(await run()).toBe("1 rows from 1 file(s), 1 bad line(s), 0 modem counter(s)");
    expect((await db.sql`select bytes_tx from modems where id = ${modemId}`)[0]!.bytes_tx).toBe(before);
    writeFileSync(join(dir, "2026-11-25T19-00-01-000Z-000002.jsonl"), `${line({})}\n`);
    const job = startIngestJob({ sql: db.sql, nodeId: "job-node", engine: "builtin", spoolDir: dir, countBytes: false, intervalMs: 50 });
    try {
      for (let i = 0; i < 100 && rolledSpoolFiles(dir).length > 0; i++) await Bun.sleep(20);
      expect(rolledSpoolFiles(dir)).toEqual([]);
    } finally {
      await job.stop();
    }
    expect(await count(db.sql`node_id = 'job-node'`)).toBe(2);
  });
});
