/**
 * Lab bench: setup time and memory of the simulated modem farm for 30 and 100 modems (docs/lab.md quotes the
 * numbers). Run: `bun bench/lab.ts` (lab files on /dev/shm, the default) or `bun bench/lab.ts --disk` (on $TMPDIR).
 * Each size runs in its own process at real-time timings (time scale 1): setup = until every slot exists;
 * registered = until every modem is on the network (boot URCs + registerMs); memory = RSS once registered minus the
 * same process's RSS before the lab (baseline measured in the same run); idle CPU over 3 s once registered.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setLogLevel } from "../src/lib/logger.ts";
import { startSimLab } from "../src/sim/lab.ts";
import { fastTmpBase } from "../src/sim/registry.ts";

setLogLevel("silent");
const onDisk = process.argv.includes("--disk");

interface Row {
  modems: number;
  slots: number;
  setupMs: number;
  readyMs: number;
  stopMs: number;
  baseRssMb: number;
  rssMb: number;
  heapMb: number;
  idleCpu: number;
}

async function one(modems: number): Promise<Row> {
  process.env.LTEPROXY_SIM_DIR = fs.mkdtempSync(path.join(onDisk ? os.tmpdir() : fastTmpBase(), "ltpx-simbench-"));
  Bun.gc(true);
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const lab = await startSimLab({ modems, timeScale: 1, seed: 1 });
  const setupMs = performance.now() - t0;
  const slots = fs.readdirSync(lab.info.deviceDir).length;
  await lab.ready(60_000);
  const readyMs = performance.now() - t0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await Bun.sleep(3000);
  const cpu = process.cpuUsage(cpu0);
  Bun.gc(true);
  const mem = process.memoryUsage();
  const t1 = performance.now();
  await lab.stop();
  const stopMs = performance.now() - t1;
  fs.rmSync(process.env.LTEPROXY_SIM_DIR, { recursive: true, force: true });
  return {
    modems, slots, setupMs, readyMs, stopMs, baseRssMb: rss0 / 2 ** 20, rssMb: (mem.rss - rss0) / 2 ** 20,
    heapMb: (mem.heapUsed - heap0) / 2 ** 20, idleCpu: (cpu.user + cpu.system) / 1000 / (performance.now() - w0),
  };
}

const oneArg = process.argv.indexOf("--one");
if (oneArg > 0) {
  console.log(JSON.stringify(await one(Number(process.argv[oneArg + 1]))));
  process.exit(0);
}

const rows: Row[] = [];
for (const n of [30, 100]) {
  const child = Bun.spawn([process.execPath, import.meta.path, "--one", String(n), ...(onDisk ? ["--disk"] : [])], { stdout: "pipe" });
  rows.push(JSON.parse((await new Response(child.stdout).text()).trim().split("\n").at(-1)!) as Row);
}
console.log(`lab files on ${onDisk ? os.tmpdir() : fastTmpBase()}\n`);
console.log("| modems | slots | setup (ms) | all registered (ms) | stop (ms) | RSS growth (MB) | JS heap growth (MB) | idle CPU (% of a core) |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.modems} | ${r.slots} | ${r.setupMs.toFixed(0)} | ${r.readyMs.toFixed(0)} | ${r.stopMs.toFixed(0)} | ` +
    `${r.rssMb.toFixed(1)} | ${r.heapMb.toFixed(1)} | ${(r.idleCpu * 100).toFixed(1)} |`);
}
const [a, b] = rows;
console.log(`\nbaseline RSS before the lab: ${a!.baseRssMb.toFixed(0)} MB; setup ratio 100/30: ${(b!.setupMs / a!.setupMs).toFixed(2)}` +
  ` (linear: ${(100 / 30).toFixed(2)}); memory per modem ≈ ${((b!.rssMb - a!.rssMb) / 70).toFixed(2)} MB`);
