/**
 * SSE benchmark: commit-to-receipt latency for 100 dashboard SSE clients while modem changes are committed at
 * 1,000 events/s (each event: a modems row update + its modem_events row, in one transaction per 10 ms batch),
 * and the server-side render time of the dashboard with 100 modems. Targets (issue 7): p99 < 50 ms, render median
 * < 30 ms. The server runs in this process, the writer and the clients in their own (sse-writer.ts,
 * sse-clients.ts); they all share the machine's cores with PostgreSQL, so the numbers are upper bounds. Besides
 * commit→receipt it prints commit→publish (when the broker was handed the frame) to split server time from
 * transport and client time, and the CPU the server and the clients used while streaming.
 *
 *   TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres bun bench/sse.ts [--seconds 5] [--clients 100] [--rate 1000] [--procs 2]
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createTestDb } from "../tests/helpers/db.ts";
import { loadConfig } from "../src/config.ts";
import { EventStream } from "../src/events/event-stream.ts";
import { createHttpApp, stopHttpApp } from "../src/http/server.ts";
import { hashPassword } from "../src/http/auth/passwords.ts";
import { createUser } from "../src/db/queries/users.ts";
import { lastEventSeq } from "../src/db/queries/events.ts";
import { seedModems } from "../tests/integration/http/harness.ts";
import { stopSharedTestPostgres } from "../tests/helpers/db.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const SECONDS = arg("seconds", 5);
const CLIENTS = arg("clients", 100);
const RATE = arg("rate", 1000);
const MODEMS = 100;
const BATCH_MS = 10; // the writer's batch interval (bench/sse-writer.ts)

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}
const fmt = (n: number) => `${n.toFixed(2)} ms`;

const db = await createTestDb({ prefix: "bench" });
await db.sql`insert into nodes (id, hostname) values ('n1', 'bench')`;
const ids = await seedModems(db, MODEMS);
const events = new EventStream(db.sql, { pollMs: 1000 });
await events.start();
const app = createHttpApp({ sql: db.sql, config: loadConfig({ env: {} }), nodeId: "n1", events, db: { healthy: () => true } });
app.listen({ hostname: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${app.server!.port}`;
await createUser(db.sql, { username: "bench", role: "viewer", passwordHash: await hashPassword("bench-password-1") });
const login = await fetch(`${base}/login`, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", "hx-request": "true", origin: base },
  body: "username=bench&password=bench-password-1",
});
const cookie = login.headers.get("set-cookie")!.split(";")[0]!;

// ---- render time of the dashboard (100 modems) -------------------------------------------------------------
async function timeGet(path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await app.handle(new Request(`http://localhost${path}`, { headers: { cookie } }));
    await r.text();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
await timeGet("/", 20); // warm-up
const baseline = await timeGet("/api/v1/me", 200);
const dashboard = await timeGet("/", 200);

// ---- SSE latency -------------------------------------------------------------------------------------------
// Times are Date.now() (ms) in both processes: the same machine clock.
const commitAt = new Map<number, number>();
// Server side: when the broker was handed each dashboard frame (splits server time from transport + client parse).
const published: number[] = [];
const broker = app.decorator.env.broker;
const publish = broker.publish.bind(broker);
broker.publish = (channel, msg, meta) => {
  if (channel === "dashboard" && msg.id !== undefined) published.push(Number(msg.id), Date.now());
  return publish(channel, msg, meta);
};
const after = await lastEventSeq(db.sql);
// Clients run in PROCS child processes (a browser per technician would parse in parallel too).
const PROCS = Math.min(arg("procs", 2), CLIENTS);
const children = Array.from({ length: PROCS }, (_, p) => {
  const n = Math.floor(CLIENTS / PROCS) + (p < CLIENTS % PROCS ? 1 : 0);
  const proc = Bun.spawn(["bun", `${import.meta.dir}/sse-clients.ts`, `${base}/sse/dashboard?after=${after}`, cookie, String(n)], {
    stdin: "pipe", stdout: "pipe", stderr: "inherit",
  });
  return { proc, out: proc.stdout.getReader(), text: "" };
});
for (const c of children) {
  while (!c.text.includes("ready\n")) {
    const r = await c.out.read();
    if (r.done) throw new Error("client process ended before connecting");
    c.text += new TextDecoder().decode(r.value);
  }
}
await Bun.sleep(500);

/** utime + stime of a child process so far (ms), from /proc. */
function procCpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}
const cpuBefore = process.cpuUsage();

// The writer is another process, as the modem manager is in production.
const total = RATE * SECONDS;
const writer = Bun.spawn(["bun", `${import.meta.dir}/sse-writer.ts`, db.url, String(RATE), String(SECONDS), ids.join(",")], { stdout: "pipe", stderr: "inherit" });
const written = JSON.parse(await new Response(writer.stdout).text()) as { commitAt: Record<string, number>; elapsed: number };
for (const [seq, t] of Object.entries(written.commitAt)) commitAt.set(Number(seq), t);
const elapsed = written.elapsed;
const lastSeq = Math.max(...commitAt.keys());
await events.waitFor(lastSeq, 10_000).catch(() => undefined);
await Bun.sleep(1000); // the last batches reach the clients
const cpuUsed = process.cpuUsage(cpuBefore);
const serverCpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
const clientCpuMs = children.reduce((n, c) => n + procCpuMs(c.proc.pid), 0);
const result = { receipts: [] as number[][], dropped: 0, bytes: 0 };
for (const c of children) {
  c.proc.stdin.end();
  for (;;) {
    const r = await c.out.read();
    if (r.done) break;
    c.text += new TextDecoder().decode(r.value);
  }
  const part = JSON.parse(c.text.slice(c.text.indexOf("{"))) as { receipts: number[][]; dropped: number; bytes: number };
  result.receipts.push(...part.receipts);
  result.dropped += part.dropped;
  result.bytes += part.bytes;
}
const dropped = result.dropped;

const lat: number[] = [];
let missing = 0;
const seqs = [...commitAt.keys()].sort((a, b) => a - b);
const serverLat: number[] = [];
{
  let j = 0;
  for (const seq of seqs) {
    while (j < published.length && published[j]! < seq) j += 2;
    if (j < published.length) serverLat.push(Math.max(0, published[j + 1]! - commitAt.get(seq)!));
  }
  serverLat.sort((a, b) => a - b);
}
for (const r of result.receipts) {
  // a message with id N delivers every event up to N: each event's receipt is the first message covering it
  let j = 0;
  for (const seq of seqs) {
    while (j < r.length && r[j]! < seq) j += 2;
    if (j >= r.length) missing++;
    else lat.push(Math.max(0, r[j + 1]! - commitAt.get(seq)!));
  }
}
lat.sort((a, b) => a - b);

console.log(`SSE: ${CLIENTS} clients (${PROCS} processes), ${total} events in ${elapsed.toFixed(2)} s (${(total / elapsed).toFixed(0)}/s committed in ${BATCH_MS} ms batches)`);
console.log(`  commit→receipt  p50 ${fmt(pct(lat, 50))}  p90 ${fmt(pct(lat, 90))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1] ?? NaN)}   (target p99 < 50 ms)`);
console.log(`  commit→publish  p50 ${fmt(pct(serverLat, 50))}  p90 ${fmt(pct(serverLat, 90))}  p99 ${fmt(pct(serverLat, 99))}   (server side: event stream + render, before the bytes go out)`);
console.log(`  CPU while streaming: server process ${serverCpuMs.toFixed(0)} ms, client processes ${clientCpuMs.toFixed(0)} ms; load average ${loadavg()[0]!.toFixed(2)}`);
console.log(`  received ${(result.bytes / CLIENTS / 1e6).toFixed(2)} MB per client (${(result.bytes / CLIENTS / elapsed / 1e3).toFixed(0)} kB/s)`);
console.log(`  deliveries ${lat.length}, missing ${missing}, clients dropped ${dropped}, broker ${JSON.stringify(app.decorator.env.broker.getStats())}`);
console.log(`Dashboard render (GET /, ${MODEMS} modems, in-process): median ${fmt(pct(dashboard, 50))}  p90 ${fmt(pct(dashboard, 90))}   (target median < 30 ms)`);
console.log(`  baseline GET /api/v1/me median ${fmt(pct(baseline, 50))}; dashboard/baseline ratio ${(pct(dashboard, 50) / pct(baseline, 50)).toFixed(1)}x`);

await stopHttpApp(app);
await events.stop();
await db.drop();
await stopSharedTestPostgres();
process.exit(0);
