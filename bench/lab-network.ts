/**
 * Lab network setup cost at 5 / 30 / 100 modems (root): build time, time for all data calls at once, one reconnect,
 * teardown, and memory (RSS of dnsmasq + echo server; MemAvailable drop for the kernel side: namespaces, veths).
 *   sudo bun bench/lab-network.ts [counts...]
 * Numbers for docs/lab.md (Network). Ratios are against the first (smallest) run of the same invocation; a warm-up
 * lab is built and removed first so the first row does not pay for cold caches. MemAvailable is machine-wide: noisy
 * on a shared machine, read it as an upper bound.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Before the logger module loads (it reads the level once).
process.env.LTEPROXY_LOG_LEVEL ??= "silent";
const { canBuildLab, createLabNetwork, newLabId } = await import("../src/sim/net/index.ts");

if (!canBuildLab()) {
  console.error("bench/lab-network.ts needs root and iproute2");
  process.exit(1);
}

const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (counts.length === 0) counts.push(5, 30, 100);

function memAvailableKb(): number {
  return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
}

function rssKb(pid: string): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const ms = (t0: number) => Math.round(performance.now() - t0);
const rows: Array<Record<string, number>> = [];
const tmp = mkdtempSync(join(tmpdir(), "bench-lab-"));

{
  const warm = createLabNetwork("lab", { labId: newLabId("b"), runDir: tmp });
  await warm.setup(1).finally(() => warm.destroy());
}

for (const count of counts) {
  const lab = createLabNetwork("lab", { labId: newLabId("b"), runDir: tmp });
  const memBefore = memAvailableKb();
  try {
    let t0 = performance.now();
    await lab.setup(count);
    const setupMs = ms(t0);
    t0 = performance.now();
    await Promise.all(Array.from({ length: count }, (_, i) => lab.sessionUp(i, { sticky: false })));
    const sessionsMs = ms(t0);
    t0 = performance.now();
    await lab.sessionDown(0);
    await lab.sessionUp(0, { sticky: false });
    const reconnectMs = ms(t0);
    const info = lab.info();
    const pids = [info.carrierNs!, info.inetNs!].flatMap((ns) =>
      Bun.spawnSync(["ip", "netns", "pids", ns]).stdout.toString().split(/\s+/).filter(Boolean));
    const processRssKb = pids.reduce((sum, p) => sum + rssKb(p), 0);
    const memDropKb = memBefore - memAvailableKb();
    t0 = performance.now();
    await lab.destroy();
    rows.push({ modems: count, setupMs, sessionsMs, reconnectMs, destroyMs: ms(t0), processRssMb: Math.round(processRssKb / 1024), memDropMb: Math.round(memDropKb / 1024) });
  } finally {
    await lab.destroy();
  }
}
rmSync(tmp, { recursive: true, force: true });

const base = rows[0]!;
console.log("modems | setup ms | all sessionUp ms | one reconnect ms | destroy ms | dnsmasq+echo RSS MB | MemAvailable drop MB | setup vs first row");
for (const r of rows) {
  console.log([r.modems, r.setupMs, r.sessionsMs, r.reconnectMs, r.destroyMs, r.processRssMb, r.memDropMb,
    `${(r.setupMs! / base.setupMs!).toFixed(2)}x`].join(" | "));
}
