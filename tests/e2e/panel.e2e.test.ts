/**
 * Browser end-to-end in real Chromium (playwright-core, /usr/bin/chromium, fresh profile): log in, the dashboard
 * lists every seeded modem, a row changed in PostgreSQL (plus its modem_events row) updates in place through SSE
 * without a reload, an action runs with confirmation and live progress, a viewer sees no rotate button and gets
 * 403 when posting anyway, the login form works without JavaScript, and no CSP violation is reported. Rows are
 * seeded directly (fast, and the signal plots have a day of samples); panel-lab.e2e.test.ts runs the flow against
 * the real appliance on the lab and makes the docs' screenshots. Screenshots here go to test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { createTestDb, type TestDb } from "../helpers/db.ts";
import { loadConfig } from "../../src/config.ts";
import { EventStream } from "../../src/events/event-stream.ts";
import { createHttpApp, stopHttpApp, type HttpApp } from "../../src/http/server.ts";
import { hashPassword } from "../../src/http/auth/passwords.ts";
import { createUser } from "../../src/db/queries/users.ts";
import { appendEvent } from "../../src/db/queries/events.ts";
import { seedModems, fakeActions } from "../integration/http/harness.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const N = 30;
// The docs' screenshots come from the lab run (panel-lab.e2e.test.ts); these seeded ones are test artifacts.
const SHOTS = join(import.meta.dir, "../../test-results/screenshots");

let db: TestDb;
let events: EventStream;
let app: HttpApp;
let base: string;
let ids: number[];
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  db = await createTestDb({ prefix: "e2e" });
  await db.sql`insert into nodes (id, hostname, version) values ('n1', 'lteproxy-lab', '0.1.0')`;
  events = new EventStream(db.sql, { pollMs: 500 });
  await events.start();
  app = createHttpApp({ sql: db.sql, config: loadConfig({ env: {} }), nodeId: "n1", events, db: { healthy: () => true }, actions: fakeActions() });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${app.server!.port}`;
  await createUser(db.sql, { username: "admin", role: "admin", passwordHash: await hashPassword("e2e-admin-pass") });
  await createUser(db.sql, { username: "viewer", role: "viewer", passwordHash: await hashPassword("e2e-viewer-pass") });
  ids = await seedModems(db, N);
  const now = Date.now();
  for (let i = 0; i < 288; i++) {
    // a day of 5-minute samples for the modem page's plots, with a gap (modem away) in the middle
    if (i > 120 && i < 135) continue;
    await db.sql`insert into health_samples (modem_id, ts, ok, rsrp, sinr_raw, rtt_ms)
                 values (${ids[0]}, ${new Date(now - i * 300_000)}, true, ${Math.round(-92 + 6 * Math.sin(i / 20))}, ${Math.round(12 + 5 * Math.cos(i / 15))}, ${45 + (i % 13) * 3})`;
  }
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
  await stopHttpApp(app);
  await events.stop();
  await db.drop();
});

async function browser(opts: { javaScript?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; cspErrors: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "lteproxy-e2e-profile-"));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1600, height: 1000 }, javaScriptEnabled: opts.javaScript ?? true,
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  const cspErrors: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  return { context, page, cspErrors };
}

/** The hx-sse extension keeps its connection on the element (htmx internal state): wait until it is open. */
async function waitForLive(page: Page): Promise<void> {
  await page.waitForFunction(() => (document.getElementById("live") as unknown as { _htmx?: { sse?: { status?: number } } })?._htmx?.sse?.status === 200, undefined, { timeout: 10_000 });
}

async function logIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type="submit"]')]);
}

describe("panel in Chromium", () => {
  test("login, dashboard with every modem, live row update without reload, action progress, screenshots", async () => {
    const { page, cspErrors } = await browser();
    // a wrong password shows the generic message in place
    await page.goto(`${base}/login`);
    await page.fill('input[name="username"]', "admin");
    await page.fill('input[name="password"]', "wrong-password");
    await page.click('button[type="submit"]');
    await page.waitForSelector("#login-error span");
    expect(await page.textContent("#login-error")).toBe("Invalid username or password.");

    await logIn(page, "admin", "e2e-admin-pass");
    expect(await page.locator("#modems-body tr[id^=modem-]").count()).toBe(N);
    expect(await page.textContent("#counters")).toContain(`${N - 3} online`);

    // the SSE connection is up before we change anything (the page's ?after would replay it anyway)
    await waitForLive(page);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const target = ids[4]!;
    const t0 = Date.now();
    await db.sql.begin(async (tx) => {
      await tx`update modems set operator = 'E2E-Net', rsrp = -71, state = 'degraded', state_reason = 'probe failed' where id = ${target}`;
      await appendEvent(tx as never, { nodeId: "n1", modemId: target, kind: "modem.updated", payload: { rsrp: -71 } });
    });
    await page.waitForFunction((id) => document.querySelector(`#modem-${id}`)?.textContent?.includes("E2E-Net"), target, { timeout: 2000 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(2000);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42); // no reload
    expect(await page.textContent(`#modem-${target} .state`)).toBe("degraded");
    expect(await page.textContent("#counters")).toContain("1 degraded");
    expect(await page.locator("#modems-body tr[id^=modem-]").count()).toBe(N);
    // a signal-only change travels as that one cell: the row keeps its other cells and its place
    await db.sql.begin(async (tx) => {
      await tx`update modems set rsrp = -118 where id = ${target}`;
      await appendEvent(tx as never, { nodeId: "n1", modemId: target, kind: "modem.updated", payload: { rsrp: -118 } });
    });
    await page.waitForFunction((id) => document.querySelector(`#modem-${id} > :nth-child(7)`)?.textContent?.startsWith("-118"), target, { timeout: 2000 });
    expect(await page.locator(`#modem-${target} > td`).count()).toBe(12);
    expect(await page.textContent(`#modem-${target}`)).toContain("E2E-Net");
    expect(await page.getAttribute(`#modem-${target} i.bars`, "class")).toBe("bars b0"); // was b4 at -71

    // search filters the table in place
    await page.fill('input[name="q"]', "E2E-Net");
    await page.waitForFunction(() => document.querySelectorAll("#modems-body tr[id^=modem-]").length === 1);
    await page.fill('input[name="q"]', "");
    await page.waitForFunction((n) => document.querySelectorAll("#modems-body tr[id^=modem-]").length === n, N);
    await page.screenshot({ path: join(SHOTS, "dashboard.png"), fullPage: false });

    // modem page: confirm an action, its progress line appears and then updates live from a job event
    await page.goto(`${base}/modems/${ids[0]}`);
    await waitForLive(page);
    page.once("dialog", (d) => void d.accept());
    await page.click('button[data-action="rotate"]');
    await page.waitForSelector("#jobs li.job-running");
    const jobId = (await page.getAttribute("#jobs li", "id"))!.slice(4);
    await appendEvent(db.sql, { nodeId: "n1", modemId: ids[0], kind: "rotation.done", payload: { jobId, action: "rotate", status: "done", result: "OK", message: "203.0.113.1 → 198.51.100.9" } });
    await page.waitForSelector(`#job-${jobId}.job-ok`, { timeout: 2000 });
    expect(await page.textContent(`#job-${jobId}`)).toContain("198.51.100.9");
    // the AT console answers in place
    await page.fill('input[name="command"]', "ATI");
    await page.press('input[name="command"]', "Enter");
    await page.waitForSelector(".at-entry.ok");
    expect(await page.textContent(".at-entry.ok")).toContain("Quectel");
    expect(await page.locator("svg.plot polyline").count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(SHOTS, "modem.png"), fullPage: true });
    expect(cspErrors).toEqual([]);
  }, 90_000);

  test("without JavaScript the login form still works (plain same-origin form post)", async () => {
    const { page } = await browser({ javaScript: false });
    await page.goto(`${base}/login?next=/events`);
    await page.fill('input[name="username"]', "viewer");
    await page.fill('input[name="password"]', "wrong-password");
    await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
    expect(await page.textContent("#login-error")).toBe("Invalid username or password.");
    await page.fill('input[name="username"]', "viewer");
    await page.fill('input[name="password"]', "e2e-viewer-pass");
    await Promise.all([page.waitForURL(`${base}/events`), page.click('button[type="submit"]')]);
    expect(await page.locator("h1").first().textContent()).toContain("Events");
  }, 60_000);

  test("a viewer sees no rotate button and gets 403 when posting anyway", async () => {
    const { page, cspErrors } = await browser();
    await logIn(page, "viewer", "e2e-viewer-pass");
    await page.goto(`${base}/modems/${ids[0]}`);
    expect(await page.locator('button[data-action="rotate"]').count()).toBe(0);
    expect(await page.locator("text=AT console").count()).toBe(0);
    const status = await page.evaluate(async (id) => {
      const r = await fetch(`/modems/${id}/actions/rotate`, { method: "POST", headers: { "HX-Request": "true" } });
      return r.status;
    }, ids[0]);
    expect(status).toBe(403);
    const apiStatus = await page.evaluate(async (id) => (await fetch(`/api/v1/modems/${id}/rotate`, { method: "POST" })).status, ids[0]);
    expect(apiStatus).toBe(403);
    expect(cspErrors).toEqual([]);
  }, 60_000);
});
