/**
 * Issue 7, fleet: two appliances (node-a, node-b) share one PostgreSQL database, each with its own simulated modem on
 * its own ptys. Node B's API acting on node A's modem is carried out by node A's control plane through the event
 * stream (modem_events shows node-a with B's user as actor; B's manager never had the modem); job ids work from
 * either node; a node with a stale heartbeat gives NODE_OFFLINE at once; a live node that does not answer gives
 * NODE_NO_REPLY; a replayed (old) request is not carried out.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { registerNode } from "../../../src/db/queries/nodes.ts";
import type { Actor } from "../../../src/http/context.ts";
import { fleetActions, FORWARD_KIND, FORWARD_REPLY_KIND } from "../../../src/jobs/fleet-actions.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { until } from "../modem/helpers.ts";
import { call, createTechnician, startNode, type TestNode } from "./node-rig.ts";

let db: TestDb;
let a: TestNode;
let b: TestNode;
let key: string;
let aModem: number;
let bModem: number;

const actor: Actor = { userId: null, username: "fleet-test", role: "admin", via: "api_key", ip: "192.0.2.9" };

beforeAll(async () => {
  db = await createTestDb({ prefix: "fleet" });
  key = (await createTechnician(db.sql)).key;
  [a, b] = await Promise.all([startNode(db.url, "node-a", { modems: 1, seed: 81 }), startNode(db.url, "node-b", { modems: 1, seed: 82 })]);
  [[aModem], [bModem]] = (await Promise.all([a.registered(), b.registered()])) as [[number], [number]];
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

/** Every event about A's modem came from node-a; B's manager never knew the modem. */
async function onlyNodeATouched(): Promise<void> {
  const nodes = await db.sql`select distinct node_id from modem_events where modem_id = ${aModem}`;
  expect(nodes.map((r) => r.node_id)).toEqual(["node-a"]);
  expect(b.manager.get(aModem)).toBeUndefined();
  expect(b.manager.list().map((m) => m.id)).toEqual([bModem]);
}

describe("node B's panel/API on node A's modem", () => {
  test("an action is carried out by node A; its job id is node A's and readable on both nodes", async () => {
    const res = await call(b.app, "POST", `/api/v1/modems/${aModem}/actions/reconnect`, { bearer: key });
    expect(res.status).toBeLessThan(300);
    const { jobId } = await res.json();
    const requested = await db.sql`select node_id, payload from modem_events where kind = 'action.requested' and payload->>'jobId' = ${jobId}`;
    expect(requested.length).toBe(1);
    expect(requested[0]!.node_id).toBe("node-a");
    expect(requested[0]!.payload).toMatchObject({ action: "reconnect", actor: "tech", via: "api_key" });
    await until(async () => (await db.sql`select 1 from modem_events where kind = 'action.done' and payload->>'jobId' = ${jobId}`).length === 1, "the job done", 10_000);
    for (const node of [a, b]) {
      const job = await (await call(node.app, "GET", `/api/v1/jobs/${jobId}`, { bearer: key })).json();
      expect(job).toMatchObject({ jobId, modemId: aModem, status: "done", result: "OK" });
    }
    // the forward went out addressed to node-a, from node-b
    const fwd = await db.sql`select node_id, payload from modem_events where kind = ${FORWARD_KIND} and payload->>'op' = 'request'`;
    expect(fwd.map((r) => [r.node_id, r.payload.from])).toEqual([["node-a", "node-b"]]);
    await until(() => a.manager.get(aModem)?.state === "registered", "A's modem back to registered", 15_000);
    await onlyNodeATouched();
  }, 30_000);

  test("SMS, USSD and the AT console through node B run on node A's modem", async () => {
    const sms = await call(b.app, "POST", `/api/v1/modems/${aModem}/sms`, { bearer: key, json: { to: "+4915100001111", text: "via node b" } });
    expect(sms.status).toBe(200);
    expect((await sms.json()).ok).toBe(true);
    const sent = await db.sql`select node_id, payload from modem_events where modem_id = ${aModem} and kind = 'sms.sent'`;
    expect(sent.map((r) => r.node_id)).toEqual(["node-a"]);
    // the forwarded envelope is in the event log, but its SMS text is not shown to API readers
    const log = await (await call(b.app, "GET", `/api/v1/events?kind=action.forward&limit=50`, { bearer: key })).json();
    const forwards = (log.events as Array<{ payload: Record<string, unknown> }>).filter((e) => e.payload.op === "sms.send");
    expect(forwards.length).toBeGreaterThan(0);
    expect(JSON.stringify(forwards)).not.toContain("via node b");

    await a.lab.ctl(a.lab.modems[0]!.identity.imei, "ussd-reply", "Node A says hi");
    const ussd = await call(b.app, "POST", `/api/v1/modems/${aModem}/ussd`, { bearer: key, json: { code: "*101#" } });
    expect(ussd.status).toBe(200);
    expect(await ussd.json()).toEqual({ ok: true, response: "Node A says hi" });

    const at = await call(b.app, "POST", `/api/v1/modems/${aModem}/at`, { bearer: key, json: { command: "AT+CGSN" } });
    expect(at.status).toBe(200);
    const atBody = await at.json();
    expect(atBody.ok).toBe(true);
    expect(atBody.lines.join(" ")).toContain(a.lab.modems[0]!.identity.imei);
    // node A audited the console command under B's user
    const audit = await db.sql`select node_id, actor from audit_log where action = 'modem.console' order by id desc limit 1`;
    expect(audit[0]).toMatchObject({ node_id: "node-a", actor: "tech" });
    // the owner's errors keep their code across the hop: a console command outside the allow-list
    const refused = await b.actions.at(aModem, "AT+QPOWD", { ...actor, role: "technician" }).catch((e) => e);
    expect(refused.code).toBe("CONSOLE_NOT_ALLOWED");
    await onlyNodeATouched();
  }, 30_000);

  test("node B's own modem stays local (no forward)", async () => {
    const before = (await db.sql`select count(*)::int as n from modem_events where kind = ${FORWARD_KIND}`)[0]!.n;
    const r = await b.actions.at(bModem, "AT+CGSN", actor);
    expect(r.ok).toBe(true);
    expect((await db.sql`select count(*)::int as n from modem_events where kind = ${FORWARD_KIND}`)[0]!.n).toBe(before);
  });
});

describe("unreachable owners", () => {
  test("a node with a stale heartbeat gives NODE_OFFLINE at once", async () => {
    await registerNode(db.sql, { id: "node-dead", hostname: "dead", version: "test" });
    await db.sql`update nodes set last_heartbeat = now() - interval '10 minutes' where id = 'node-dead'`;
    const [row] = await db.sql`insert into modems (node_id, imei, state) values ('node-dead', '860000000000999', 'online') returning id`;
    const started = performance.now();
    const err = await b.actions.request(Number(row!.id), "reboot", actor).catch((e) => e);
    expect(err.code).toBe("NODE_OFFLINE");
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await b.actions.ussd!(Number(row!.id), "*100#", actor).catch((e) => e.code)).toBe("NODE_OFFLINE");
    const forwarded = await db.sql`select 1 from modem_events where kind = ${FORWARD_KIND} and node_id = 'node-dead'`;
    expect(forwarded.length).toBe(0);
  });

  test("a live node that does not answer gives NODE_NO_REPLY after the timeout", async () => {
    await registerNode(db.sql, { id: "node-mute", hostname: "mute", version: "test" });
    const [row] = await db.sql`insert into modems (node_id, imei, state) values ('node-mute', '860000000000998', 'online') returning id`;
    const quick = fleetActions(b.local, { sql: b.sql, nodeId: "node-b", timeouts: { request: 600 } });
    const err = await quick.request(Number(row!.id), "reconnect", actor).catch((e) => e);
    expect(err.code).toBe("NODE_NO_REPLY");
  });

  test("a forwarded request older than 30 s (an event replay) is not carried out", async () => {
    const requestId = "00000000-0000-4000-8000-00000000dead";
    await db.sql`
      insert into modem_events (node_id, kind, payload, created_at)
      values ('node-a', ${FORWARD_KIND}, ${db.sql.json({ requestId, op: "request", modemId: aModem, args: ["reboot", {}], actor: { ...actor }, from: "node-b" } as never)},
              now() - interval '2 minutes')`;
    // a fresh request behind it is answered, so the old one had its chance to be seen first
    const fresh = await b.actions.at(aModem, "AT", actor);
    expect(fresh.ok).toBe(true);
    const replies = await db.sql`select 1 from modem_events where kind = ${FORWARD_REPLY_KIND} and payload->>'requestId' = ${requestId}`;
    expect(replies.length).toBe(0);
    const reboots = await db.sql`select 1 from modem_events where kind = 'action.requested' and modem_id = ${aModem} and payload->>'action' = 'reboot'`;
    expect(reboots.length).toBe(0);
  });
});

