/**
 * Issue 7, modem page: SMS reach the inbox (sms_messages) once and leave the SIM, across a control-plane restart and
 * a failed delete; garbage from the modem does not stop the inbox; SMS send and USSD through the HTTP API against
 * the simulator; `<script>` in an SMS body and in the network's operator name is escaped on the modem page and the
 * dashboard. One lab of 2 simulated EC25 on real ptys, one control plane wired as app.ts does, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SimModem } from "../../../src/sim/modem/modem.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { until } from "../modem/helpers.ts";
import { call, createTechnician, loginTech, startNode, type TestNode } from "../fleet/node-rig.ts";

let db: TestDb;
let node: TestNode;
let key: string;
let ids: number[];
let sim: SimModem[];

beforeAll(async () => {
  db = await createTestDb({ prefix: "sms" });
  key = (await createTechnician(db.sql)).key;
  node = await startNode(db.url, "node-sms", { modems: 2, seed: 71 });
  ids = await node.registered();
  sim = [...node.lab.modems];
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await db?.drop();
});

const inbox = (modemId: number) => db.sql`
  select id, peer, body, modem_index, status, sent_at from sms_messages where modem_id = ${modemId} and direction = 'in' order by id`;

describe("incoming SMS", () => {
  test("an SMS injected through the sim's control API is stored once, announced, and deleted from the SIM", async () => {
    await until(() => node.inbox.listening().includes(ids[0]!), "the inbox listens to modem 0");
    const r = await node.lab.ctl(sim[0]!.identity.imei, "sms", "+4915112345678", "Hello from the lab");
    expect(r.targets[0]!.ok).toBe(true);
    await until(async () => (await inbox(ids[0]!)).length === 1 && sim[0]!.sms.used === 0, "stored and deleted", 10_000);
    const [row] = await inbox(ids[0]!);
    expect(row).toMatchObject({ peer: "+4915112345678", body: "Hello from the lab", status: "received" });
    expect(row!.sent_at).toBeInstanceOf(Date);
    expect(Math.abs((row!.sent_at as Date).getTime() - Date.now())).toBeLessThan(120_000);
    const ev = await db.sql`select node_id, payload from modem_events where modem_id = ${ids[0]!} and kind = 'sms.received'`;
    expect(ev.length).toBe(1);
    expect(ev[0]!.node_id).toBe("node-sms");
    // the event log (viewers read it) carries no phone number or text
    expect(JSON.stringify(ev[0]!.payload)).not.toContain("4915112345678");
    expect(JSON.stringify(ev[0]!.payload)).not.toContain("Hello");
  }, 20_000);

  test("messages that arrive while the control plane is down are swept at start; a failed delete never duplicates", async () => {
    await node.inbox.stop();
    await node.manager.stop();
    await node.lab.ctl(sim[1]!.identity.imei, "sms", "+4917000000001", "while down 1");
    await node.lab.ctl(sim[1]!.identity.imei, "sms", "+4917000000002", "while down 2");
    // AT+CMGD fails: the first run stores both but cannot delete them
    await node.lab.ctl(sim[1]!.identity.imei, "cme", "AT+CMGD", "500");
    await node.restartControlPlane();
    await until(async () => (await inbox(ids[1]!)).length === 2, "both stored after the restart", 15_000);
    expect(sim[1]!.sms.used).toBe(2); // still on the SIM: the delete failed
    // a sweep re-reads them (as a retry or the next start would): no second row
    await node.inbox.sweepNow(ids[1]!);
    expect((await inbox(ids[1]!)).length).toBe(2);
    await node.lab.ctl(sim[1]!.identity.imei, "cme", "AT+CMGD", "off");
    await node.restartControlPlane();
    await until(() => sim[1]!.sms.used === 0, "deleted after the fault cleared", 15_000);
    const rows = await inbox(ids[1]!);
    expect(rows.map((r) => r.body).sort()).toEqual(["while down 1", "while down 2"]);
    const events = await db.sql`select count(*)::int as n from modem_events where modem_id = ${ids[1]!} and kind = 'sms.received'`;
    expect(events[0]!.n).toBe(2);
  }, 45_000);

  test("garbage (unreadable +CMTI, noise on the port, control characters) does not stop the inbox", async () => {
    await until(() => node.inbox.listening().includes(ids[0]!), "listening again after the restart");
    const imei = sim[0]!.identity.imei;
    await node.lab.ctl(imei, "urc", '+CMTI: "SM",notanumber');
    await node.lab.ctl(imei, "urc", '+CMTI: "XX",7');
    await node.lab.ctl(imei, "urc", "+CMTI: \"SM\",49"); // an empty slot
    await node.lab.ctl(imei, "garbage");
    await Bun.sleep(300);
    await node.lab.ctl(imei, "clear");
    await node.lab.ctl(imei, "sms", "+4915100000000", "nul\u0000 and bell\u0007 inside");
    await node.lab.ctl(imei, "sms", "+4915100000009", "after the garbage");
    await until(async () => (await inbox(ids[0]!)).some((r) => r.body === "after the garbage"), "the next SMS still arrives", 15_000);
    await until(() => sim[0]!.sms.used === 0, "storage emptied", 10_000);
    const bodies = (await inbox(ids[0]!)).map((r) => String(r.body));
    expect(bodies.some((b) => b.startsWith("nul") && b.includes("bell"))).toBe(true);
    expect(bodies.filter((b) => b === "after the garbage").length).toBe(1);
  }, 30_000);
});

describe("send and USSD through the HTTP API", () => {
  test("POST /api/v1/modems/{id}/sms sends through AT+CMGS and logs an 'out' row; the job is readable", async () => {
    const res = await call(node.app, "POST", `/api/v1/modems/${ids[0]}/sms`, { bearer: key, json: { to: "+4915199999999", text: "Hi from the panel" } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.ok).toBe(true);
    expect(typeof body.jobId).toBe("string");
    const out = await db.sql`select peer, body, status from sms_messages where modem_id = ${ids[0]!} and direction = 'out'`;
    expect([...out]).toEqual([{ peer: "+4915199999999", body: "Hi from the panel", status: "sent" }]);
    const job = await (await call(node.app, "GET", `/api/v1/jobs/${body.jobId}`, { bearer: key })).json();
    expect(job).toMatchObject({ jobId: body.jobId, modemId: ids[0], action: "sms.send", status: "done", result: "OK" });
  }, 20_000);

  test("too long a text is 422; a modem without SIM is 409 MODEM_OFFLINE", async () => {
    const long = await call(node.app, "POST", `/api/v1/modems/${ids[0]}/sms`, { bearer: key, json: { to: "+4915199999999", text: "x".repeat(200) } });
    expect(long.status).toBe(422);
    await node.lab.ctl(sim[1]!.identity.imei, "no-sim");
    try {
      await until(() => node.manager.get(ids[1]!)?.status?.sim === "NOT_INSERTED", "the manager saw the SIM go", 10_000);
      const res = await call(node.app, "POST", `/api/v1/modems/${ids[1]}/sms`, { bearer: key, json: { to: "+4915199999999", text: "no sim" } });
      expect(res.status).toBe(409);
      expect((await res.json()).error.code).toBe("MODEM_OFFLINE");
      const ussd = await call(node.app, "POST", `/api/v1/modems/${ids[1]}/ussd`, { bearer: key, json: { code: "*100#" } });
      expect(ussd.status).toBe(409);
    } finally {
      await node.lab.ctl(sim[1]!.identity.imei, "sim");
    }
  }, 20_000);

  test("POST /api/v1/modems/{id}/ussd returns the network's decoded answer", async () => {
    await node.lab.ctl(sim[0]!.identity.imei, "ussd-reply", "Balance: 4.20 EUR, valid until 31.12.");
    const res = await call(node.app, "POST", `/api/v1/modems/${ids[0]}/ussd`, { bearer: key, json: { code: "*100#" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, response: "Balance: 4.20 EUR, valid until 31.12." });
    const ev = await db.sql`select payload from modem_events where modem_id = ${ids[0]!} and kind = 'action.done' and payload->>'action' = 'ussd'`;
    expect(ev.length).toBe(1);
    expect(ev[0]!.payload.result).toBe("OK");
  }, 20_000);
});

describe("escaping of radio-supplied text (issue 7)", () => {
  test("<script> in an SMS and in the operator name renders as text on the modem page and the dashboard", async () => {
    const evil = "<script>alert(1)</script>";
    await node.lab.ctl(sim[0]!.identity.imei, "sms", "+4915155555555", evil);
    // The network's name as AT+COPS? reports it, renamed through the sim's control API.
    await node.lab.ctl(sim[0]!.identity.imei, "operator", `Evil<script>alert("op")</script>Net`);
    await until(async () => (await inbox(ids[0]!)).some((r) => r.body === evil), "the evil SMS stored", 10_000);
    await until(async () => String((await db.sql`select operator from modems where id = ${ids[0]!}`)[0]!.operator).includes("<script>"),
      "the operator name polled into the modems row", 15_000);
    const cookie = await loginTech(node.app);
    for (const path of [`/modems/${ids[0]}`, "/"]) {
      const res = await call(node.app, "GET", path, { cookie });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).not.toContain("<script>alert(1)</script>");
      expect(html).not.toContain('<script>alert("op")</script>');
      expect(html).toContain("&lt;script&gt;alert(");
      if (path !== "/") expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(html).toContain("Evil&lt;script&gt;");
    }
  }, 40_000);
});
