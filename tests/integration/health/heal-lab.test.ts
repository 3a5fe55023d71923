/**
 * Health on the real lab (root: namespaces, DHCP, carrier NAT, echo server, real curl): the whole appliance from
 * startDemo, whose app runs health with the test's timings and webhook receiver. 18 modems = hub 1 (modems 1–10) and hub 2 (11–18).
 *
 * The sim's `hang` swallows every byte on AT and QMI and survives reboots and USB resets (src/sim/modem/modem.ts):
 * nothing lteproxy does can cure it, which is exactly the "never recovers" case. For the "recovers" case the test
 * models a firmware hang that a module reboot cures: when the ladder reaches its reboot rung (onStep, before the
 * step acts) it clears modem 3's fault, so the reboot really is sent as AT+CFUN=1,1 and answered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, type RunningDemo } from "../../../src/demo.ts";
import type { RunningHealth } from "../../../src/jobs/health-jobs.ts";
import { canBuildLab } from "../../../src/sim/net/index.ts";
import { putSettings } from "../../../src/db/queries/settings.ts";
import { listProxies } from "../../../src/cli/proxies.ts";
import type { Sql } from "../../../src/db/client.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const MODEMS = 18;
const root = process.getuid?.() === 0;
const lab = root && Boolean(canBuildLab());
if (!lab) console.warn("SKIP tests/integration/health/heal-lab: needs root with ip netns, dnsmasq and nft");

let demo: RunningDemo;
let health: RunningHealth;
let db: TestDb;
let sql: Sql;
let dataDir: string;
let hook: ReturnType<typeof Bun.serve> | undefined;
const hooked: Array<{ event: string; alert: { kind: string; dedupKey?: string; modemId?: number | null; hub?: string | null } }> = [];
/** Modem id → called when the ladder is about to run a step on it. */
const beforeStep = new Map<number, (step: string) => Promise<void>>();
let sweeping = true;
let paused = false;
let sweeper: Promise<void> | undefined;

const ids = () => demo.app.manager.list().map((m) => m.id).sort((a, b) => a - b);
/** The modem in lab slot index `i` (0-based). */
const modemAt = (i: number) => demo.app.manager.get(demo.lab.list()[i]!.slot)!;

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(200);
  }
}

/** GET http://echo.lab/ip through a proxy port: status and body. */
async function viaProxy(p: { username: string | null; password: string | null; host: string; port: number }) {
  const proc = Bun.spawn(["curl", "-sS", "-m", "3", "-o", "-", "-w", "\n%{http_code}", "-x", `http://${p.username}:${p.password}@${p.host}:${p.port}`, "http://echo.lab/ip"], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const i = out.lastIndexOf("\n");
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i).trim() };
}

async function onlineCount(): Promise<number> {
  return (await sql`select count(*)::int as n from modems where state = 'online'`)[0]!.n as number;
}

describe.skipIf(!lab)("health on the lab", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "health-lab-"));
    db = await createTestDb({ prefix: "health" });
    hook = Bun.serve({
      hostname: "127.0.0.1", port: 0,
      async fetch(req) {
        hooked.push(await req.json());
        return new Response("ok");
      },
    });
    // The app's own health (one instance, as in production), with lab timings and a webhook receiver.
    demo = await startDemo({
      modems: MODEMS, net: "lab", httpPort: 30000 + Math.floor(Math.random() * 5000), dataDir, timeScale: 0.05, databaseUrl: db.url,
      health: {
        schedule: false,
        sweep: { atTimeoutMs: 1000, atDeadlineMs: 1500 },
        triggers: { atFailSweeps: 2, probeFailSweeps: 3, stuckMs: 60_000 },
        // The supervisor's own AT+CPIN? (5 s timeout) can sit in a hung modem's queue ahead of ours: 4 s + 4 s.
        ladder: {
          attemptsPerStep: 1, backoffBaseMs: 100, backoffCapMs: 300, airplaneHoldMs: 300, atTimeoutMs: 4000, usbHoldMs: 100,
          settleMs: { data: 4000, airplane: 5000, reboot: 25_000, "usb-reset": 12_000 },
          breaker: { cooldownMs: 10 * 60_000, maxCooldownMs: 60 * 60_000 },
        },
        hub: { graceMs: 1000, pollMs: 200, settleMs: 30_000 },
        alerts: { offlineAfterMs: 1500, resolveAfter: 1, webhook: { url: `http://127.0.0.1:${hook.port}/alerts`, backoffBaseMs: 50 } },
        onStep: async (e) => {
          if (e.phase === "start") await beforeStep.get(e.modemId)?.(e.step);
        },
      },
    });
    sql = demo.app.db.sql;
    health = demo.app.health;
    await until("all modems online", async () => (await onlineCount()) === MODEMS, 90_000);
    // The scheduler is off: this loop is the health.sweep job, faster than its 30 s so the test stays short.
    sweeper = (async () => {
      while (sweeping) {
        if (!paused) await health.sweepNow();
        await Bun.sleep(400);
      }
    })();
  }, 150_000);

  afterAll(async () => {
    sweeping = false;
    await sweeper;
    await health?.stop();
    await demo?.stop();
    hook?.stop(true);
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test("a sweep probes every modem, writes one sample each, updates the rows and emits exactly one event", async () => {
    paused = true;
    await health.sweepNow(); // joins the loop's sweep if one is running
    const before = Number((await sql`select coalesce(max(seq), 0) as s from modem_events`)[0]!.s);
    const samples0 = Number((await sql`select count(*)::int as n from health_samples`)[0]!.n);
    const r = await health.sweepNow();
    paused = false;
    expect(r.error).toBeUndefined();
    expect(r.modemIds.length).toBe(MODEMS);
    expect(r.ok).toBe(MODEMS);
    expect(r.dataProbes).toBe(MODEMS);
    const sweepEvents = await sql`select seq, modem_id, payload from modem_events where kind = 'health.sweep' and seq > ${before} order by seq`;
    expect(sweepEvents.length).toBe(1);
    const last = sweepEvents[0]!;
    expect(Number(last.seq)).toBe(r.seq!);
    expect(last.modem_id).toBeNull();
    expect((last.payload as { modemIds: number[] }).modemIds.sort((a, b) => a - b)).toEqual(ids());
    // per sweep: one health.sweep event and no per-modem health rows
    const perModem = await sql`select count(*)::int as n from modem_events where seq > ${before} and kind like 'health.%' and modem_id is not null`;
    expect(perModem[0]!.n).toBe(0);
    const samples = Number((await sql`select count(*)::int as n from health_samples`)[0]!.n);
    expect(samples - samples0).toBe(MODEMS);
    const rows = await sql`select host(public_ip) as ip, rtt_ms, csq, rsrp, temperature, bytes_tx, health from modems`;
    for (const m of rows) {
      expect(m.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(m.rtt_ms).toBeGreaterThan(0);
      expect(m.rsrp).toBeLessThan(0);
      expect(m.temperature).toBeGreaterThan(0);
      expect((m.health as { ok: boolean }).ok).toBe(true);
    }
    const s = await sql`select * from health_samples where modem_id = ${r.modemIds[0]!} order by id desc limit 1`;
    expect(s[0]).toMatchObject({ ok: true, error: null });
    expect(s[0]!.public_ip).toBeTruthy();
    expect((await demo.app.metrics.render())).toContain("lteproxy_health_sweeps_total{result=\"ok\"}");
  }, 30_000);

  test("jobs: listed with schedule and last run, runnable on demand; unknown ids are refused", async () => {
    const list = await health.jobs.list();
    expect(list.map((j) => j.id).sort()).toEqual(["health.retention", "health.sweep", "logs.retention", "rotation.schedule"]);
    await health.jobs.runNow("health.sweep", { userId: null, username: "test", role: "admin", via: "session", ip: null });
    const sweep = (await health.jobs.list()).find((j) => j.id === "health.sweep")!;
    expect(sweep.lastRun?.result).toMatch(new RegExp(`^${MODEMS} modems, 0 failing`));
    expect(sweep.lastRun?.durationMs).toBeGreaterThan(0);
    expect(sweep.running).toBe(false);
    const runs = await sql`select result, duration_ms, finished_at from job_runs where job_id = 'health.sweep' order by id desc limit 1`;
    expect(runs[0]!.finished_at).not.toBeNull();
    expect(runs[0]!.result).toBe(sweep.lastRun!.result);
    await expect(health.jobs.runNow("nope", { userId: null, username: "t", role: "admin", via: "session", ip: null })).rejects.toThrow(/no job/);
  }, 30_000);

  test("retention: samples older than retention.samples_days go, newer stay; the setting is read at run time", async () => {
    const id = ids()[0]!;
    await sql`insert into health_samples (modem_id, ts, ok) values
      (${id}, now() - interval '8 days', true), (${id}, now() - interval '6 days', true), (${id}, now() - interval '6 days', false)`;
    const old = async (days: number) => Number((await sql`select count(*)::int as n from health_samples where ts < now() - make_interval(days => ${days})`)[0]!.n);
    expect(await old(7)).toBe(1);
    await health.jobs.runNow("health.retention", { userId: null, username: "t", role: "admin", via: "session", ip: null });
    expect(await old(7)).toBe(0);
    expect(await old(5)).toBe(2);
    await putSettings(sql, { "retention.samples_days": 5 }, "test");
    await health.jobs.runNow("health.retention", { userId: null, username: "t", role: "admin", via: "session", ip: null });
    expect(await old(5)).toBe(0);
    const r = (await health.jobs.list()).find((j) => j.id === "health.retention")!;
    expect(r.lastRun?.result).toMatch(/^deleted 2 samples .* older than 5 days$/);
    expect(Number((await sql`select count(*)::int as n from health_samples where ts > now() - interval '1 hour'`)[0]!.n)).toBeGreaterThan(0);
  }, 30_000);

  test("hang modem 3: data restart, airplane, reboot in modem_events; back online on the same port; the others untouched", async () => {
    const m3 = modemAt(2);
    const m6 = modemAt(5);
    const port3 = (await sql`select proxy_port from modems where id = ${m3.id}`)[0]!.proxy_port as number;
    expect(port3).toBeGreaterThan(0);
    const seq0 = Number((await sql`select coalesce(max(seq), 0) as s from modem_events`)[0]!.s);
    // A hang a reboot cures (see the header): cleared when the ladder reaches the reboot rung.
    beforeStep.set(m3.id, async (step) => {
      if (step === "reboot") await demo.lab.ctl(m3.slot!, "clear");
    });
    // Modem 6 hangs at the same time and never recovers: the next test checks how its ladder ends.
    const proxy3 = (await listProxies(sql, demo.config.node.id, demo.config.proxy.public_host)).find((p) => p.imei === m3.imei)!;
    expect((await viaProxy(proxy3)).code).toBe(200);
    await demo.lab.ctl(m3.slot!, "hang");
    await demo.lab.ctl(m6.slot!, "hang");
    // While modem 3 heals, its port refuses cleanly and says why.
    const refusals: Array<{ code: number; body: string }> = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        if (demo.app.manager.get(m3.id)?.state === "healing") refusals.push(await viaProxy(proxy3));
        await Bun.sleep(300);
      }
    })();
    const done = await until("modem 3's ladder to end", async () => {
      const rows = await sql`select payload from modem_events where modem_id = ${m3.id} and kind = 'heal.done' and seq > ${seq0}`;
      return rows[0]?.payload as { result: string; step: string } | undefined;
    }, 90_000);
    watching = false;
    await watcher;
    expect(refusals.some((r) => r.code === 503 && /is healing: heal/.test(r.body))).toBe(true);
    expect(done).toMatchObject({ result: "recovered", step: "reboot" });
    const steps = await sql`select payload from modem_events where modem_id = ${m3.id} and kind = 'heal.step' and seq > ${seq0} order by seq`;
    expect(steps.map((s) => `${(s.payload as { step: string }).step}:${(s.payload as { result: string }).result}`)).toEqual(["data:failed", "airplane:failed", "reboot:ok"]);
    for (const s of steps) expect((s.payload as { reason: string }).reason).toMatch(/AT probe failed on \d+ sweeps/);
    // healing was visible, and the modem came back through the normal path to online on its port
    const states = (await sql`select payload from modem_events where modem_id = ${m3.id} and kind = 'modem.state' and seq > ${seq0} order by seq`)
      .map((r) => (r.payload as { to: string }).to);
    expect(states).toContain("healing");
    expect(states).toContain("unplugged");
    expect(states.at(-1)).toBe("online");
    const row = (await sql`select state, proxy_port from modems where id = ${m3.id}`)[0]!;
    expect(row).toMatchObject({ state: "online", proxy_port: port3 });
    const back = await until("modem 3's port to serve again", async () => {
      const r = await viaProxy(proxy3);
      return r.code === 200 ? r : null;
    }, 15_000);
    expect(back.body).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // nobody else was healed (modem 6 is this test's other patient)
    const others = await sql`select distinct modem_id from modem_events where kind like 'heal.%' and seq > ${seq0} and modem_id is not null`;
    expect(others.map((r) => Number(r.modem_id)).sort((a, b) => a - b)).toEqual([m3.id, m6.id].sort((a, b) => a - b));
    await until("every modem but 6 online", async () => {
      const bad = await sql`select id, state from modems where state <> 'online' and id <> ${m6.id}`;
      return bad.length === 0;
    }, 30_000);
    expect((await demo.app.metrics.render())).toContain("lteproxy_heal_steps_total{step=\"reboot\",result=\"ok\"} 1");
  }, 120_000);

  test("a modem that never recovers ends failed with an open alert, and the breaker stops the retries", async () => {
    const m6 = modemAt(5);
    const done = await until("modem 6's ladder to end", async () => {
      const rows = await sql`select seq, payload from modem_events where modem_id = ${m6.id} and kind = 'heal.done' order by seq`;
      return rows[0] as { seq: number; payload: { result: string; breakerUntil: string } } | undefined;
    }, 120_000);
    expect(done.payload.result).toBe("failed");
    const steps = await sql`select payload from modem_events where modem_id = ${m6.id} and kind = 'heal.step' order by seq`;
    expect(steps.map((s) => (s.payload as { step: string }).step)).toEqual(["data", "airplane", "reboot", "usb-reset"]);
    expect(steps.every((s) => (s.payload as { result: string }).result === "failed")).toBe(true);
    expect((await sql`select state from modems where id = ${m6.id}`)[0]!.state).toBe("failed");
    const alert = await sql`select kind, severity, scope, occurrences from alerts where modem_id = ${m6.id} and resolved_at is null and kind = 'modem.failed'`;
    expect(alert.map((a) => ({ ...a }))).toEqual([{ kind: "modem.failed", severity: "critical", scope: "modem", occurrences: 1 }]);
    await until("the failed alert at the webhook", () => hooked.some((h) => h.event === "alert.opened" && h.alert.kind === "modem.failed" && h.alert.modemId === m6.id), 10_000);
    // The breaker: more sweeps, no new ladder for modem 6 until the cool-down ends.
    expect(health.ladder.breakers.allows(m6.id, Date.now())).toBe(false);
    for (let i = 0; i < 3; i++) await health.sweepNow();
    const later = await sql`select count(*)::int as n from modem_events where modem_id = ${m6.id} and kind = 'heal.started' and seq > ${Number(done.seq)}`;
    expect(later[0]!.n).toBe(0);
    expect(health.ladder.active(m6.id)).toBe(false);
    // A refused request says why.
    expect((await health.ladder.heal(m6.id, "test")).detail).toBe("circuit breaker open");
    await demo.lab.ctl(m6.slot!, "clear");
  }, 150_000);

  test("drop the 8 modems of hub 2: one hub alert, no modem alerts, no ladders; all 8 come back and the alert resolves", async () => {
    const hubModems = demo.lab.list().filter((s) => s.hub === 2).map((s) => demo.app.manager.get(s.slot)!);
    expect(hubModems.length).toBe(8);
    const hubIds = hubModems.map((m) => m.id);
    const ports = new Map((await sql`select id, proxy_port from modems where id = any(${hubIds}::bigint[])`).map((r) => [Number(r.id), r.proxy_port as number]));
    const hubName = (await sql`select hub from modems where id = ${hubIds[0]!}`)[0]!.hub as string;
    const seq0 = Number((await sql`select coalesce(max(seq), 0) as s from modem_events`)[0]!.s);
    const hooked0 = hooked.length;
    await demo.lab.ctl("all", "hub-fail", "2");
    await until("the hub incident", () => health.hubs.open().find((i) => i.hub === hubName), 10_000);
    const hubAlerts = await until("the hub alert", async () => {
      const rows = await sql`select kind, severity, scope, hub, details from alerts where kind = 'hub.down' and resolved_at is null`;
      return rows.length ? rows : null;
    }, 10_000);
    expect(hubAlerts.length).toBe(1);
    expect(hubAlerts[0]).toMatchObject({ severity: "critical", scope: "hub", hub: hubName });
    expect(((hubAlerts[0]!.details as { modemIds: number[] }).modemIds).sort((a, b) => a - b)).toEqual([...hubIds].sort((a, b) => a - b));
    // Past offlineAfterMs (1.5 s here) 8 separate modems would each have an offline alert by now.
    await Bun.sleep(3000);
    expect(health.conditions().map((c) => c.code)).toContain("USB_HUB_DOWN");
    const modemAlerts = await sql`select count(*)::int as n from alerts where modem_id = any(${hubIds}::bigint[]) and resolved_at is null`;
    expect(modemAlerts[0]!.n).toBe(0);
    const batch = await until("the batch heal's hub reset attempt", async () => {
      const rows = await sql`select payload from modem_events where kind = 'heal.step' and modem_id is null and seq > ${seq0}`;
      return rows.length ? rows.map((r) => r.payload as { step: string; hub: string; result: string; detail: string }) : null;
    }, 10_000);
    // the lab removed the hub from sysfs: the reset finds no device, as a real hub without power
    expect(batch[0]).toMatchObject({ step: "hub-reset", hub: hubName, result: "failed" });
    expect(batch[0]!.detail).toContain("not in sysfs");
    await demo.lab.ctl("all", "hub-restore", "2");
    await until("all 8 modems online again", async () => {
      const rows = await sql`select count(*)::int as n from modems where id = any(${hubIds}::bigint[]) and state = 'online'`;
      return rows[0]!.n === 8;
    }, 60_000);
    for (const m of await sql`select id, proxy_port from modems where id = any(${hubIds}::bigint[])`) expect(m.proxy_port).toBe(ports.get(Number(m.id)));
    await until("the hub alert resolved", async () => (await sql`select count(*)::int as n from alerts where kind = 'hub.down' and resolved_at is null`)[0]!.n === 0, 15_000);
    // hub.up is written by the instance whose clear resolved the row, right after it.
    await until("the hub.up event", async () => (await sql`select count(*)::int as n from modem_events where kind = 'hub.up' and seq > ${seq0}`)[0]!.n > 0, 10_000);
    const healed = await sql`select count(*)::int as n from modem_events where kind = 'heal.started' and modem_id = any(${hubIds}::bigint[]) and seq > ${seq0}`;
    expect(healed[0]!.n).toBe(0);
    // The webhook: opened once and resolved once, in that order, each body naming the hub and the alert kind.
    await until("the hub alert opened and resolved at the webhook", () => hooked.some((h) => h.event === "alert.resolved" && h.alert.kind === "hub.down"), 30_000);
    await health.alerts.idle();
    const hubHooks = hooked.filter((h) => h.alert.kind === "hub.down");
    expect(hubHooks.map((h) => h.event)).toEqual(["alert.opened", "alert.resolved"]);
    for (const h of hubHooks) expect(h.alert).toMatchObject({ kind: "hub.down", scope: "hub", hub: hubName, dedupKey: `hub:${hubName}:down` });
    expect((hubHooks[1]!.alert as { resolvedAt?: string }).resolvedAt).toBeTruthy();
    expect(hooked.slice(hooked0).filter((h) => hubIds.includes(Number(h.alert.modemId)))).toEqual([]);
    // One hub.down and one hub.up event although two health instances watched the hub.
    const hubEvents = await sql`select kind from modem_events where kind in ('hub.down', 'hub.up') and seq > ${seq0} order by seq`;
    expect(hubEvents.map((e) => e.kind)).toEqual(["hub.down", "hub.up"]);
  }, 120_000);
});
