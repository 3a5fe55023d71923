import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshIp, makeHarness, request, seedModems, type Harness } from "./harness.ts";
import { createHttpApp, stopHttpApp } from "../../../src/http/server.ts";
import { appendEvents } from "../../../src/db/queries/events.ts";
import { openAlert } from "../../../src/db/queries/alerts.ts";

let h: Harness;
let ids: number[];
beforeAll(async () => {
  h = await makeHarness();
  ids = await seedModems(h.db, 5);
});
afterAll(async () => {
  await h.close();
});

const api = (method: string, path: string, role: "admin" | "technician" | "viewer", json?: unknown) =>
  request(h.app, method, `/api/v1${path}`, { bearer: h.keys[role], json });

describe("modems", () => {
  test("list has the fields automation relies on", async () => {
    const r = await api("GET", "/modems", "viewer");
    expect(r.status).toBe(200);
    const list = await r.json();
    expect(list.length).toBe(5);
    for (const key of ["id", "slot", "imei", "iccid", "state", "operator", "rsrp", "csq", "wan_ip", "public_ip", "port"]) expect(list[0]).toHaveProperty(key);
    expect(list[0]).toMatchObject({ slot: "1-1.1", imei: "860000000000001", state: "online", operator: "Telekom.de", rsrp: -91, csq: 20, wan_ip: "10.64.0.1", public_ip: "203.0.113.1", port: 3128 });
    const offline = await (await api("GET", "/modems?state=offline", "viewer")).json();
    expect(offline).toEqual([]);
    const search = await (await api("GET", "/modems?q=203.0.113.3", "viewer")).json();
    expect(search.map((m: { id: number }) => m.id)).toEqual([ids[2]]);
  });

  test("detail by id or IMEI; unknown → 404, malformed → 422", async () => {
    const byId = await (await api("GET", `/modems/${ids[1]}`, "viewer")).json();
    const byImei = await (await api("GET", "/modems/860000000000002", "viewer")).json();
    expect(byId).toEqual(byImei);
    expect(byId).toMatchObject({ id: ids[1], iccid: "8949000000000000002", rotation_link: false, route_table: 102 });
    expect((await api("GET", "/modems/999999", "viewer")).status).toBe(404);
    const bad = await api("GET", "/modems/abc", "viewer");
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.code).toBe("VALIDATION_FAILED");
  });

  test("actions answer 202 with a job id and reach the control plane with the actor", async () => {
    const r = await api("POST", `/modems/${ids[0]}/actions/airplane`, "technician", {});
    expect(r.status).toBe(202);
    const body = await r.json();
    expect(body.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.actions.calls.at(-1)).toMatchObject({ kind: "airplane", modemId: ids[0], arg: { trigger: "api" }, actor: { username: "technician", via: "api_key" } });
    const rot = await api("POST", `/modems/${ids[0]}/rotate`, "technician", { method: "data" });
    expect(rot.status).toBe(202);
    expect(h.actions.calls.at(-1)).toMatchObject({ kind: "rotate", arg: { method: "data", trigger: "api" } });
    expect((await api("POST", `/modems/${ids[0]}/actions/selfdestruct`, "technician", {})).status).toBe(422);
    expect((await api("POST", `/modems/${ids[0]}/rotate`, "technician", { method: "teleport" })).status).toBe(422);
    const audit = await h.db.sql`select action, result, details from audit_log where action = 'modem.airplane'`;
    expect(audit[0]).toMatchObject({ action: "modem.airplane", result: "ok" });
  });

  test("without the control plane, action routes answer 503 NOT_AVAILABLE", async () => {
    const ctx = { ...h.ctx, actions: undefined };
    const app = createHttpApp(ctx);
    try {
      const r = await request(app, "POST", `/api/v1/modems/${ids[0]}/rotate`, { bearer: h.keys.technician, json: {} });
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ error: { code: "NOT_AVAILABLE", message: "modem control is not available on this node yet" } });
      const page = await request(app, "GET", `/modems/${ids[0]}`, { cookie: h.cookies.technician, htmx: false });
      expect(await page.text()).toContain('hx-post="/modems/' + ids[0] + '/actions/rotate"');
    } finally {
      await stopHttpApp(app);
    }
  });

  test("job status from the rotations table and from job events", async () => {
    const jobId = "11111111-2222-4333-8444-555555555555";
    await h.db.sql`insert into rotations (job_id, node_id, modem_id, method, trigger, status, result, old_ip, new_ip, attempts, finished_at, duration_ms)
                   values (${jobId}, 'n1', ${ids[0]}, 'airplane', 'api', 'done', 'OK', '203.0.113.1', '198.51.100.7', 1, now(), 9000)`;
    const r = await (await api("GET", `/jobs/${jobId}`, "viewer")).json();
    expect(r).toMatchObject({ jobId, modemId: ids[0], action: "rotate", status: "done", result: "OK", rotation: { new_ip: "198.51.100.7" } });
    await appendEvents(h.db.sql, [
      { nodeId: "n1", modemId: ids[1], kind: "job.progress", payload: { jobId: "job-abc", action: "reboot", status: "running" } },
      { nodeId: "n1", modemId: ids[1], kind: "job.done", payload: { jobId: "job-abc", action: "reboot", status: "done", result: "OK" } },
    ]);
    const j = await (await api("GET", "/jobs/job-abc", "viewer")).json();
    expect(j).toMatchObject({ jobId: "job-abc", modemId: ids[1], action: "reboot", status: "done", result: "OK" });
    expect(j.events.length).toBe(2);
    expect((await api("GET", "/jobs/nope", "viewer")).status).toBe(404);
  });

  test("AT console: one command, allowed output back; chaining and newline injection refused and audited", async () => {
    const ok = await api("POST", `/modems/${ids[0]}/at`, "technician", { command: "ATI" });
    expect(await ok.json()).toEqual({ ok: true, lines: ["Quectel", "EC25", "Revision: EC25EUXGAR08A07M1G"], final: "OK" });
    const calls = h.actions.calls.length;
    for (const command of ["AT+CFUN=1,1;+CFUN=0", "ATI\r\nAT+CFUN=0", "ATI\nATD+491701234567;"]) {
      const r = await api("POST", `/modems/${ids[0]}/at`, "technician", { command });
      expect(r.status).toBe(422);
      expect((await r.json()).error.code).toBe("AT_REJECTED");
    }
    expect(h.actions.calls.length).toBe(calls);
    // the commands it ran are the control plane's to audit (once); the HTTP layer records only its own refusals
    const rows = await h.db.sql`select action, target, result, details->>'command' as command from audit_log where action in ('modem.at', 'modem.console') order by id`;
    expect(rows.map((r) => `${r.action} ${r.result}`)).toEqual(["modem.console refused", "modem.console refused", "modem.console refused"]);
    expect(rows[0]!.command).toBe("AT+CFUN=1,1;+CFUN=0");
    expect(rows[0]!.target).toBe((await h.db.sql`select imei from modems where id = ${ids[0]}`)[0]!.imei);
    expect((await api("POST", `/modems/${ids[0]}/at`, "viewer", { command: "ATI" })).status).toBe(403);
  });

  test("the secure rotation link rotates without login; a revoked link is 404", async () => {
    const c = await api("POST", `/modems/${ids[3]}/rotation-link`, "technician");
    expect(c.status).toBe(201);
    const { url, token } = await c.json();
    expect(url).toBe(`http://localhost/api/v1/rotate/${token}`);
    expect(token.length).toBeGreaterThanOrEqual(32);
    const stored = (await h.db.sql`select rotation_token_hash from modems where id = ${ids[3]}`)[0]!.rotation_token_hash;
    expect(stored).not.toBe(token);
    const r = await h.app.handle(new Request(url, { headers: { "x-test-ip": freshIp() } }));
    expect(r.status).toBe(202);
    expect(h.actions.calls.at(-1)).toMatchObject({ kind: "rotate", modemId: ids[3], arg: { trigger: "link" }, actor: { via: "link" } });
    expect((await api("DELETE", `/modems/${ids[3]}/rotation-link`, "technician")).status).toBe(204);
    const gone = await h.app.handle(new Request(url, { headers: { "x-test-ip": freshIp() } }));
    expect(gone.status).toBe(404);
  });

  test("SMS and USSD go to the control plane", async () => {
    expect((await api("POST", `/modems/${ids[0]}/sms`, "technician", { to: "+491701234567", text: "hi" })).status).toBe(200);
    expect(h.actions.calls.at(-1)).toMatchObject({ kind: "sms", arg: { to: "+491701234567", text: "hi" } });
    expect((await api("POST", `/modems/${ids[0]}/sms`, "technician", { to: "not a number", text: "hi" })).status).toBe(422);
    expect(await (await api("POST", `/modems/${ids[0]}/ussd`, "technician", { code: "*100#" })).json()).toEqual({ ok: true, response: "Balance: 5.00 EUR" });
    expect((await api("POST", `/modems/${ids[0]}/ussd`, "technician", { code: "*100#;ATD" })).status).toBe(422);
  });
});

describe("fleet", () => {
  test("proxies: passwords for technicians only", async () => {
    await h.db.sql`insert into proxy_users (node_id, username, password, password_hash) values ('n1', 'client1', 's3cret-pw', 'x')`;
    const tech = await (await api("GET", "/proxies", "technician")).json();
    const viewer = await (await api("GET", "/proxies", "viewer")).json();
    expect(tech[0]).toMatchObject({ port: 3128, host: "localhost", credentials: [{ username: "client1", password: "s3cret-pw", scope: "node" }] });
    expect(viewer[0].credentials).toEqual([{ username: "client1", scope: "node" }]);
  });

  test("rotations with unique-IP rate and collisions", async () => {
    const rows = [["OK", "198.51.100.1"], ["OK", "198.51.100.2"], ["OK", "198.51.100.2"], ["COLLISION", null]] as const;
    for (const [i, [result, ip]] of rows.entries()) {
      await h.db.sql`insert into rotations (job_id, node_id, modem_id, method, trigger, status, result, new_ip)
                     values (gen_random_uuid(), 'n1', ${ids[4]}, 'airplane', 'schedule', 'done', ${result}, ${ip})`;
      void i;
    }
    const r = await (await api("GET", `/rotations?modem=${ids[4]}`, "viewer")).json();
    expect(r.rotations.length).toBe(4);
    expect(r.stats).toMatchObject({ total: 4, ok: 3, collisions: 1, uniqueRate: 2 / 3 });
    expect((await api("GET", "/rotations?result=MAYBE", "viewer")).status).toBe(422);
  });

  test("alerts: ack, resolve, and the conflicts", async () => {
    const { id } = await openAlert(h.db.sql, { nodeId: "n1", kind: "modem.offline", severity: "critical", scope: "modem", modemId: ids[0], dedupKey: "offline:1", message: "modem offline" });
    expect((await api("GET", "/alerts", "viewer").then((r) => r.json())).map((a: { id: number }) => a.id)).toContain(id);
    expect((await api("POST", `/alerts/${id}/ack`, "viewer")).status).toBe(403);
    const ack = await api("POST", `/alerts/${id}/ack`, "technician");
    expect(ack.status).toBe(200);
    expect((await ack.json()).acknowledged_by).toBe("technician");
    expect((await api("POST", `/alerts/${id}/ack`, "technician")).status).toBe(409);
    expect((await api("POST", `/alerts/${id}/resolve`, "technician")).status).toBe(200);
    expect((await api("POST", `/alerts/${id}/resolve`, "technician")).status).toBe(409);
    expect((await api("POST", "/alerts/987654/resolve", "technician")).status).toBe(404);
  });

  test("events paged by sequence: forward with ?after= reaches every event once", async () => {
    await appendEvents(h.db.sql, Array.from({ length: 250 }, (_, i) => ({ nodeId: "n1", modemId: ids[i % 5], kind: "test.page", payload: { i } })));
    const seen: number[] = [];
    let after = 0;
    for (let page = 0; page < 10; page++) {
      const r = await (await api("GET", `/events?kind=test.page&after=${after}&limit=100`, "viewer")).json();
      seen.push(...r.events.map((e: { payload: { i: number } }) => e.payload.i));
      if (!r.next) break;
      after = r.next.after;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const newest = await (await api("GET", "/events?kind=test.page&limit=3", "viewer")).json();
    expect(newest.events.map((e: { payload: { i: number } }) => e.payload.i)).toEqual([249, 248, 247]);
  });
});

describe("admin", () => {
  test("users: create with a one-time password, duplicate 409, last admin protected, no self-delete", async () => {
    const c = await api("POST", "/users", "admin", { username: "ops1", role: "technician" });
    expect(c.status).toBe(201);
    const body = await c.json();
    expect(body.password).toMatch(/^[A-Za-z2-9]{20}$/);
    expect(body.user).not.toHaveProperty("password_hash");
    expect((await api("POST", "/users", "admin", { username: "ops1", role: "viewer" })).status).toBe(409);
    const bad = await api("POST", "/users", "admin", { username: "bad name!", role: "root" });
    expect(bad.status).toBe(422);
    expect(Object.keys((await bad.json()).error.fields).sort()).toEqual(["role", "username"]);
    const demote = await api("PATCH", `/users/${h.userIds.admin}`, "admin", { role: "viewer" });
    expect(demote.status).toBe(409);
    expect((await demote.json()).error.code).toBe("LAST_ADMIN");
    expect((await api("DELETE", `/users/${h.userIds.admin}`, "admin")).status).toBe(409);
    expect((await api("PATCH", `/users/${body.user.id}`, "admin", { role: "viewer" })).status).toBe(200);
    expect((await api("DELETE", `/users/${body.user.id}`, "admin")).status).toBe(204);
    expect((await api("GET", "/users", "technician")).status).toBe(403);
  });

  test("settings: invalid values → 422 with a message per field, nothing saved; valid values persist", async () => {
    const bad = await api("PUT", "/settings", "admin", { "health.interval_s": 5, "proxy.whitelist": "10.0.0.0/8, not-an-ip", "rotation.interval_s": 30 });
    expect(bad.status).toBe(422);
    const fields = (await bad.json()).error.fields;
    expect(Object.keys(fields).sort()).toEqual(["health.interval_s", "proxy.whitelist", "rotation.interval_s"]);
    expect(fields["proxy.whitelist"]).toBe("entry 2: an IPv4/IPv6 address or CIDR, e.g. 192.168.1.0/24");
    expect(fields["health.interval_s"]).toContain("30 to 60");
    expect((await api("PUT", "/settings", "admin", { "no.such": 1 })).status).toBe(422);
    const ok = await api("PUT", "/settings", "admin", { "health.interval_s": 45, "proxy.whitelist": "10.0.0.0/8\n192.168.1.0/24" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ "health.interval_s": 45, "proxy.whitelist": ["10.0.0.0/8", "192.168.1.0/24"] });
    expect((await api("PUT", "/settings", "technician", { "health.interval_s": 50 })).status).toBe(403);
  });

  test("the OpenAPI document lists every /api/v1 route with its role", async () => {
    const doc = await (await request(h.app, "GET", "/api/v1/openapi.json", {})).json();
    expect(doc.openapi).toBe("3.1.0");
    const routes = h.app.decorator.env.policy.list().filter((r) => r.path.startsWith("/api/v1/"));
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")]?.[r.method.toLowerCase()];
      expect(op?.["x-role"]).toBe(r.meta!["x-role"]);
    }
    expect(doc.paths["/api/v1/modems/{id}/rotate"].post.responses["422"]).toBeDefined();
  });
});
