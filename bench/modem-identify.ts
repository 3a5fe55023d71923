/**
 * Appearance → identification of simulated EC25s with realistic timings (lab timeScale 1), N modems enumerating at
 * once while the manager runs:
 *   TEST_DATABASE_URL=postgres://… bun bench/modem-identify.ts [counts...]     (default 1 10 30)
 * Columns: median / p95 / max ms from the detector's `appeared` to the IMEI's row (`identifying`) and to the full
 * identity; the baseline is the median round trip of one `AT` on the same ports after the run, and `x AT` is the
 * median identification in units of that baseline (how many command round trips it costs).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

process.env.LTEPROXY_LOG_LEVEL ??= "silent";
const { createTestDb, stopSharedTestPostgres } = await import("../tests/helpers/db.ts");
const { registerNode } = await import("../src/db/queries/nodes.ts");
const { ModemManager } = await import("../src/modem/manager.ts");
const { startSimLab } = await import("../src/sim/lab.ts");

const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (counts.length === 0) counts.push(1, 10, 30);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const rows: Array<Record<string, string | number>> = [];
for (const n of counts) {
  const db = await createTestDb({ prefix: "bench" });
  await registerNode(db.sql, { id: "bench", hostname: "bench", version: "bench" });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-ident-"));
  const dirs = { deviceDir: path.join(tmp, "devices"), sysfsRoot: path.join(tmp, "sys"), devRoot: path.join(tmp, "dev") };
  const manager = new ModemManager({ sql: db.sql, nodeId: "bench", ...dirs, pollMs: 60_000, fastPollMs: 60_000 });
  const appeared = new Map<string, number>();
  const toRow: number[] = [];
  const toIdentity: number[] = [];
  manager.on("appeared", (slot) => appeared.set(slot, performance.now()));
  manager.on("state", (e) => {
    if (e.to === "identifying") toRow.push(performance.now() - appeared.get(e.modem.slot!)!);
  });
  manager.on("identified", (m) => {
    if (toIdentity.length < n && m.identity) toIdentity.push(performance.now() - appeared.get(m.slot!)!);
  });
  await manager.start();
  const lab = await startSimLab({ modems: n, timeScale: 1, control: { socket: false }, ...dirs });
  const deadline = Date.now() + 30_000;
  while (toIdentity.length < n && Date.now() < deadline) await Bun.sleep(10);
  const rtt: number[] = [];
  for (const m of manager.list().slice(0, 10)) {
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await manager.driver(m.id).raw("AT");
      rtt.push(performance.now() - t);
    }
  }
  const base = pct(rtt, 50);
  rows.push({
    modems: n, "row p50": Math.round(pct(toRow, 50)), "row p95": Math.round(pct(toRow, 95)),
    "identity p50": Math.round(pct(toIdentity, 50)), "identity p95": Math.round(pct(toIdentity, 95)),
    "identity max": Math.round(Math.max(...toIdentity)), "AT rtt p50": Math.round(base * 10) / 10,
    "x AT": Math.round(pct(toIdentity, 50) / base),
  });
  await manager.stop();
  await lab.stop();
  await db.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.table(rows);
await stopSharedTestPostgres();
