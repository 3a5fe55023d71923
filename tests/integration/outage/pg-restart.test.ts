/**
 * PostgreSQL restarts under a running control plane. The cluster is the test's own (stop + start on the same port is
 * what `pg_ctlcluster 15 main restart` does; the machine's shared PostgreSQL is never touched), the control plane runs
 * in a child process on the lab. While PostgreSQL is down: proxies keep serving, rotations wait instead of failing,
 * a health-like producer keeps emitting events into the OutageBuffer, the buffer reports unhealthy (the panel's
 * banner). After reconnect: every accepted event is in modem_events once, in order, the sequence has no gap, the
 * event stream delivered them all (LISTEN resumed from its last sequence), and the control plane never crashed.
 * The child runs the postgres.js of the tree: 3.4.9 with patches/postgres@3.4.9.patch (its nextWrite-after-close
 * bug threw from a timer); the crash guard (src/health/outage-guard.ts) must not have had anything to swallow.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../src/db/embedded.ts";
import { canBuildLab } from "../../../src/sim/net/index.ts";
import { withDatabase } from "../../helpers/db.ts";
import { spawnControlPlane, startOutageLab, untilAllOnline, type ControlPlaneProcess, type OutageLab } from "./lab-harness.ts";

const MODEMS = 6;
const lab = process.getuid?.() === 0 && Boolean(canBuildLab());
if (!lab) console.warn("SKIP tests/integration/outage/pg-restart: needs root with ip netns, dnsmasq and nft");

let dir: string;
let pg: EmbeddedPostgres;
let url: string;
let L: OutageLab;
let cp: ControlPlaneProcess;

async function curl(p: { username: string; password: string; host: string; port: number }) {
  const proc = Bun.spawn(["curl", "-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}", "-x", `http://${p.username}:${p.password}@${p.host}:${p.port}`, "http://echo.lab/ip"], { stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const i = out.lastIndexOf("\n");
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i).trim() };
}

describe.skipIf(!lab)("PostgreSQL restart under a running control plane (lab, own cluster)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pg-restart-"));
    chmodSync(dir, 0o711); // as root the cluster runs as postgres, which must reach its data dir
    pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg") });
    const admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe("create database lteproxy");
    await admin.end();
    url = withDatabase(pg.url, "lteproxy");
    L = await startOutageLab({ modems: MODEMS, dataDir: join(dir, "app"), databaseUrl: url });
    L.spec.rotation = { airplaneHoldMs: 2500, onlineTimeoutMs: 60_000 };
    cp = spawnControlPlane(L.spec, { specPath: join(dir, "spec.json") });
    await cp.ready;
  }, 180_000);

  afterAll(async () => {
    if (cp && cp.proc.exitCode === null) {
      await cp.call("stop", { stopDataPlane: true }, 30_000).catch(() => cp.proc.kill("SIGKILL"));
      await cp.proc.exited;
    }
    await L?.stop();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  test("no crash, proxies serve during the outage, rotations finish, every event once, in order, no gap", async () => {
    const proxies = await untilAllOnline(cp, MODEMS);
    const states = (await cp.call<{ states: Array<{ id: number; imei: string }> }>("states")).states;
    const idOf = (imei: string) => states.find((s) => s.imei === imei)!.id;

    await cp.call("produce", { on: true });
    const served: Array<{ at: number; ok: boolean; code: number }> = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        for (const p of [proxies[4]!, proxies[5]!]) {
          const r = await curl(p);
          served.push({ at: Date.now(), code: r.code, ok: r.code === 200 && r.body === p.public_ip });
        }
        await Bun.sleep(50);
      }
    })();
    // a technician's panel session, opened while PostgreSQL is up
    const { url: panel } = await cp.ready;
    const origin = new URL(panel).origin;
    const loginRes = await fetch(new URL("/login", panel), {
      method: "POST", redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin, "sec-fetch-site": "same-origin", "hx-request": "true" },
      body: new URLSearchParams({ username: "admin", password: "outage-test-pass" }).toString(),
    });
    const cookie = (loginRes.headers.get("set-cookie") ?? "").split(";")[0]!;
    expect(cookie).toMatch(/=/);
    const dashboard = async () => {
      const r = await fetch(panel, { headers: { cookie }, redirect: "manual" });
      return { status: r.status, html: await r.text() };
    };
    expect((await dashboard()).html).not.toContain("Database unreachable");
    const { jobs } = await cp.call<{ jobs: Array<{ jobId: string }> }>("rotate", { ids: [idOf(proxies[0]!.imei), idOf(proxies[1]!.imei)] });
    await Bun.sleep(500);

    // restart: stop, stay down 2.5 s, start on the same port
    const downAt = Date.now();
    await pg.stop();
    await Bun.sleep(1000);
    const during = await cp.call<{ healthy: boolean }>("stats");
    const pageDuring = await dashboard();
    await Bun.sleep(1500);
    pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port: pg.port });
    const upAt = Date.now();
    await Bun.sleep(1500);
    const { n } = await cp.call<{ n: number }>("produce", { on: false });

    const drain = await cp.call<{ drained: boolean; stats: Record<string, number> }>("drain", { timeoutMs: 60_000 });
    const { summaries } = await cp.call<{ summaries: Array<{ result: string; error: string | null; attempts: Array<{ method: string; error: string | null }> }> }>("wait", { jobIds: jobs.map((j) => j.jobId) });
    loading = false;
    await load;
    const { delivered } = await cp.call<{ delivered: number[] }>("delivered", { n, timeoutMs: 30_000 });
    const after = await cp.call<{ swallowed: number }>("stats");

    expect(cp.problems).toEqual([]);
    expect(cp.proc.exitCode).toBeNull();
    expect(during.healthy).toBe(false);
    // the panel still answers, read-only, with the banner
    expect(pageDuring.status).toBe(200);
    expect(pageDuring.html).toContain("Database unreachable: the panel is read-only");
    expect(drain.drained).toBe(true);
    expect(drain.stats).toMatchObject({ dropped: 0, refused: 0, queued: 0, down: false });
    expect(drain.stats.outages).toBeGreaterThanOrEqual(1);
    expect(drain.stats.buffered).toBeGreaterThan(0);

    const sql = postgres(url, { max: 2, onnotice: () => undefined });
    try {
      // every accepted event once, in acceptance order; the ones that waited carry when they happened
      const ticks = await sql`select (payload->>'n')::int as n, payload ? 'bufferedAt' as buffered from modem_events where kind = 'test.tick' order by seq`;
      expect(ticks.map((t) => t.n)).toEqual(Array.from({ length: n }, (_, i) => i));
      // (a batch cut off mid-commit that had in fact committed is not rewritten, so it carries no stamp)
      const stamped = ticks.filter((t) => t.buffered).length;
      expect(stamped).toBeGreaterThan(0);
      expect(stamped).toBeLessThanOrEqual(drain.stats.buffered);
      // the sequence is gapless over the whole log
      const [span] = await sql`select count(*)::int as count, min(seq)::int as min, max(seq)::int as max from modem_events`;
      expect(span!.count).toBe(span!.max - span!.min + 1);
      expect(span!.min).toBe(1);
      // LISTEN resumed from the last processed sequence: the stream delivered every tick once, in order
      expect(delivered).toEqual(Array.from({ length: n }, (_, i) => i));

      // the rotations waited for PostgreSQL and finished; their events are there once each
      expect(summaries.map((s) => s.result)).toEqual(["OK", "OK"]);
      const rotEvents = await sql`
        select payload->>'jobId' as job, array_agg(kind order by seq) as kinds from modem_events
        where kind like 'rotation.%' and payload->>'jobId' = any(${jobs.map((j) => j.jobId)}) group by 1`;
      expect(rotEvents.length).toBe(2);
      // an attempt whose bring-up ran into the outage is retried (the router does not finish a bring-up whose writes
      // failed); the events say so, once each
      for (const r of rotEvents) {
        const s = summaries[jobs.findIndex((j) => j.jobId === r.job)]!;
        expect(r.kinds).toEqual(["rotation.started", ...s.attempts.flatMap((a) => (a.method === "reboot" ? ["rotation.rebooting", "rotation.attempt"] : ["rotation.attempt"])), "rotation.done"]);
        if (s.attempts.length > 1) console.warn("pg-restart: rotation retried:", JSON.stringify(s.attempts.map((a) => [a.method, a.error])));
      }
      const rows = await sql`select status, result from rotations where job_id = any(${jobs.map((j) => j.jobId)}::uuid[])`;
      expect(rows.map((r) => `${r.status}/${r.result}`)).toEqual(["done/OK", "done/OK"]);
    } finally {
      await sql.end({ timeout: 2 });
    }

    // proxies kept serving through the outage
    expect(served.filter((s) => s.at >= downAt && s.at <= upAt).length).toBeGreaterThan(0);
    expect(served.filter((s) => !s.ok)).toEqual([]);
    // the modems are all online again
    const final = await untilAllOnline(cp, MODEMS, 30_000);
    expect(final.length).toBe(MODEMS);
    // the patched driver settles those writes itself: nothing reached the process-level guard
    expect(after.swallowed).toBe(0);
  }, 180_000);
});
