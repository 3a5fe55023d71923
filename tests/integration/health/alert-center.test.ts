/**
 * Alerts from health states on a real PostgreSQL, with a local webhook receiver: open once, dedup while open,
 * flaps count occurrences, resolve after the condition stayed away, a human resolve re-opens while it persists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AlertCenter } from "../../../src/health/alert-center.ts";
import { desiredAlerts, hubKey, type AlertModemView, type AlertSpec } from "../../../src/health/alert-rules.ts";
import { healthMetrics } from "../../../src/health/metrics.ts";
import { MetricsRegistry } from "../../../src/http/metrics-registry.ts";
import { openAlert, resolveAlert } from "../../../src/db/queries/alerts.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const NODE = "alert-node";
let db: TestDb;
let modemId: number;
let receiver: ReturnType<typeof Bun.serve>;
const got: Array<{ event: string; node: string; alert: Record<string, unknown> }> = [];
const registry = new MetricsRegistry();

beforeAll(async () => {
  db = await createTestDb({ prefix: "alerts" });
  await db.sql`insert into nodes (id, hostname) values (${NODE}, 'h')`;
  modemId = Number((await db.sql`insert into modems (node_id, imei, state) values (${NODE}, '860000000000001', 'online') returning id`)[0]!.id);
  receiver = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) { got.push(await req.json()); return new Response("ok"); } });
}, 60_000);
afterAll(async () => {
  receiver?.stop(true);
  await db?.drop();
});

const now = Date.now();
const view = (over: Partial<AlertModemView>): AlertModemView => ({
  id: modemId, label: "modem 1-1.1", state: "online", stateReason: null, stateSinceMs: now, temperature: 40, noSignalSweeps: 0, hub: "1-1", hubDown: false, ...over,
});
const open = async () => (await db.sql`select kind, dedup_key, occurrences from alerts where node_id = ${NODE} and resolved_at is null order by id`).map((r) => ({ ...r }));

describe("AlertCenter", () => {
  test("rule alerts: opened once, flaps bump occurrences, resolved after resolveAfter absent evaluations; webhook in order", async () => {
    const c = new AlertCenter({ sql: db.sql, nodeId: NODE, metrics: healthMetrics(registry), resolveAfter: 2, webhook: { url: `http://127.0.0.1:${receiver.port}/hook`, backoffBaseMs: 10 } });
    const managed = (k: string) => k.startsWith("modem:");
    const hot = desiredAlerts([view({ temperature: 80 })], now);
    await c.reconcile(hot, managed);
    await c.reconcile(hot, managed);
    expect(await open()).toEqual([{ kind: "modem.temperature", dedup_key: `modem:${modemId}:temperature`, occurrences: 1 }]);
    // absent once (hysteresis), back: a flap
    await c.reconcile([], managed);
    await c.reconcile(hot, managed);
    expect((await open())[0]!.occurrences).toBe(2);
    await c.reconcile([], managed);
    expect((await open()).length).toBe(1);
    await c.reconcile([], managed);
    expect(await open()).toEqual([]);
    await c.idle();
    expect(got.map((g) => `${g.event}:${g.alert.kind}`)).toEqual(["alert.opened:modem.temperature", "alert.resolved:modem.temperature"]);
    expect(got[0]!.node).toBe(NODE);
    expect(got[1]!.alert).toMatchObject({ modemId, occurrences: 2 });
    expect(await registry.render()).toContain('lteproxy_health_alerts_open{kind="modem.temperature",severity="warning"} 0');
  });

  test("explicit alerts (hub.down) are not touched by the rules; raise does not double-count; clear resolves", async () => {
    got.length = 0;
    const c = new AlertCenter({ sql: db.sql, nodeId: NODE, metrics: healthMetrics(registry) });
    const hub: AlertSpec = { kind: "hub.down", severity: "critical", scope: "hub", hub: "1-2", dedupKey: hubKey("1-2"), message: "hub 1-2 down" };
    expect((await c.raise(hub)).created).toBe(true);
    expect((await c.raise(hub)).created).toBe(false);
    for (let i = 0; i < 3; i++) await c.reconcile([], (k) => k.startsWith("modem:"));
    expect(await open()).toEqual([{ kind: "hub.down", dedup_key: "hub:1-2:down", occurrences: 1 }]);
    expect(await c.clear(hubKey("1-2"))).toBe(true);
    expect(await c.clear(hubKey("1-2"))).toBe(false);
    expect(await open()).toEqual([]);
  });

  test("a human resolves an alert whose condition persists: it comes back as a new alert", async () => {
    const c = new AlertCenter({ sql: db.sql, nodeId: NODE, metrics: healthMetrics(registry) });
    const failed = desiredAlerts([view({ state: "failed", stateReason: "heal ladder exhausted" })], now);
    await Promise.all([c.reconcile(failed, () => true), c.reconcile(failed, () => true), c.raise(failed[0]!)]);
    const first = await db.sql`select id, occurrences from alerts where node_id = ${NODE} and resolved_at is null`;
    expect(first.length).toBe(1);
    expect(first[0]!.occurrences).toBe(1);
    expect(await resolveAlert(db.sql, Number(first[0]!.id))).toBe("ok");
    await c.reconcile(failed, () => true);
    const again = await db.sql`select id from alerts where node_id = ${NODE} and resolved_at is null`;
    expect(again.length).toBe(1);
    expect(Number(again[0]!.id)).not.toBe(Number(first[0]!.id));
  });

  test("the webhook follows the rows: alerts opened or resolved by other writers are delivered once; what was open at the first read only when it ends", async () => {
    await db.sql`update alerts set resolved_at = now() where node_id = ${NODE} and resolved_at is null`;
    const before: AlertSpec = { kind: "modem.temperature", severity: "warning", scope: "modem", modemId, dedupKey: "modem:x:before", message: "hot before start" };
    await openAlert(db.sql, { nodeId: NODE, ...before });
    got.length = 0;
    const managed = (k: string) => k.startsWith("modem:");
    // This node's two health instances (the app's and a second one), only one with a webhook.
    const hooked = new AlertCenter({ sql: db.sql, nodeId: NODE, metrics: healthMetrics(registry), webhook: { url: `http://127.0.0.1:${receiver.port}/hook`, backoffBaseMs: 10 } });
    const other = new AlertCenter({ sql: db.sql, nodeId: NODE, metrics: healthMetrics(registry) });
    await hooked.reconcile([], () => false); // first read: what is open now was announced before a restart
    const hub: AlertSpec = { kind: "hub.down", severity: "critical", scope: "hub", hub: "1-3", dedupKey: hubKey("1-3"), message: "USB hub 1-3: 3 modems vanished" };
    expect((await other.raise(hub)).created).toBe(true);
    expect((await hooked.raise(hub)).created).toBe(false);
    // The outage buffer opens its alert with openAlert directly.
    await openAlert(db.sql, { nodeId: NODE, kind: "events_dropped", severity: "warning", scope: "system", dedupKey: "events.dropped", message: "3 events dropped" });
    await hooked.reconcile([], () => false);
    expect(await other.clear(hubKey("1-3"))).toBe(true);
    expect(await hooked.clear(hubKey("1-3"))).toBe(false);
    // A human resolves the other one in the panel.
    const dropped = await db.sql`select id from alerts where node_id = ${NODE} and dedup_key = 'events.dropped' and resolved_at is null`;
    expect(await resolveAlert(db.sql, Number(dropped[0]!.id))).toBe("ok");
    for (let i = 0; i < 3; i++) await hooked.reconcile([], managed);
    await hooked.idle();
    expect(got.map((g) => `${g.event}:${g.alert.kind}:${g.alert.dedupKey}`)).toEqual([
      "alert.opened:hub.down:hub:1-3:down",
      "alert.opened:events_dropped:events.dropped",
      "alert.resolved:hub.down:hub:1-3:down",
      "alert.resolved:events_dropped:events.dropped",
      // open before the first read: not announced again, but its end is (the rules resolved it, 2 absent reads)
      "alert.resolved:modem.temperature:modem:x:before",
    ]);
    expect(got[0]!.alert).toMatchObject({ hub: "1-3", scope: "hub", message: hub.message });
    expect(got[2]!.alert.resolvedAt).toBeTruthy();
    expect(got.every((g) => g.node === NODE)).toBe(true);
  });
});
