/**
 * IP rotation on the lab (root: namespaces, carrier NAT with one public IP per session, real curl through the ports):
 * 30 modems at once get 30 new distinct IPs unlike their last ones; the sticky-IP fault makes the job retry with a
 * stronger method or end COLLISION; a second request joins the running job; the port refuses with "rotating"
 * meanwhile; the secure link works without a login and 404s once revoked; the CLI goes through the running control
 * plane; the schedule fires when due; a restart closes what a dead process left behind; shutdown cancels cleanly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo, type RunningDemo } from "../../../src/demo.ts";
import { listProxies, type ProxyListing } from "../../../src/cli/proxies.ts";
import { canBuildLab } from "../../../src/sim/net/index.ts";
import { startRotation, type RunningRotation } from "../../../src/health/rotation-start.ts";
import { RotationService } from "../../../src/health/rotation.ts";
import { RotationScheduler } from "../../../src/health/rotation-schedule.ts";
import { routeRotations } from "../../../src/health/rotation-actions.ts";
import { rotateCommand } from "../../../src/cli/rotate.ts";
import { createModemActions } from "../../../src/jobs/modem-actions.ts";
import { createHttpApp, stopHttpApp } from "../../../src/http/server.ts";
import { insertRotation, markRotationRunning, regenerateRotationToken, revokeRotationToken } from "../../../src/db/queries/rotations.ts";
import type { ModemManager } from "../../../src/modem/manager.ts";
import type { RotationModems } from "../../../src/health/rotation-steps.ts";
import { run } from "../../../src/lib/exec.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";

const MODEMS = 30;
const lab = process.getuid?.() === 0 && Boolean(canBuildLab());
if (!lab) console.warn("SKIP tests/integration/rotation: needs root with ip netns, dnsmasq and nft");

let demo: RunningDemo;
let db: TestDb;
let dataDir: string;
let rotation: RunningRotation;
let ownRotation = true;
let proxies: ProxyListing[] = [];
const ids = new Map<string, number>(); // imei → modem id
/** Every public IP the test saw per modem, newest first (independent of the service's own bookkeeping). */
const seen = new Map<number, string[]>();

// compile-time: the real manager is what the rotation service drives
const _typecheck = (m: ModemManager): RotationModems => m;
void _typecheck;

async function curl(args: string[], timeoutS = 5) {
  const p = Bun.spawn(["curl", "-sS", "-m", String(timeoutS), "-o", "-", "-w", "\n%{http_code}", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  const i = out.lastIndexOf("\n");
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i).trim() };
}
const via = (p: ProxyListing) => curl(["-x", `http://${p.username}:${p.password}@${p.host}:${p.port}`, "http://echo.lab/ip"]);

/** The app's public-IP probe, as src/app.ts builds it: curl bound to the modem's address inside the box. */
async function probe(address: string) {
  const r = await run(["ip", "netns", "exec", demo.net!.info().boxNs!, "curl", "-sS", "-m", "5", "--interface", address, demo.config.health.check_url], { check: false, timeoutMs: 8000 });
  const ip = r.stdout.trim();
  return r.code === 0 && /^[0-9.]+$/.test(ip) ? { ip, rttMs: 0 } : null;
}

const sql = () => demo.app.db.sql;
const nodeId = () => demo.config.node.id;
const rotationRows = (jobIds: string[]) => sql()`
  select job_id::text as job_id, modem_id, status, result, method, trigger, requested_by, host(old_ip) as old_ip,
         host(new_ip) as new_ip, attempts, duration_ms, error
  from rotations where job_id = any(${jobIds}::uuid[])`;

async function publicIps(): Promise<Map<number, string | null>> {
  const rows = await sql()`select id, host(public_ip) as ip from modems where node_id = ${nodeId()}`;
  return new Map(rows.map((r) => [r.id as number, r.ip as string | null]));
}

function remember(modemId: number, ip: string | null) {
  if (!ip) return;
  const list = seen.get(modemId) ?? [];
  if (list[0] !== ip) list.unshift(ip);
  seen.set(modemId, list);
}

async function untilOnline(modemIds: number[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (modemIds.every((id) => demo.app.manager.get(id)?.state === "online")) return;
    await Bun.sleep(100);
  }
  throw new Error(`not online: ${modemIds.filter((id) => demo.app.manager.get(id)?.state !== "online").map((id) => `${id}=${demo.app.manager.get(id)?.state}`)}`);
}

describe.skipIf(!lab)("IP rotation (lab)", () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "rotation-"));
    db = await createTestDb({ prefix: "rot" });
    demo = await startDemo({ modems: MODEMS, net: "lab", httpPort: 35000 + Math.floor(Math.random() * 5000), dataDir, timeScale: 0.05, databaseUrl: db.url });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      proxies = await listProxies(sql(), nodeId(), demo.config.proxy.public_host);
      if (proxies.length === MODEMS && proxies.every((p) => p.state === "online" && p.public_ip)) break;
      await Bun.sleep(250);
    }
    for (const r of await sql()`select id, imei from modems`) ids.set(r.imei as string, r.id as number);
    for (const [id, ip] of await publicIps()) remember(id, ip);
    // Once src/app.ts wires rotation in (RunningApp.rotation), use that one: a second service would answer the
    // CLI's requests too and rotate the same modems twice.
    ownRotation = !(demo.app as { rotation?: RunningRotation }).rotation;
    rotation = (demo.app as { rotation?: RunningRotation }).rotation ?? await startRotation({
      sql: sql(), nodeId: nodeId(), modems: demo.app.manager, subscribe: (fn) => demo.app.events.subscribe(fn),
      airplaneHoldMs: 300, onlineTimeoutMs: 60_000, scheduleTimer: false, probePublicIp: probe,
      syncDataPlane: () => demo.app.router.sync(),
    });
  }, 150_000);

  afterAll(async () => {
    if (ownRotation) await rotation?.stop({ drainMs: 5000 });
    await demo?.stop();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test(`all ${MODEMS} modems are online with a public IP`, () => {
    expect(proxies.filter((p) => p.state === "online" && p.public_ip).length).toBe(MODEMS);
  });

  test(`rotating ${MODEMS} modems at once gives ${MODEMS} new distinct IPs, none among each modem's last 5`, async () => {
    // History: each modem's current IP plus 4 earlier ones, which are the next IPs the lab's carrier will hand out
    // (one per session, in order): a modem that gets one of "its" IPs back must retry.
    const before = await publicIps();
    const toInt = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    const toIp = (n: number) => [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join(".");
    let n = Math.max(...[...before.values()].map((ip) => toInt(ip!)));
    const upcoming: string[] = [];
    while (upcoming.length < MODEMS) {
      n++;
      if (n % 256 !== 0 && n % 256 !== 255) upcoming.push(toIp(n));
    }
    const all = [...ids.values()].sort((a, b) => a - b);
    for (const [k, id] of all.entries()) {
      const past = [0, 1, 2, 3].map((j) => upcoming[(k * 4 + j) % MODEMS]!);
      for (const [oldIp, newIp] of [[past[3], past[2]], [past[1], past[0]]]) {
        await sql()`insert into rotations (job_id, node_id, modem_id, method, trigger, status, result, old_ip, new_ip, attempts, finished_at)
                    values (${crypto.randomUUID()}, ${nodeId()}, ${id}, 'airplane', 'api', 'done', 'OK', ${oldIp!}, ${newIp!}, 1, now())`;
      }
      seen.set(id, [before.get(id)!, ...past]);
    }
    const jobs = await Promise.all(all.map((id) => rotation.service.request(id, { trigger: "api", requestedBy: "test" })));
    expect(jobs.every((j) => !j.joined)).toBe(true);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(MODEMS);
    const summaries = await Promise.all(jobs.map((j) => rotation.service.wait(j.jobId)!));
    expect(summaries.map((s) => `${s.modemId}:${s.result}:${s.error ?? ""}`).filter((s) => !s.includes(":OK:"))).toEqual([]);
    const newIps = summaries.map((s) => s.newIp!);
    expect(new Set(newIps).size).toBe(MODEMS);
    for (const s of summaries) {
      expect(s.oldIp).toBe(before.get(s.modemId)!);
      expect(seen.get(s.modemId)!.slice(0, 5)).not.toContain(s.newIp!);
      // a retry happened exactly when the carrier handed back one of the modem's last IPs
      for (const a of s.attempts.slice(0, -1)) {
        if (a.ip) expect(seen.get(s.modemId)!).toContain(a.ip);
        else expect(a.error).not.toBeNull();
      }
    }
    const retried = summaries.filter((s) => s.attempts.length > 1).length;
    if (retried === 0) console.warn("rotation test: no modem got one of its recent IPs back this time (the lab allocation order changed?)");
    // the log: one row per job, done, with old/new IP, method, attempts, duration, trigger and who
    const rows = await rotationRows(jobs.map((j) => j.jobId));
    expect(rows.length).toBe(MODEMS);
    for (const r of rows) {
      const s = summaries.find((x) => x.jobId === r.job_id)!;
      expect(r).toMatchObject({ status: "done", result: "OK", method: s.method, trigger: "api", requested_by: "test", old_ip: s.oldIp, new_ip: s.newIp, attempts: s.attempts.length });
      expect(r.duration_ms).toBeGreaterThan(0);
    }
    // the ports kept their numbers and now leave through the new IPs
    const after = await listProxies(sql(), nodeId(), demo.config.proxy.public_host);
    expect(after.map((p) => `${p.imei}:${p.port}`).sort()).toEqual(proxies.map((p) => `${p.imei}:${p.port}`).sort());
    const through = await Promise.all(after.map(async (p) => ({ id: ids.get(p.imei)!, r: await via(p) })));
    for (const { id, r } of through) expect(r).toEqual({ code: 200, body: summaries.find((s) => s.modemId === id)!.newIp! });
    for (const s of summaries) remember(s.modemId, s.newIp);
    // events: started, one per attempt, done
    const kinds = await sql()`
      select payload->>'jobId' as job, array_agg(kind order by seq) as kinds from modem_events
      where kind like 'rotation.%' and payload->>'jobId' = any(${jobs.map((j) => j.jobId)}) group by 1`;
    expect(kinds.length).toBe(MODEMS);
    for (const k of kinds) {
      const s = summaries.find((x) => x.jobId === k.job)!;
      expect(k.kinds).toEqual(["rotation.started", ...s.attempts.flatMap((a) => (a.method === "reboot" ? ["rotation.rebooting", "rotation.attempt"] : ["rotation.attempt"])), "rotation.done"]);
    }
  }, 120_000);

  test("a second request while a rotation runs joins it: same job id, one row, one radio cycle", async () => {
    const [a, b] = [[...ids.values()][3]!, [...ids.values()][4]!];
    const first = await rotation.service.request(a, { trigger: "manual", requestedBy: "one" });
    const again = await rotation.service.request(a, { trigger: "api", requestedBy: "two" });
    const [x, y] = await Promise.all([
      rotation.service.request(b, { trigger: "api", requestedBy: "x" }),
      rotation.service.request(b, { trigger: "api", requestedBy: "y" }),
    ]);
    expect(again).toEqual({ jobId: first.jobId, joined: true });
    expect(x.jobId).toBe(y.jobId);
    expect([x.joined, y.joined].sort()).toEqual([false, true]);
    // through the panel/API actions as well
    const actions = routeRotations(createModemActions({ sql: sql(), nodeId: nodeId(), manager: demo.app.manager }), rotation.service);
    const viaApi = await actions.request(a, "rotate", { userId: null, username: "api", role: "technician", via: "api_key", ip: null }, { trigger: "api" });
    expect(viaApi.jobId).toBe(first.jobId);
    const done = await Promise.all([rotation.service.wait(first.jobId)!, rotation.service.wait(x.jobId)!]);
    expect(done.map((d) => d.result)).toEqual(["OK", "OK"]);
    const rows = await sql()`select modem_id, requested_by from rotations where job_id = any(${[first.jobId, x.jobId]}::uuid[])`;
    expect(rows.length).toBe(2);
    const started = await sql()`select count(*)::int as n from modem_events where kind = 'rotation.started' and payload->>'jobId' = ${first.jobId}`;
    expect(started[0]!.n).toBe(1);
    const status = await actions.job!(first.jobId) as { status: string; result: string; action: string };
    expect(status).toMatchObject({ status: "done", result: "OK", action: "rotate" });
    for (const d of done) remember(d.modemId, d.newIp);
  }, 60_000);

  test("while rotating the port refuses with a clear 'rotating' reason, and serves the new IP after", async () => {
    const slow = new RotationService({ sql: sql(), nodeId: nodeId(), modems: demo.app.manager, airplaneHoldMs: 2500, onlineTimeoutMs: 60_000, probePublicIp: probe, syncDataPlane: () => demo.app.router.sync() });
    const p = proxies[6]!;
    const id = ids.get(p.imei)!;
    const { jobId } = await slow.request(id, { trigger: "manual", requestedBy: "test" });
    let refused = { code: 0, body: "" };
    for (let i = 0; i < 40; i++) {
      refused = await via(p);
      if (refused.code === 503) break;
      await Bun.sleep(50);
    }
    expect(refused.code).toBe(503);
    expect(refused.body).toContain("rotating");
    const s = await slow.wait(jobId)!;
    expect(s.result).toBe("OK");
    const served = await via(p);
    expect(served).toEqual({ code: 200, body: s.newIp! });
    remember(id, s.newIp);
  }, 60_000);

  test("sticky IPs (80 %): each job retries with a stronger method until unique, or ends COLLISION after 3 attempts", async () => {
    const victims = proxies.slice(10, 18);
    const always = proxies[18]!; // sticky 100 %: the whole ladder, then COLLISION
    for (const p of victims) await demo.lab.ctl(p.slot!, "sticky", "0.8");
    await demo.lab.ctl(always.slot!, "sticky", "1");
    try {
      const jobs = await Promise.all([
        ...victims.map((p) => rotation.service.request(ids.get(p.imei)!, { trigger: "api", requestedBy: "sticky" })),
        rotation.service.request(ids.get(always.imei)!, { method: "data", trigger: "api", requestedBy: "sticky" }),
      ]);
      const out = await Promise.all(jobs.map((j) => rotation.service.wait(j.jobId)!));
      const stuck = out.pop()!;
      expect({ result: stuck.result, attempts: stuck.attempts.map((a) => [a.method, a.verdict, a.error]) }).toEqual({
        result: "COLLISION", attempts: [["data", "same", null], ["airplane", "same", null], ["reboot", "same", null]],
      });
      expect(stuck.newIp).toBe(stuck.oldIp);
      for (const s of out) {
        expect({ id: s.modemId, result: s.result, error: s.error }).toMatchObject({ result: expect.stringMatching(/^(OK|COLLISION)$/) });
        const history = (seen.get(s.modemId) ?? []).slice(0, 5);
        if (s.result === "OK") expect(history).not.toContain(s.newIp!);
        else expect(s.attempts.length).toBe(3);
        // every retry escalated: airplane first, then reboot
        expect(s.attempts.map((a) => a.method as string)).toEqual(["airplane", "reboot", "reboot"].slice(0, s.attempts.length));
        for (const a of s.attempts.slice(0, -1)) expect(a.verdict === "same" || a.error !== null).toBe(true);
      }
      // with p(sticky) = 0.8 per session, eight first attempts all unique would be a 1 in 390 000 event
      expect(out.some((s) => s.attempts.length > 1)).toBe(true);
      const rows = await rotationRows(jobs.map((j) => j.jobId));
      const collided = rows.filter((r) => r.result === "COLLISION");
      expect(collided.length).toBeGreaterThanOrEqual(1);
      for (const r of collided) {
        expect(r.attempts).toBe(3);
        expect(r.error).toContain("same IP");
      }
      for (const s of [...out, stuck]) remember(s.modemId, s.newIp);
      await untilOnline([...out, stuck].map((s) => s.modemId));
    } finally {
      await demo.lab.ctl("all", "sticky", "0");
    }
  }, 120_000);

  test("the secure link rotates without a login; a revoked or unknown link is 404", async () => {
    const actions = routeRotations(createModemActions({ sql: sql(), nodeId: nodeId(), manager: demo.app.manager }), rotation.service);
    const app = createHttpApp({
      sql: sql(), config: demo.config, nodeId: nodeId(), events: demo.app.events, db: { healthy: () => true }, actions,
      clientIp: () => "127.0.0.1",
    });
    try {
      const p = proxies[20]!;
      const id = ids.get(p.imei)!;
      const token = (await regenerateRotationToken(sql(), id))!;
      const res = await app.handle(new Request(`http://localhost/api/v1/rotate/${token}`));
      expect(res.status).toBe(202);
      const body = await res.json() as { jobId: string; modemId: number };
      expect(body.modemId).toBe(id);
      const s = await rotation.service.wait(body.jobId)!;
      expect(s.result).toBe("OK");
      const [row] = await rotationRows([body.jobId]);
      expect(row).toMatchObject({ trigger: "link", requested_by: "rotation-link", result: "OK" });
      remember(id, s.newIp);
      await revokeRotationToken(sql(), id);
      expect((await app.handle(new Request(`http://localhost/api/v1/rotate/${token}`))).status).toBe(404);
      expect((await app.handle(new Request(`http://localhost/api/v1/rotate/${"x".repeat(32)}`, { method: "POST" }))).status).toBe(404);
      const after = await sql()`select count(*)::int as n from rotations where trigger = 'link'`;
      expect(after[0]!.n).toBe(1);
    } finally {
      await stopHttpApp(app);
    }
  }, 60_000);

  test("lteproxy rotate goes through the running control plane; --wait prints old IP, new IP, result, duration", async () => {
    const p = proxies[21]!;
    const q = proxies[22]!;
    const lines: string[] = [];
    const code = await rotateCommand([p.slot!, "--wait", "--json", "--method", "data"], { sql: sql(), nodeId: nodeId(), print: (t) => lines.push(t), actor: "cli:test" });
    const out = JSON.parse(lines.join("\n")) as Array<Record<string, unknown>>;
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ imei: p.imei, status: "done", result: "OK", method: "data", attempts: 1, old_ip: p.public_ip === null ? null : expect.any(String) });
    expect(out[0]!.new_ip).not.toBe(out[0]!.old_ip);
    expect(code).toBe(0);
    remember(ids.get(p.imei)!, out[0]!.new_ip as string);
    const table: string[] = [];
    expect(await rotateCommand([q.imei, "--wait"], { sql: sql(), nodeId: nodeId(), print: (t) => table.push(t) })).toBe(0);
    const text = table.join("\n");
    expect(text).toContain("OLD IP");
    const newIp = (await publicIps()).get(ids.get(q.imei)!)!;
    expect(text).toContain(newIp);
    expect(text).toMatch(/OK\s+1\s+\d+\.\d s/);
    remember(ids.get(q.imei)!, newIp);
    await expect(rotateCommand(["no-such-modem"], { sql: sql(), nodeId: nodeId() })).rejects.toMatchObject({ code: "MODEM_NOT_FOUND" });
    await expect(rotateCommand([p.slot!, "--method", "teleport"], { sql: sql(), nodeId: nodeId() })).rejects.toMatchObject({ code: "CLI_USAGE" });
    await expect(rotateCommand(["all", p.slot!], { sql: sql(), nodeId: nodeId() })).rejects.toMatchObject({ code: "CLI_USAGE" });
    await expect(rotateCommand([], { sql: sql(), nodeId: nodeId() })).rejects.toMatchObject({ code: "CLI_USAGE" });
    const help: string[] = [];
    expect(await rotateCommand(["--help"], { sql: undefined as never, nodeId: nodeId(), print: (t) => help.push(t) })).toBe(0);
    expect(help.join("")).toContain("--wait");
    const rows = await sql()`select requested_by, trigger from rotations where requested_by = 'cli:test'`;
    expect([...rows]).toEqual([{ requested_by: "cli:test", trigger: "manual" }]);
  }, 60_000);

  test("the schedule requests a rotation when due (interval or cron), not before, never twice at once", async () => {
    const [due, notYet, broken] = [proxies[23]!, proxies[24]!, proxies[25]!].map((p) => ids.get(p.imei)!);
    // last rotation "now": not due for 60 s, so no other scheduler fires meanwhile; ticks below look ahead instead
    await sql()`update modems set rotation_schedule = '60s', last_rotation_at = now() where id = ${due!}`;
    // hourly, half an hour from now: not due within the next minutes
    await sql()`update modems set rotation_schedule = ${`${(new Date().getMinutes() + 30) % 60} * * * *`}, last_rotation_at = now() where id = ${notYet!}`;
    await sql()`update modems set rotation_schedule = 'every full moon' where id = ${broken!}`;
    const scheduler = new RotationScheduler({ sql: sql(), nodeId: nodeId(), rotation: rotation.service });
    try {
      expect(await scheduler.tick(Date.now())).toEqual([]);
      expect(await scheduler.tick(Date.now() + 61_000)).toEqual([due!]);
      expect(await scheduler.tick(Date.now() + 61_000)).toEqual([]); // busy: not requested twice
      const [row] = await sql()`select job_id::text as job_id, trigger, requested_by from rotations where modem_id = ${due!} order by id desc limit 1`;
      expect(row).toMatchObject({ trigger: "schedule", requested_by: "schedule 60s" });
      const s = await rotation.service.wait(row!.job_id as string)!;
      expect(s.result).toBe("OK");
      remember(due!, s.newIp);
      expect(await scheduler.tick(Date.now() + 30_000)).toEqual([]); // counts from the rotation that just ended
      expect(await scheduler.tick(Date.now() + 61_000)).toEqual([due!]);
      const next = await sql()`select job_id::text as job_id from rotations where modem_id = ${due!} order by id desc limit 1`;
      remember(due!, (await rotation.service.wait(next[0]!.job_id as string)!).newIp);
    } finally {
      await sql()`update modems set rotation_schedule = null where id in ${sql()([due!, notYet!, broken!])}`;
    }
  }, 60_000);

  test("a graceful stop lets a running rotation finish (drain), then refuses new ones", async () => {
    const svc = new RotationService({ sql: sql(), nodeId: nodeId(), modems: demo.app.manager, airplaneHoldMs: 800, onlineTimeoutMs: 60_000, probePublicIp: probe });
    const id = ids.get(proxies[29]!.imei)!;
    const { jobId } = await svc.request(id, { trigger: "manual", requestedBy: "test" });
    while (demo.app.manager.get(id)?.state !== "rotating") await Bun.sleep(20);
    await svc.stop({ drainMs: 60_000 });
    const [row] = await rotationRows([jobId]);
    expect(row).toMatchObject({ status: "done", result: "OK" });
    expect(demo.app.manager.get(id)?.state).toBe("online");
    await expect(svc.request(id, { trigger: "manual", requestedBy: "late" })).rejects.toMatchObject({ code: "NOT_AVAILABLE" });
    remember(id, row!.new_ip as string);
  }, 60_000);

  test("shutdown cancels a running rotation cleanly: radio back on, row CANCELLED, modem online again", async () => {
    const slow = new RotationService({ sql: sql(), nodeId: nodeId(), modems: demo.app.manager, airplaneHoldMs: 20_000, onlineTimeoutMs: 30_000 });
    const id = ids.get(proxies[26]!.imei)!;
    const { jobId } = await slow.request(id, { trigger: "manual", requestedBy: "test" });
    while (demo.app.manager.get(id)?.state !== "rotating") await Bun.sleep(20);
    await Bun.sleep(200);
    const t = performance.now();
    await slow.stop({ drainMs: 300 });
    expect(performance.now() - t).toBeLessThan(10_000);
    await expect(slow.request(id, { trigger: "manual", requestedBy: "late" })).rejects.toMatchObject({ code: "NOT_AVAILABLE" });
    const [row] = await rotationRows([jobId]);
    expect(row).toMatchObject({ status: "done", result: "CANCELLED" });
    await untilOnline([id]);
    expect(demo.lab.list().find((m) => m.imei === proxies[26]!.imei)?.cfun).toBe(1);
  }, 60_000);

  test("after a crash: a fresh start closes the dead process's jobs and releases a modem it left rotating", async () => {
    const id = ids.get(proxies[27]!.imei)!;
    const jobId = crypto.randomUUID();
    await insertRotation(sql(), { jobId, nodeId: nodeId(), modemId: id, trigger: "api", requestedBy: "dead process" });
    await markRotationRunning(sql(), jobId);
    await demo.app.manager.setState(id, "rotating", "left behind by a crashed process");
    const fresh = new RotationService({ sql: sql(), nodeId: nodeId(), modems: demo.app.manager });
    await fresh.start();
    const [row] = await rotationRows([jobId]);
    expect(row).toMatchObject({ status: "done", result: "CANCELLED" });
    expect(demo.app.manager.get(id)?.state).not.toBe("rotating");
    await untilOnline([id]);
    const done = await sql()`select payload from modem_events where kind = 'rotation.done' and payload->>'jobId' = ${jobId}`;
    expect(done.length).toBe(1);
  }, 60_000);

  test("a modem that is not online cannot rotate; unknown modems and methods are refused", async () => {
    const id = ids.get(proxies[28]!.imei)!;
    await expect(rotation.service.request(999_999, { trigger: "api", requestedBy: null })).rejects.toMatchObject({ code: "MODEM_NOT_FOUND" });
    await expect(rotation.service.request(id, { method: "teleport" as never, trigger: "api", requestedBy: null })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await demo.app.manager.setState(id, "disabled", "test");
    try {
      await expect(rotation.service.request(id, { trigger: "api", requestedBy: null })).rejects.toMatchObject({ code: "MODEM_OFFLINE" });
    } finally {
      await demo.app.manager.setState(id, "searching", "test over");
    }
    await untilOnline([id]);
  }, 60_000);
});
