/** The panel's pages rendered in-process: content, escaping of radio-supplied text, forms with field errors. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeHarness, request, seedModems, type Harness } from "./harness.ts";
import { appendEvent } from "../../../src/db/queries/events.ts";

let h: Harness;
let ids: number[];
beforeAll(async () => {
  h = await makeHarness();
  ids = await seedModems(h.db, 4);
});
afterAll(async () => {
  await h.close();
});

const get = async (path: string, role: "admin" | "technician" | "viewer" = "admin") => {
  const r = await request(h.app, "GET", path, { cookie: h.cookies[role], htmx: false });
  return { status: r.status, html: await r.text() };
};
const post = (path: string, form: Record<string, string>, role: "admin" | "technician" | "viewer" = "technician") =>
  request(h.app, "POST", path, { cookie: h.cookies[role], form });

describe("escaping of radio- and user-supplied text", () => {
  test("<script> in an SMS body and an operator name is rendered as text on every page that shows it", async () => {
    const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
    await h.db.sql`update modems set operator = ${evil}, state_reason = ${evil} where id = ${ids[0]}`;
    await h.db.sql`insert into sms_messages (modem_id, direction, peer, body) values (${ids[0]}, 'in', ${`+49<b>1</b>`}, ${evil})`;
    await appendEvent(h.db.sql, { nodeId: "n1", modemId: ids[0], kind: "modem.state", payload: { from: "online", to: "degraded", reason: evil } });
    const pages = [await get("/"), await get(`/modems/${ids[0]}`), await get("/events")];
    for (const { status, html } of pages) {
      expect(status).toBe(200);
      // Inside a quoted attribute (title="…") markup is inert as long as the quote is escaped; everywhere else
      // the text must be entity-escaped. Remove the attribute values and look for live markup.
      expect(html).not.toMatch(/="[^"]*<script>alert\("/); // the quote inside an attribute is escaped
      const outsideAttributes = html.replace(/="[^"]*"/g, '=""');
      expect(outsideAttributes).not.toContain("<script>alert");
      expect(outsideAttributes).not.toContain("<img src=x");
      expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    }
    expect(pages[1]!.html).toContain("+49&lt;b&gt;1&lt;/b&gt;");
    // the API returns JSON (no HTML interpretation), with the text as stored
    const api = await (await request(h.app, "GET", `/api/v1/modems/${ids[0]}`, { bearer: h.keys.viewer })).json();
    expect(api.operator).toBe(evil);
    await h.db.sql`update modems set operator = 'Telekom.de', state_reason = null where id = ${ids[0]}`;
  });
});

describe("dashboard", () => {
  test("every modem in one dense table with state word+colour, signal, IPs, port; counters; live connector", async () => {
    await h.db.sql`update modems set state = 'failed' where id = ${ids[3]}`;
    const { html } = await get("/");
    for (const id of ids) expect(html).toContain(`<tr id="modem-${id}"`);
    expect(html).toContain('<td class="state state-online">online</td>');
    expect(html).toContain('<td class="state state-failed">failed</td>');
    expect(html).toContain('<i class="bars b3"></i><span>-91/12</span>'); // RSRP -91 dBm, SINR 12 dB
    expect(html).toContain("203.0.113.2");
    expect(html).toContain(">3129<");
    expect(html).toMatch(/<b>3<\/b> online/);
    expect(html).toMatch(/<b>1<\/b> failed/);
    expect(html).toMatch(/hx-sse:connect="\/sse\/dashboard\?after=\d+"/);
  });

  test("the filter fragment returns only the table body and updates the URL", async () => {
    const r = await request(h.app, "GET", "/fragments/modems?q=203.0.113.2&state=", { cookie: h.cookies.viewer });
    const html = await r.text();
    expect(html).toStartWith('<tbody id="modems-body">');
    expect(html.match(/<tr id="modem-/g)?.length).toBe(1);
    expect(r.headers.get("hx-replace-url")).toBe("/?q=203.0.113.2");
    expect((await request(h.app, "GET", "/fragments/modems?state=bogus", { cookie: h.cookies.viewer })).status).toBe(422);
  });
});

describe("modem page", () => {
  test("identity, radio, data, proxy, signal plots, timeline; actions and console only for technicians", async () => {
    const now = Date.now();
    for (let i = 0; i < 48; i++) {
      await h.db.sql`insert into health_samples (modem_id, ts, ok, rsrp, sinr_raw, rtt_ms) values (${ids[1]}, ${new Date(now - i * 30 * 60_000)}, true, ${-90 - (i % 7)}, ${10 + (i % 5)}, ${40 + i})`;
    }
    const tech = (await get(`/modems/${ids[1]}`, "technician")).html;
    for (const text of ["Identity", "Radio", "Data connection", "Proxy", "Signal history (24 h)", "Timeline", "AT console", "Secure rotation link", "860000000000002"]) expect(tech).toContain(text);
    expect(tech.match(/<polyline class="line" points="[^"]+"/g)?.length).toBe(3);
    for (const action of ["rotate", "reconnect", "airplane", "reboot", "disable-proxy"]) expect(tech).toContain(`hx-post="/modems/${ids[1]}/actions/${action}"`);
    expect(tech).toContain('hx-confirm="Rotate the public IP');
    const viewer = (await get(`/modems/${ids[1]}`, "viewer")).html;
    expect(viewer).not.toContain("/actions/rotate");
    expect(viewer).not.toContain("AT console");
    expect(viewer).toContain('<svg id="plot-rsrp"');
  });

  test("an action answers a live progress line for #jobs", async () => {
    const r = await post(`/modems/${ids[1]}/actions/rotate`, {});
    expect(r.status).toBe(202);
    expect(await r.text()).toMatch(/^<li id="job-00000000-0000-4000-8000-\d{12}" class="job job-running">/);
  });

  test("AT console: ATI returns Quectel; a chained command is refused inline and audited", async () => {
    const ok = await post(`/modems/${ids[1]}/at`, { command: "ATI" });
    const okHtml = await ok.text();
    expect(okHtml).toContain("&gt; ATI");
    expect(okHtml).toContain("Quectel");
    const bad = await post(`/modems/${ids[1]}/at`, { command: "AT+CFUN=1,1;+CFUN=0" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("AT_REJECTED");
    const imei = (await h.db.sql`select imei from modems where id = ${ids[1]}`)[0]!.imei;
    const audit = await h.db.sql`select action, result from audit_log where action in ('modem.at', 'modem.console') and target = ${imei} order by id`;
    expect(audit.map((a) => `${a.action} ${a.result}`)).toEqual(["modem.console refused"]);
  });

  test("rotation link: regenerate shows the URL once with a copy button", async () => {
    const r = await post(`/modems/${ids[1]}/rotation-link`, {});
    const html = await r.text();
    expect(html).toMatch(/value="http:\/\/localhost\/api\/v1\/rotate\/[A-Za-z0-9_-]{32}"/);
    expect(html).toContain('data-copy="#rotation-url"');
    const page = (await get(`/modems/${ids[1]}`, "technician")).html;
    expect(page).toContain("A rotation link exists");
    expect(page).not.toContain("/api/v1/rotate/");
  });

  test("SMS send and USSD forms", async () => {
    const bad = await post(`/modems/${ids[1]}/sms`, { to: "abc", text: "" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("digits, optionally with a leading +");
    expect(await (await post(`/modems/${ids[1]}/sms`, { to: "+491701234567", text: "hello" })).text()).toContain("Sent.");
    expect(await (await post(`/modems/${ids[1]}/ussd`, { code: "*100#" })).text()).toContain("Balance: 5.00 EUR");
  });
});

describe("settings, users, alerts, system", () => {
  test("settings: invalid values are re-rendered with field errors (422), valid ones saved", async () => {
    const r = await post("/settings", { "proxy.auth_mode": "password", "proxy.whitelist": "10.0.0.0/8\nnope", "health.interval_s": "90", "retention.samples_days": "7" }, "admin");
    expect(r.status).toBe(422);
    const html = await r.text();
    expect(html).toContain("health check interval (s): an integer from 30 to 60".replace("health check", "health"));
    expect(html).toContain("an IPv4/IPv6 address or CIDR");
    expect(html).toContain('value="90"');
    expect(html).toContain("nothing was saved");
    const ok = await post("/settings", { "health.interval_s": "40", "proxy.whitelist": "10.0.0.0/8" }, "admin");
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("Saved.");
    expect((await post("/settings", { "health.interval_s": "40" }, "technician")).status).toBe(403);
    expect((await get("/settings", "viewer")).html).toContain("Only admins can change settings");
  });

  test("users: create shows the one-time password once and appends the row", async () => {
    const r = await post("/users", { username: "night-shift", role: "viewer", password: "" }, "admin");
    expect(r.status).toBe(201);
    const html = await r.text();
    expect(html).toContain('<hx-partial hx-target="#users-body" hx-swap="beforeend">');
    expect(html).toContain("One-time password for night-shift");
    expect((await post("/users", { username: "night-shift", role: "viewer" }, "admin")).status).toBe(409);
  });

  test("alerts: ack and resolve buttons swap the row", async () => {
    const a = await h.db.sql`insert into alerts (node_id, kind, severity, scope, dedup_key, message) values ('n1', 'hub.down', 'critical', 'hub', 'hub:1', 'hub 1 dropped 8 modems') returning id`;
    const id = a[0]!.id;
    expect((await get("/alerts", "viewer")).html).not.toContain(`/alerts/${id}/ack`);
    expect((await get("/alerts", "technician")).html).toContain(`/alerts/${id}/ack`);
    const ack = await post(`/alerts/${id}/ack`, {});
    expect(await ack.text()).toContain("acknowledged by technician");
    const again = await post(`/alerts/${id}/ack`, {});
    expect(again.status).toBe(409);
    expect(again.headers.get("hx-retarget")).toBe("#flash");
  });

  test("system page: DB status, event lag, nodes with heartbeat", async () => {
    const { html } = await get("/system", "viewer");
    expect(html).toContain("reachable");
    expect(html).toContain("Event lag");
    expect(html).toContain("box-1");
  });

  test("while PostgreSQL is down: read-only banner on pages, writes answer 503", async () => {
    h.setDbHealthy(false);
    try {
      const { html } = await get("/", "technician");
      expect(html).toContain("Database unreachable: the panel is read-only");
      const w = await request(h.app, "POST", `/api/v1/modems/${ids[0]}/rotate`, { bearer: h.keys.technician, json: {} });
      expect(w.status).toBe(503);
      expect((await w.json()).error.code).toBe("DB_UNAVAILABLE");
    } finally {
      h.setDbHealthy(true);
    }
  });
});
