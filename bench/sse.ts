/**
 * SSE benchmark: commit-to-receipt latency for 100 dashboard SSE clients while modem changes are committed at
 * 1,000 events/s (each event: a modems row update + its modem_events row, in one transaction per 10 ms batch),
 * and the server-side render time of the dashboard with 100 modems. Targets (issue 7): p99 < 50 ms, render median
 * < 30 ms. The server runs in this process, the writer and the clients in their own (sse-writer.ts,
 * sse-clients.ts); they all share the machine's cores with PostgreSQL, so the numbers are upper bounds. Besides
 * commit→receipt it prints commit→publish (when the broker was handed the frame) to split server time from
 * transport and client time, and the CPU the server and the clients used while streaming.
 *
 * Stage split: commit→notify (the server got the NOTIFY), →fetched (the event stream handed the row to its
 * subscribers), →publish, →receipt (a client parsed the message covering it). --dump <file> writes every event's
 * stage times.
 *
 *   TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres bun bench/sse.ts [--seconds 5] [--clients 100] [--rate 1000] [--procs 2] [--dump file]
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createTestDb } from "../tests/helpers/db.ts";
import { loadConfig } from "../src/config.ts";
import { EventStream, EVENTS_CHANNEL } from "../src/events/event-stream.ts";
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
/**
 * The writer runs this long first; events committed then are delivered and checked like the others but kept out
 * of the measured percentiles (printed on their own line). The first half second otherwise measures the writer
 * process starting (bun load, connects) on the same 2 cores, the clients' parser running cold, and the server's
 * first renders, rather than the live path.
 */
const WARMUP = arg("warmup", 1);
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
// Stage stamps (seq, Date.now()) to split commit→receipt: when the NOTIFY arrived (a second listener on the same
// LISTEN connection as the event stream: postgres.js calls both for one message), when the event stream delivered
// the fetched row to its subscribers, and when the broker was handed the frame (above).
const notified = new Map<number, number>();
const fetched = new Map<number, number>();
await db.sql.listen(EVENTS_CHANNEL, (payload) => {
  const seq = payload.startsWith("{") ? Number((JSON.parse(payload) as { seq: number }).seq) : Number(payload);
  if (!notified.has(seq)) notified.set(seq, Date.now());
});
events.subscribe((e) => fetched.set(e.seq, Date.now()));
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
const total = RATE * (WARMUP + SECONDS);
const writer = Bun.spawn(["bun", `${import.meta.dir}/sse-writer.ts`, db.url, String(RATE), String(WARMUP + SECONDS), ids.join(",")], { stdout: "pipe", stderr: "inherit" });
const written = JSON.parse(await new Response(writer.stdout).text()) as { commitAt: Record<string, number>; elapsed: number };
for (const [seq, t] of Object.entries(written.commitAt)) commitAt.set(Number(seq), t);
const measuredFrom = Math.min(...commitAt.values()) + WARMUP * 1000;
const elapsed = written.elapsed;
const lastSeq = Math.max(...commitAt.keys());
await events.waitFor(lastSeq, 10_000).catch(() => undefined);
await Bun.sleep(1000); // the last batches reach the clients
const cpuUsed = process.cpuUsage(cpuBefore);
const serverCpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
const clientCpuMs = children.reduce((n, c) => n + procCpuMs(c.proc.pid), 0);
const result = { receipts: [] as number[][], dropped: 0, bytes: 0, messages: 0, malformed: 0 };
for (const c of children) {
  c.proc.stdin.end();
  for (;;) {
    const r = await c.out.read();
    if (r.done) break;
    c.text += new TextDecoder().decode(r.value);
  }
  const part = JSON.parse(c.text.slice(c.text.indexOf("{"))) as { receipts: number[][]; dropped: number; bytes: number; messages: number; malformed: number };
  result.receipts.push(...part.receipts);
  result.messages += part.messages;
  result.malformed += part.malformed;
  result.dropped += part.dropped;
  result.bytes += part.bytes;
}
const dropped = result.dropped;

// Every event's time at each stage. A message with id N covers every event up to N: an event is published /
// received with the first message whose id is at or above its seq.
const seqs = [...commitAt.keys()].sort((a, b) => a - b);
function firstCovering(stamps: number[], out: (seq: number, t: number | null) => void): void {
  let j = 0;
  for (const seq of seqs) {
    while (j < stamps.length && stamps[j]! < seq) j += 2;
    out(seq, j < stamps.length ? stamps[j + 1]! : null);
  }
}
const publishedAt = new Map<number, number>();
firstCovering(published, (seq, t) => t !== null && publishedAt.set(seq, t));
const sorted = (a: number[]) => a.sort((x, y) => x - y);
const measured = (seq: number) => commitAt.get(seq)! >= measuredFrom;
/** from→to latency of every measured event both stages saw, sorted. */
function between(from: Map<number, number>, to: Map<number, number>): number[] {
  const out: number[] = [];
  for (const seq of seqs) {
    if (!measured(seq)) continue;
    const a = from.get(seq), b = to.get(seq);
    if (a !== undefined && b !== undefined) out.push(Math.max(0, b - a));
  }
  return sorted(out);
}
const lat: number[] = []; // commit→receipt, every measured event × every client
const warmLat: number[] = []; // the same for the warm-up's events
const transport: number[] = []; // publish→receipt
let missing = 0;
const firstRecv = new Map<number, number>(), lastRecv = new Map<number, number>();
for (const r of result.receipts) {
  firstCovering(r, (seq, t) => {
    if (t === null) return void missing++;
    if (!measured(seq)) return void warmLat.push(Math.max(0, t - commitAt.get(seq)!));
    lat.push(Math.max(0, t - commitAt.get(seq)!));
    const p = publishedAt.get(seq);
    if (p !== undefined) transport.push(Math.max(0, t - p));
    firstRecv.set(seq, Math.min(firstRecv.get(seq) ?? Infinity, t));
    lastRecv.set(seq, Math.max(lastRecv.get(seq) ?? -Infinity, t));
  });
}
sorted(lat);
sorted(warmLat);
sorted(transport);
const row = (name: string, a: number[], note: string) =>
  console.log(`  ${name.padEnd(16)}p50 ${fmt(pct(a, 50))}  p90 ${fmt(pct(a, 90))}  p99 ${fmt(pct(a, 99))}   ${note}`);

// --dump <file>: per event [seq, commit, notify, fetched, published, first receipt, last receipt] for offline analysis.
const dumpAt = process.argv.indexOf("--dump");
if (dumpAt > 0) {
  await Bun.write(process.argv[dumpAt + 1]!, JSON.stringify(seqs.map((seq) => [seq, commitAt.get(seq), notified.get(seq) ?? null,
    fetched.get(seq) ?? null, publishedAt.get(seq) ?? null, firstRecv.get(seq) ?? null, lastRecv.get(seq) ?? null])));
}

const all = sorted([...lat, ...warmLat]);
console.log(`SSE: ${CLIENTS} clients (${PROCS} processes), ${total} events in ${elapsed.toFixed(2)} s (${(total / elapsed).toFixed(0)}/s committed in ${BATCH_MS} ms batches), the first ${WARMUP} s as warm-up`);
console.log(`  commit→receipt  p50 ${fmt(pct(lat, 50))}  p90 ${fmt(pct(lat, 90))}  p99 ${fmt(pct(lat, 99))}  max ${fmt(lat[lat.length - 1] ?? NaN)}   (target p99 < 50 ms; after the warm-up)`);
console.log(`  warm-up only    p50 ${fmt(pct(warmLat, 50))}  p99 ${fmt(pct(warmLat, 99))};  whole run p99 ${fmt(pct(all, 99))}`);
console.log(`  where it goes, per event (stage to stage; the p99s do not add up, tails rarely coincide):`);
row("commit→notify", between(commitAt, notified), "PostgreSQL delivers the NOTIFY to the server");
row("notify→fetched", between(notified, fetched), "the event stream has the row (a read, or the NOTIFY payload)");
row("fetched→publish", between(fetched, publishedAt), "live feed: rows read, rendered, handed to the broker");
row("publish→receipt", transport, "socket write, transport, client parse (every client)");
row("commit→publish", between(commitAt, publishedAt), "server side total");
console.log(`  CPU while streaming: server process ${serverCpuMs.toFixed(0)} ms, client processes ${clientCpuMs.toFixed(0)} ms; load average ${loadavg()[0]!.toFixed(2)}`);
console.log(`  received ${(result.bytes / CLIENTS / 1e6).toFixed(2)} MB per client in ${elapsed.toFixed(1)} s (${(result.bytes / CLIENTS / elapsed / 1e3).toFixed(0)} kB/s)`);
console.log(`  deliveries ${lat.length + warmLat.length}, missing ${missing}, messages parsed ${result.messages} (malformed ${result.malformed}), clients dropped ${dropped}, broker ${JSON.stringify(app.decorator.env.broker.getStats())}`);
console.log(`Dashboard render (GET /, ${MODEMS} modems, in-process): median ${fmt(pct(dashboard, 50))}  p90 ${fmt(pct(dashboard, 90))}   (target median < 30 ms)`);
console.log(`  baseline GET /api/v1/me median ${fmt(pct(baseline, 50))}; dashboard/baseline ratio ${(pct(dashboard, 50) / pct(baseline, 50)).toFixed(1)}x`);

await stopHttpApp(app);
await events.stop();
await db.drop();
await stopSharedTestPostgres();
process.exit(0);
