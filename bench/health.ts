/**
 * Health sweep bench (issue 6: "a 100-modem sweep must finish well inside one interval; target < 1 s on the lab
 * with default sim timings"). For 30 and 100 modems: the whole appliance on the lab (startDemo, root, real
 * namespaces, DHCP, echo server, curl) at time scale 1, every modem online, then sweeps with health's defaults
 * (concurrency 32, one chained AT line per modem, ONE batched curl for the data path). Reported: sweep duration
 * (median, max), health events per sweep, and, as the baseline measured in the same run, the same sweep with one
 * curl process per modem (what a plain per-address probe costs).
 *
 *   bun bench/health.ts [--sweeps 5]          (each size in its own process; needs root)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../src/lib/logger.ts";

setLogLevel("silent");

interface Row {
  modems: number;
  setupS: number;
  medianMs: number;
  maxMs: number;
  healthEventsPerSweep: number;
  allEventsPerSweep: number;
  okPerSweep: number;
  perModemCurlMedianMs: number;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function one(modems: number, sweeps: number): Promise<Row> {
  const { startDemo } = await import("../src/demo.ts");
  const { startHealth } = await import("../src/jobs/health-jobs.ts");
  const { curlProbe } = await import("../src/health/http-probe.ts");
  const { createTestDb, stopSharedTestPostgres } = await import("../tests/helpers/db.ts");
  const dataDir = mkdtempSync(join(tmpdir(), "bench-health-"));
  const db = await createTestDb({ prefix: "bench" });
  const t0 = performance.now();
  const demo = await startDemo({ modems, net: "lab", httpPort: 30000 + Math.floor(Math.random() * 5000), dataDir, timeScale: 1, databaseUrl: db.url });
  const sql = demo.app.db.sql;
  try {
    const deadline = Date.now() + 300_000;
    while ((await sql`select count(*)::int as n from modems where state = 'online' and public_ip is not null`)[0]!.n < modems) {
      if (Date.now() > deadline) throw new Error("modems did not all come online");
      await Bun.sleep(500);
    }
    const setupS = (performance.now() - t0) / 1000;
    const deps = { sql, nodeId: demo.config.node.id, config: demo.config, manager: demo.app.manager, options: { schedule: false } };
    const measure = async (health: Awaited<ReturnType<typeof startHealth>>) => {
      await health.sweepNow(); // warm-up
      const seq0 = Number((await sql`select coalesce(max(seq), 0) as s from modem_events`)[0]!.s);
      const times: number[] = [];
      let ok = 0;
      for (let i = 0; i < sweeps; i++) {
        const r = await health.sweepNow();
        if (r.error) throw new Error(r.error);
        times.push(r.durationMs);
        ok += r.ok;
        await Bun.sleep(500);
      }
      const ev = await sql`select count(*) filter (where kind like 'health.%')::int as health, count(*)::int as all from modem_events where seq > ${seq0}`;
      return { times, ok, health: ev[0]!.health as number, all: ev[0]!.all as number };
    };
    const batched = await startHealth(deps);
    const a = await measure(batched);
    await batched.stop();
    // Baseline: a probe without the batch form, i.e. one `ip netns exec … curl` per modem.
    const single = curlProbe({ wrapper: ["ip", "netns", "exec", demo.config.net.netns] });
    const perModem = await startHealth({ ...deps, httpProbe: (address: string, url: string) => single(address, url) });
    const b = await measure(perModem);
    await perModem.stop();
    return {
      modems, setupS, medianMs: median(a.times), maxMs: Math.max(...a.times), healthEventsPerSweep: a.health / sweeps,
      allEventsPerSweep: a.all / sweeps, okPerSweep: a.ok / sweeps, perModemCurlMedianMs: median(b.times),
    };
  } finally {
    await demo.stop();
    await db.drop();
    await stopSharedTestPostgres();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const oneArg = process.argv.indexOf("--one");
if (oneArg > 0) {
  console.log(JSON.stringify(await one(Number(process.argv[oneArg + 1]), arg("sweeps", 5))));
  process.exit(0);
}

const rows: Row[] = [];
for (const n of [30, 100]) {
  const child = Bun.spawn([process.execPath, import.meta.path, "--one", String(n), "--sweeps", String(arg("sweeps", 5))], { stdout: "pipe", stderr: "inherit" });
  const out = (await new Response(child.stdout).text()).trim().split("\n").at(-1)!;
  if ((await child.exited) !== 0) throw new Error(`bench for ${n} modems failed`);
  rows.push(JSON.parse(out) as Row);
}
console.log("| modems | lab up (s) | sweep median (ms) | sweep max (ms) | modems ok / sweep | health events / sweep | all events / sweep | baseline: one curl per modem, median (ms) |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.modems} | ${r.setupS.toFixed(0)} | ${r.medianMs.toFixed(0)} | ${r.maxMs.toFixed(0)} | ${r.okPerSweep.toFixed(0)} | ` +
    `${r.healthEventsPerSweep.toFixed(1)} | ${r.allEventsPerSweep.toFixed(1)} | ${r.perModemCurlMedianMs.toFixed(0)} |`);
}
const [a, b] = rows;
console.log(`\nratio 100/30: ${(b!.medianMs / a!.medianMs).toFixed(2)} (linear ${(100 / 30).toFixed(2)}); ` +
  `batched vs one curl per modem at 100: ${(b!.medianMs / b!.perModemCurlMedianMs).toFixed(2)}`);
