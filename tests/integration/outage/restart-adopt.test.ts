/**
 * The control plane restarts under load while the data plane keeps serving (issue 5 acceptance, issue 6 item 8):
 * a 60 s load across every port; meanwhile the control plane is stopped with SIGTERM and started again, then killed
 * with SIGKILL and started again. Zero failed requests; every restart adopts the running data plane (same engine
 * pid, never restarted) and the modems as they are (still online, same port, no session torn down).
 * The control plane runs in a child process (fixtures/control-plane.ts) so that it can be killed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canBuildLab } from "../../../src/sim/net/index.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { spawnControlPlane, startOutageLab, untilAllOnline, type ControlPlaneProcess, type OutageLab } from "./lab-harness.ts";
import { pidAlive } from "../../../src/lib/pid-alive.ts";

const MODEMS = 10;
const LOAD_S = Number(process.env.LTEPROXY_TEST_LOAD_S ?? 60);
const lab = process.getuid?.() === 0 && Boolean(canBuildLab());
if (!lab) console.warn("SKIP tests/integration/outage/restart-adopt: needs root with ip netns, dnsmasq and nft");

let dir: string;
let db: TestDb;
let L: OutageLab;
const planes: ControlPlaneProcess[] = [];
let specN = 0;

const spawn = () => {
  const cp = spawnControlPlane(L.spec, { specPath: join(dir, `spec-${++specN}.json`) });
  planes.push(cp);
  return cp;
};
const enginePid = () => Number(readFileSync(join(L.runtimeDir, "proxy.pid"), "utf8").trim());
/** Field 22 of /proc/<pid>/stat: when the process started (clock ticks since boot). */
const startTime = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[19];

describe.skipIf(!lab)("control-plane restarts under load (lab)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "restart-adopt-"));
    db = await createTestDb({ prefix: "adopt" });
    // no signal drift: a modem re-registering on its own would refuse requests for reasons this test is not about
    L = await startOutageLab({ modems: MODEMS, dataDir: join(dir, "app"), databaseUrl: db.url, timings: { driftMs: 3_600_000 } });
  }, 120_000);

  afterAll(async () => {
    const last = planes[planes.length - 1];
    if (last && last.proc.exitCode === null) await last.call("stop", { stopDataPlane: true }, 30_000).catch(() => undefined);
    for (const cp of planes) if (cp.proc.exitCode === null) cp.proc.kill("SIGKILL");
    try {
      const pid = enginePid();
      if (pidAlive(pid)) process.kill(pid, "SIGKILL");
    } catch {
      // no engine left
    }
    await L?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  test(`SIGTERM and SIGKILL of the control plane during a ${LOAD_S} s load: 0 failed requests, the data plane and the modems are adopted`, async () => {
    const first = spawn();
    await first.ready;
    const proxies = await untilAllOnline(first, MODEMS);
    const ports = new Map(proxies.map((p) => [p.imei, p.port]));
    const pid0 = enginePid();
    const start0 = startTime(pid0);
    const [{ seq: seqBefore }] = await db.sql`select max(seq)::int as seq from modem_events` as unknown as [{ seq: number }];

    // the load: one request loop per port, each answer must be that modem's public IP
    const stats = { ok: 0, failed: 0, failures: [] as string[], times: [] as number[] };
    let running = true;
    const workers = proxies.map(async (p) => {
      while (running) {
        try {
          const res = await fetch("http://echo.lab/ip", { proxy: `http://${p.username}:${p.password}@${p.host}:${p.port}`, signal: AbortSignal.timeout(10_000) });
          const body = (await res.text()).trim();
          if (res.status === 200 && body === p.public_ip) {
            stats.ok++;
            stats.times.push(Date.now());
          } else {
            stats.failed++;
            if (stats.failures.length < 10) stats.failures.push(`${p.port}: ${res.status} ${body.slice(0, 120)}`);
          }
        } catch (error) {
          stats.failed++;
          if (stats.failures.length < 10) stats.failures.push(`${p.port}: ${(error as Error).message}`);
        }
        await Bun.sleep(25);
      }
    });
    const t0 = Date.now();
    const servedBetween = (a: number, b: number) => stats.times.filter((t) => t >= a && t <= b).length;

    // 1. graceful: SIGTERM, a few seconds without a control plane, a new one
    await Bun.sleep(6000);
    const termAt = Date.now();
    first.proc.kill("SIGTERM");
    expect(await first.proc.exited).toBe(0);
    await Bun.sleep(3000);
    const second = spawn();
    expect((await second.ready).enginePid).toBe(pid0);
    const secondUp = Date.now();
    const afterGraceful = await untilAllOnline(second, MODEMS, 30_000);

    // 2. crash: SIGKILL mid-load, a few seconds without a control plane, a new one
    await Bun.sleep(6000);
    const killAt = Date.now();
    second.proc.kill("SIGKILL");
    await second.proc.exited;
    await Bun.sleep(4000);
    const third = spawn();
    expect((await third.ready).enginePid).toBe(pid0);
    const thirdUp = Date.now();
    const afterKill = await untilAllOnline(third, MODEMS, 30_000);

    await Bun.sleep(Math.max(0, t0 + LOAD_S * 1000 - Date.now()));
    running = false;
    await Promise.all(workers);

    expect(stats.failures).toEqual([]);
    expect(stats.failed).toBe(0);
    expect(stats.ok).toBeGreaterThan(LOAD_S * MODEMS);
    // requests were served while no control plane ran at all
    expect(servedBetween(termAt, secondUp)).toBeGreaterThan(0);
    expect(servedBetween(killAt, thirdUp)).toBeGreaterThan(0);
    // the same engine served throughout: never restarted
    expect(enginePid()).toBe(pid0);
    expect(pidAlive(pid0)).toBe(true);
    expect(startTime(pid0)).toBe(start0); // same pid and same start time: the very same process
    // the modems were adopted as they were: online, same port, same public IP, no session torn down
    for (const list of [afterGraceful, afterKill]) {
      expect(list.map((p) => `${p.imei}:${p.port}:${p.public_ip}`).sort()).toEqual(proxies.map((p) => `${p.imei}:${ports.get(p.imei)}:${p.public_ip}`).sort());
    }
    const churn = await db.sql`
      select kind, payload->>'from' as "from", payload->>'to' as "to" from modem_events
      where seq > ${seqBefore} and (kind in ('data.down', 'data.starting') or (kind = 'modem.state' and payload->>'from' = 'online'))`;
    expect([...churn]).toEqual([]);
    expect(planes.flatMap((p) => p.problems)).toEqual([]);
  }, LOAD_S * 1000 + 90_000);
});
