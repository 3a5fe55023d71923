/**
 * The router end to end on loopback: a modem row reaching `registered` gets a stable port and table, credentials,
 * a data session, a live port in the real built-in engine (spawned by the child supervisor), and goes online; a
 * client through that port leaves from the modem's address; leaving online makes the port refuse with the state.
 * The data-connection driver and routing are the OS boundary here (no namespace): the lab tests cover them for real.
 */
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { EventStream } from "../../../src/events/event-stream.ts";
import { DataPlaneRouter } from "../../../src/events/data-plane-router.ts";
import { createChildSupervisor } from "../../../src/proxy/supervisor/child.ts";
import type { ProxySupervisor } from "../../../src/proxy/supervisor/types.ts";
import { appendEvent } from "../../../src/db/queries/events.ts";
import type { DataConnectionDriver, DataModem, DataSession } from "../../../src/net/data-connection/types.ts";
import type { ModemRouting } from "../../../src/net/routing-types.ts";
import type { Sql } from "../../../src/db/client.ts";

let db: TestDb;
let runDir: string;
let events: EventStream;
let router: DataPlaneRouter;
let supervisor: ProxySupervisor;
let origin: ReturnType<typeof Bun.serve>;
const routed: ModemRouting[][] = [];
const started: string[] = [];
const BASE_PORT = 23000 + Math.floor(Math.random() * 2000);

/** Loopback stand-in for qmicli/udhcpc: modem i's "carrier address" is 127.77.0.i. */
const driver: DataConnectionDriver = {
  name: "qmi",
  async start(m: DataModem): Promise<DataSession> {
    started.push(m.imei);
    const i = Number(m.imei.slice(-2));
    return { imei: m.imei, ifname: m.ifname, address: `127.77.0.${i}`, prefix: 32, dns: [], mtu: 1500, driver: "qmi", startedAt: Date.now() };
  },
  async stop() {},
  async status() {
    return "connected";
  },
};

async function setState(sql: Sql, id: number, to: string, reason: string) {
  await sql.begin(async (tx) => {
    const rows = await tx`select state from modems where id = ${id} for update`;
    await tx`update modems set state = ${to}, state_reason = ${reason}, state_since = now() where id = ${id}`;
    await appendEvent(tx as unknown as Sql, { nodeId: "n1", modemId: id, kind: "modem.state", payload: { from: rows[0]!.state, to, reason } });
  });
}

async function waitState(id: number, state: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.sql`select state from modems where id = ${id}`;
    if (rows[0]!.state === state) return;
    if (Date.now() > deadline) throw new Error(`modem ${id} stuck in ${rows[0]!.state}, wanted ${state}`);
    await Bun.sleep(50);
  }
}

/** Async: the origin server lives in this process, so a blocking spawnSync would starve it. */
async function curl(args: string[]) {
  const p = Bun.spawn(["curl", "-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  const i = out.lastIndexOf("\n");
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

beforeAll(async () => {
  db = await createTestDb();
  runDir = mkdtempSync(join(tmpdir(), "router-"));
  await db.sql`insert into nodes (id, hostname) values ('n1', 'test'), ('n2', 'other')`;
  origin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (_req, srv) => new Response(srv.requestIP(_req)?.address ?? "?") });
  events = new EventStream(db.sql, { pollMs: 500 });
  await events.start();
  supervisor = createChildSupervisor({ runtimeDir: runDir, checkMs: 500 });
  router = new DataPlaneRouter({
    sql: db.sql, nodeId: "n1", events, driver, supervisor,
    routing: { apply: async (d) => void routed.push(d) },
    setState: (id, to, reason) => setState(db.sql, id, to, reason),
    pool: { ports: { min: BASE_PORT, max: BASE_PORT + 50 }, tables: { min: 100, max: 150 } },
    proxy: { listen: "127.0.0.1", whitelist: [], maxConnections: 100, allowLocalTargets: true },
    apn: "internet", tickMs: 500,
  });
  await router.start();
}, 60_000);

afterAll(async () => {
  await router?.stop();
  await supervisor?.stop({ stopDataPlane: true });
  await events?.stop();
  origin?.stop(true);
  await db?.drop();
  if (!process.env.KEEP_RUNDIR) rmSync(runDir, { recursive: true, force: true });
  else console.log("runDir", runDir);
});

describe("data-plane router", () => {
  test("registered → port, table, credentials, session, live port → online; client leaves from the modem address", async () => {
    const ids: number[] = [];
    for (const n of ["01", "02", "03"]) {
      const rows = await db.sql`insert into modems (node_id, imei, ifname, state) values ('n1', ${`8600000000000${n}`}, ${`wwan${n}`}, 'searching') returning id`;
      ids.push(rows[0]!.id as number);
    }
    // another node's registered modem must never be touched by this node's router
    const foreign = await db.sql`insert into modems (node_id, imei, ifname, state) values ('n2', '860000000000099', 'wwan9', 'searching') returning id`;
    await setState(db.sql, foreign[0]!.id as number, "registered", "other node");
    for (const id of ids) await setState(db.sql, id, "registered", "test");
    for (const id of ids) await waitState(id, "online");

    const modems = await db.sql`select id, imei, proxy_port, route_table, host(wan_ip) as wan_ip from modems where node_id = 'n1' order by id`;
    const ports = modems.map((m) => m.proxy_port as number);
    expect(new Set(ports).size).toBe(3);
    expect(new Set(modems.map((m) => m.route_table)).size).toBe(3);
    for (const p of ports) expect(p >= BASE_PORT && p <= BASE_PORT + 50).toBe(true);
    const other = await db.sql`select state, proxy_port from modems where node_id = 'n2'`;
    expect(other[0]).toMatchObject({ state: "registered", proxy_port: null });
    expect(started).not.toContain("860000000000099");

    // routes were desired for all three online modems
    const last = routed.at(-1)!;
    expect(last.map((r) => r.address).sort()).toEqual(["127.77.0.1", "127.77.0.2", "127.77.0.3"]);

    for (const m of modems) {
      const user = (await db.sql`select username, password from proxy_users where modem_id = ${m.id}`)[0]!;
      const via = await curl(["-x", `http://${user.username}:${user.password}@127.0.0.1:${m.proxy_port}`, `http://127.0.0.1:${origin.port}/ip`]);
      expect(via.code).toBe(200);
      expect(via.body).toBe(m.wan_ip as string);
      const noAuth = await curl(["-x", `http://127.0.0.1:${m.proxy_port}`, `http://127.0.0.1:${origin.port}/ip`]);
      expect(noAuth.code).toBe(407);
    }

    // every step is an event row
    const kinds = await db.sql`select kind from modem_events where modem_id = ${ids[0]!} order by seq`;
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(["proxy.assigned", "data.starting", "data.up", "modem.state"]));
  }, 60_000);

  test("leaving online: the port refuses fast with the state, nothing falls back; coming back keeps the port", async () => {
    const m = (await db.sql`select id, proxy_port from modems where imei = '860000000000001'`)[0]!;
    const user = (await db.sql`select username, password from proxy_users where modem_id = ${m.id}`)[0]!;
    await setState(db.sql, m.id as number, "unplugged", "USB device vanished");
    const deadline = Date.now() + 10_000;
    let r = await curl(["-x", `http://${user.username}:${user.password}@127.0.0.1:${m.proxy_port}`, `http://127.0.0.1:${origin.port}/ip`]);
    while (r.code !== 503 && Date.now() < deadline) {
      await Bun.sleep(100);
      r = await curl(["-x", `http://${user.username}:${user.password}@127.0.0.1:${m.proxy_port}`, `http://127.0.0.1:${origin.port}/ip`]);
    }
    expect(r.code).toBe(503);
    expect(r.body).toContain("unplugged");
    const after = (await db.sql`select wan_ip from modems where id = ${m.id}`)[0]!;
    expect(after.wan_ip).toBeNull();

    await setState(db.sql, m.id as number, "registered", "replugged");
    await waitState(m.id as number, "online");
    const again = (await db.sql`select proxy_port from modems where id = ${m.id}`)[0]!;
    expect(again.proxy_port).toBe(m.proxy_port);
  }, 60_000);

  test("the data plane survives the control plane: a new supervisor adopts the running engine", async () => {
    const before = await supervisor.status();
    expect(before.alive).toBe(true);
    const adopter = createChildSupervisor({ runtimeDir: runDir });
    const status = await adopter.status();
    expect(status.alive).toBe(true);
    expect(status.pid).toBe(before.pid);
    await adopter.stop();
  });
});
