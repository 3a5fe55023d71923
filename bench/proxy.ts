/**
 * Built-in proxy engine benchmark (issue 5). One run prints:
 *   - 100 MiB download throughput: direct vs HTTP proxy vs SOCKS5 (curl, interleaved, median)
 *   - median / p99 of 1,000 keep-alive requests and of 1,000 new-connection requests
 *   - 1,000 concurrent connections on one port, with the error count
 *   - each as a ratio to direct measured in the same run
 *   - RSS of the engine process serving 100 ports (idle and after the load)
 *
 *   bun bench/proxy.ts [--runs N] [--json] [--compare-js] [--no-floor]
 *
 * The floor: unless --no-floor, the bench compiles bench/relay-floor.c (needs `cc`) and adds two
 * plain TCP forwarders in C per origin, one with splice(2) and one where the kernel forwards the
 * bytes (BPF sockmap, needs root). They speak no proxy protocol, so their ratio to direct is what
 * the extra hop alone costs on this box, and the engine's paths are also printed against the
 * faster of the two.
 *
 * Tunnels (CONNECT, SOCKS5) and large Content-Length bodies go through the engine's splice(2)
 * relay. --compare-js also starts a second engine with LTEPROXY_SPLICE=0 (the JS relay) and adds
 * its throughput, interleaved with the others, so the two relays are compared under the same load.
 *
 * The engine runs as its own process (`lteproxy proxy` entry, as in production); the origin is a
 * minimal keep-alive HTTP server in another process that writes one reused 1 MiB buffer, so the
 * "direct" baseline is as fast as this box allows. Loopback only.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { writeProxyConfigFile } from "../src/proxy/engine/config-file.ts";
import type { ProxyConfigInput } from "../src/proxy/engine/config-schema.ts";

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf("--runs") + 1] || 5) || 5;
const JSON_OUT = args.includes("--json");
const COMPARE_JS = args.includes("--compare-js");
const FLOOR = !args.includes("--no-floor");
const N_REQ = 1000;
const N_CONC = 1000;
const BIG = 100 * 1024 * 1024;
const CLI = join(import.meta.dir, "../src/proxy/engine/cli.ts");

// ---------- processes ----------

const ORIGIN_SRC = `
const chunk = new Uint8Array(1 << 20).fill(97);
const BIG = ${BIG};
const small = "HTTP/1.1 200 OK\\r\\ncontent-length: 18\\r\\ncontent-type: text/plain\\r\\n\\r\\neighteen bytes !!\\n";
function pump(s) {
  while (s.data.left > 0) {
    const n = Math.min(chunk.length, s.data.left);
    const w = s.write(chunk.subarray(0, n));
    if (w <= 0) return;
    s.data.left -= w;
    if (w < n) return;
  }
}
const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: {
  open(s) { s.data = { buf: "", left: 0 }; s.setNoDelay(true); },
  data(s, d) {
    s.data.buf += d.toString("latin1");
    for (;;) {
      const i = s.data.buf.indexOf("\\r\\n\\r\\n");
      if (i < 0) return;
      const head = s.data.buf.slice(0, i);
      s.data.buf = s.data.buf.slice(i + 4);
      if (head.includes(" /big")) { s.write("HTTP/1.1 200 OK\\r\\ncontent-length: " + BIG + "\\r\\n\\r\\n"); s.data.left = BIG; pump(s); }
      else s.write(small);
    }
  },
  drain(s) { pump(s); },
} });
// Bun.listen's accept queue is 512; the engine's is 4096, and so is this origin's (else the 1,000
// concurrent upstream connects overflow it and wait for a 1 s SYN retry that direct never sees).
const { dlopen, FFIType } = require("bun:ffi");
dlopen("libc.so.6", { listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } }).symbols.listen(l.fd, 4096);
console.log(l.port);
`;

/** A typical HTTP server (Bun.serve), for ratios against an origin that does some work itself. */
const SERVE_SRC = `
const big = new Uint8Array(${BIG}).fill(97);
const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch(req) {
  return new URL(req.url).pathname === "/big" ? new Response(big) : new Response("eighteen bytes !!\\n");
} });
console.log(s.port);
`;

function lineFrom(p: { stdout: ReadableStream<Uint8Array> }): Promise<string> {
  const reader = p.stdout.getReader();
  return (async () => {
    let s = "";
    while (!s.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      s += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return s.trim();
  })();
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

async function freePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    out.add(l.port);
    l.stop(true);
  }
  return [...out];
}

// ---------- a tiny HTTP client over raw sockets ----------

interface Conn {
  sock: Socket<{ buf: Buffer; want: ((b: Buffer) => number) | null; resolve: ((b: Buffer) => void) | null }>;
  /** Sends `data`, resolves with the bytes of one complete message as judged by `complete`. */
  exchange(data: string | Uint8Array, complete: (b: Buffer) => number): Promise<Buffer>;
  close(): void;
}

/** Length of a complete HTTP response in `b` (head + Content-Length body), or -1. */
function responseLength(b: Buffer): number {
  const i = b.indexOf("\r\n\r\n");
  if (i < 0) return -1;
  const m = /content-length:\s*(\d+)/i.exec(b.subarray(0, i).toString("latin1"));
  const total = i + 4 + (m ? Number(m[1]) : 0);
  return b.length >= total ? total : -1;
}
const fixed = (n: number) => (b: Buffer) => (b.length >= n ? n : -1);

async function connect(port: number): Promise<Conn> {
  const sock = await Bun.connect<{ buf: Buffer; want: ((b: Buffer) => number) | null; resolve: ((b: Buffer) => void) | null }>({
    hostname: "127.0.0.1",
    port,
    data: { buf: Buffer.alloc(0), want: null, resolve: null },
    socket: {
      data(s, d) {
        const st = s.data;
        st.buf = st.buf.length ? Buffer.concat([st.buf, d]) : d;
        if (!st.want) return;
        const n = st.want(st.buf);
        if (n < 0) return;
        const msg = st.buf.subarray(0, n);
        st.buf = st.buf.subarray(n);
        const r = st.resolve!;
        st.want = st.resolve = null;
        r(msg);
      },
      close(s) {
        s.data.resolve?.(Buffer.alloc(0));
      },
      error() {},
    },
  });
  sock.setNoDelay(true);
  return {
    sock,
    exchange(data, complete) {
      return new Promise((resolve) => {
        sock.data.want = complete;
        sock.data.resolve = resolve;
        sock.write(data);
      });
    },
    close: () => sock.end(),
  };
}

const AUTH = "Basic " + Buffer.from("alice:bench-pass").toString("base64");
const socksAuth = new Uint8Array([1, 5, ...Buffer.from("alice"), 10, ...Buffer.from("bench-pass")]);
const socksConnect = (port: number) => new Uint8Array([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 255]);

type Floor = "floor-splice" | "floor-sockmap";
type Path = "direct" | "http" | "socks5" | Floor;
const isFloor = (p: string): p is Floor => p.startsWith("floor-");
/** floorPorts[mode][originPort]: the port of the C relay that forwards to that origin. */
const floorPorts: Partial<Record<Floor, Record<number, number>>> = {};
/** Throughput paths: the -js ones go through the second engine (JS relay, --compare-js). */
type TpPath = Path | "http-js" | "socks5-js";

/** Opens a connection that is ready for origin requests on `path`; returns it and the request text. */
async function open(path: Path, originPort: number, proxyPort: number, small = "/small"): Promise<{ c: Conn; req: string }> {
  if (path === "direct" || isFloor(path)) {
    const port = path === "direct" ? originPort : floorPorts[path]![originPort];
    return { c: await connect(port), req: `GET ${small} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n` };
  }
  const c = await connect(proxyPort);
  if (path === "http") {
    return { c, req: `GET http://127.0.0.1:${originPort}${small} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\nProxy-Authorization: ${AUTH}\r\n\r\n` };
  }
  await c.exchange(new Uint8Array([5, 1, 2]), fixed(2));
  const a = await c.exchange(socksAuth, fixed(2));
  if (a[1] !== 0) throw new Error("socks auth failed");
  const r = await c.exchange(socksConnect(originPort), fixed(10));
  if (r[1] !== 0) throw new Error(`socks connect failed ${r[1]}`);
  return { c, req: `GET ${small} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n` };
}

function summary(ms: number[]): { median: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] };
}

async function keepAlive(path: Path, originPort: number, proxyPort: number): Promise<{ median: number; p99: number; errors: number }> {
  const { c, req } = await open(path, originPort, proxyPort);
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < N_REQ; i++) {
    const t = performance.now();
    const r = await c.exchange(req, responseLength);
    times.push(performance.now() - t);
    if (!r.subarray(0, 12).toString().startsWith("HTTP/1.1 200")) errors++;
  }
  c.close();
  return { ...summary(times), errors };
}

async function newConnections(path: Path, originPort: number, proxyPort: number): Promise<{ median: number; p99: number; errors: number }> {
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < N_REQ; i++) {
    const t = performance.now();
    try {
      const { c, req } = await open(path, originPort, proxyPort);
      const r = await c.exchange(req, responseLength);
      times.push(performance.now() - t);
      if (!r.subarray(0, 12).toString().startsWith("HTTP/1.1 200")) errors++;
      c.close();
    } catch {
      errors++;
    }
  }
  return { ...summary(times), errors };
}

/** N_CONC connections opened together, each then sends one request at the same moment. */
async function concurrent(path: Path, originPort: number, proxyPort: number): Promise<{ ms: number; errors: number }> {
  const t0 = performance.now();
  let errors = 0;
  const opened = await Promise.all(
    Array.from({ length: N_CONC }, () => open(path, originPort, proxyPort).catch(() => null)),
  );
  const results = await Promise.all(
    opened.map(async (o) => {
      if (!o) return false;
      const r = await Promise.race([o.c.exchange(o.req, responseLength), Bun.sleep(30_000).then(() => Buffer.alloc(0))]);
      o.c.close();
      return r.subarray(0, 12).toString().startsWith("HTTP/1.1 200");
    }),
  );
  for (const ok of results) if (!ok) errors++;
  return { ms: performance.now() - t0, errors };
}

/** utime + stime of a process (all its threads), ms; /proc ticks are 10 ms (CLK_TCK 100). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

/** Engine CPU spent per download, by path (the proxy's own cost, independent of the neighbours). */
const cpuPerDownload: Partial<Record<TpPath, number[]>> = {};

async function curlSpeed(path: TpPath, originPort: number, proxyPort: number): Promise<number> {
  const port = path.endsWith("-js") ? jsPort : proxyPort;
  const pid = path === "direct" || isFloor(path) ? null : path.endsWith("-js") ? jsEngine!.pid : engine.pid;
  const cpu0 = pid ? cpuMs(pid) : 0;
  const via =
    path === "direct" || isFloor(path) ? [] : path.startsWith("http") ? ["-x", `http://alice:bench-pass@127.0.0.1:${port}`] : ["--socks5", `alice:bench-pass@127.0.0.1:${port}`];
  const target = isFloor(path) ? floorPorts[path]![originPort] : originPort;
  const p = Bun.spawn(["curl", "-sS", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", ...via, `http://127.0.0.1:${target}/big`], { stdout: "pipe" });
  const out = (await new Response(p.stdout).text()).trim().split(" ");
  await p.exited;
  if (Number(out[1]) !== BIG) throw new Error(`${path}: got ${out[1]} bytes`);
  if (pid) (cpuPerDownload[path] ??= []).push(cpuMs(pid) - cpu0);
  return Number(out[0]) / 1e6; // MB/s, like the 3proxy reference
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const us = (ms: number) => Math.round(ms * 1000);

// ---------- run ----------

const dir = mkdtempSync(join(tmpdir(), "lteproxy-bench-"));
const spawnOrigin = (src: string) => Bun.spawn([process.execPath, "-e", src], { stdout: "pipe", stderr: "inherit" });
const origins = { minimal: spawnOrigin(ORIGIN_SRC), "bun-serve": spawnOrigin(SERVE_SRC) };
const originPorts = { minimal: Number(await lineFrom(origins.minimal)), "bun-serve": Number(await lineFrom(origins["bun-serve"])) };

/** Builds bench/relay-floor.c and starts one relay per mode and origin; a mode that cannot start is left out. */
const floorProcs: Bun.Subprocess[] = [];
const floorNotes: string[] = [];
if (FLOOR) {
  const bin = join(dir, "relay-floor");
  const cc = Bun.spawnSync(["cc", "-O2", "-pthread", "-o", bin, join(import.meta.dir, "relay-floor.c")], { stderr: "pipe" });
  if (!cc.success) floorNotes.push(`relay floor not built: ${cc.stderr?.toString().trim().split("\n")[0] || "cc failed"}`);
  else {
    for (const mode of ["splice", "sockmap"] as const) {
      const byOrigin: Record<number, number> = {};
      for (const originPort of Object.values(originPorts)) {
        const p = Bun.spawn([bin, mode, String(originPort)], { stdout: "pipe", stderr: "pipe" });
        floorProcs.push(p);
        const port = Number(await Promise.race([lineFrom(p), Bun.sleep(3000).then(() => "")]));
        if (port > 0) byOrigin[originPort] = port;
        else floorNotes.push(`relay floor ${mode} did not start: ${(await new Response(p.stderr).text().catch(() => "")).trim().split("\n").pop()}`);
      }
      if (Object.keys(byOrigin).length === Object.keys(originPorts).length) floorPorts[`floor-${mode}`] = byOrigin;
    }
  }
}
const FLOORS = Object.keys(floorPorts) as Floor[];
const ports = await freePorts(100);
const proxyPort = ports[0];
const passwordHash = await Bun.password.hash("bench-pass");
const config: ProxyConfigInput = {
  version: "bench",
  allowLocalTargets: true,
  statsSocket: join(dir, "stats.sock"),
  logSpoolDir: join(dir, "spool"),
  ports: ports.map((port, i) => ({
    id: `86600000000${String(i).padStart(4, "0")}`,
    port,
    listen: "127.0.0.1",
    outAddress: "127.0.0.1",
    state: "online",
    users: [{ name: "alice", passwordHash }],
    maxConnections: 2 * N_CONC,
  })),
};
writeProxyConfigFile(join(dir, "proxy.json"), config);
const spawnEngine = (file: string, env: Record<string, string> = {}) =>
  Bun.spawn([process.execPath, "-e", `import { proxyCommand } from ${JSON.stringify(CLI)}; process.exit(await proxyCommand(${JSON.stringify(["--config", file])}));`], {
    stdout: "ignore",
    stderr: "inherit",
    env: { ...process.env, LTEPROXY_LOG_LEVEL: "warn", ...env },
  });
const engine = spawnEngine(join(dir, "proxy.json"));
// The JS-relay engine for --compare-js: one port, same user.
const jsPort = (await freePorts(1))[0];
let jsEngine: ReturnType<typeof spawnEngine> | null = null;
if (COMPARE_JS) {
  writeProxyConfigFile(join(dir, "proxy-js.json"), {
    ...config,
    statsSocket: join(dir, "stats-js.sock"),
    logSpoolDir: join(dir, "spool-js"),
    ports: [{ ...config.ports![0], id: "866000000009999", port: jsPort }],
  });
  jsEngine = spawnEngine(join(dir, "proxy-js.json"), { LTEPROXY_SPLICE: "0" });
}

type Lat = { median: number; p99: number; errors: number };
const PATHS: Path[] = ["direct", "http", "socks5", ...FLOORS];

try {
  for (let i = 0; i < 100; i++) {
    try {
      const h = (await (await fetch("http://localhost/healthz", { unix: join(dir, "stats.sock") } as RequestInit)).json()) as { listening: number };
      if (h.listening === 100) break;
    } catch {}
    await Bun.sleep(50);
  }
  await Bun.sleep(300);
  const rssIdle = rssMb(engine.pid);
  const log = (s: string) => !JSON_OUT && console.log(s);
  const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  log(`lteproxy proxy bench: Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, load ${load()}`);
  for (const n of floorNotes) log(n);

  for (let i = 0; jsEngine && i < 100; i++) {
    try {
      await fetch("http://localhost/healthz", { unix: join(dir, "stats-js.sock") } as RequestInit);
      break;
    } catch {}
    await Bun.sleep(50);
  }
  // Warm-up (JIT, password cache, the splice worker).
  await keepAlive("http", originPorts.minimal, proxyPort);
  await curlSpeed("http", originPorts.minimal, proxyPort);
  await curlSpeed("socks5", originPorts.minimal, proxyPort);
  if (jsEngine) await curlSpeed("http-js", originPorts.minimal, proxyPort);

  const results: Record<string, unknown> = {};
  for (const [name, originPort] of Object.entries(originPorts)) {
    const tpPaths: TpPath[] = COMPARE_JS ? [...PATHS, "http-js", "socks5-js"] : PATHS;
    const tp = Object.fromEntries(tpPaths.map((p) => [p, [] as number[]])) as Record<TpPath, number[]>;
    for (let r = 0; r < RUNS; r++) for (const p of tpPaths) tp[p].push(await curlSpeed(p, originPort, proxyPort));
    const thr = Object.fromEntries(tpPaths.map((p) => [p, median(tp[p])])) as Record<TpPath, number>;
    log(`\n[origin: ${name}] 100 MiB download with curl, median of ${RUNS} interleaved runs (MB/s = 1e6 B/s)`);
    log(`  ${tpPaths.map((p) => `${p} ${thr[p].toFixed(0)}${p === "direct" ? "" : ` (${ratio(thr[p], thr.direct)}x)`}`).join("   ")}`);
    log(`  runs: ${tpPaths.map((p) => `${p} ${tp[p].map((x) => x.toFixed(0)).join(" ")}`).join(" | ")}`);

    const lat: Record<string, Lat> = {};
    for (const p of PATHS) lat[`ka-${p}`] = await keepAlive(p, originPort, proxyPort);
    for (const p of PATHS) lat[`new-${p}`] = await newConnections(p, originPort, proxyPort);
    log(`[origin: ${name}] ${N_REQ} sequential requests (18-byte body), µs median/p99 (ratio to direct: median, p99)`);
    for (const kind of ["ka", "new"]) {
      const d = lat[`${kind}-direct`];
      const row = PATHS.map((p) => {
        const x = lat[`${kind}-${p}`];
        const rr = p === "direct" ? "" : ` (${ratio(x.median, d.median)}x, ${ratio(x.p99, d.p99)}x)`;
        return `${p} ${us(x.median)}/${us(x.p99)}${rr}${x.errors ? ` ERRORS ${x.errors}` : ""}`;
      }).join("   ");
      log(`  ${kind === "ka" ? "keep-alive    " : "new connection"}  ${row}`);
    }
    if (FLOORS.length) {
      const best = (f: (p: Floor) => number, better: (a: number, b: number) => boolean) => FLOORS.reduce((a, b) => (better(f(b), f(a)) ? b : a));
      const tpFloor = best((p) => thr[p], (a, b) => a > b);
      const kaFloor = best((p) => lat[`ka-${p}`].median, (a, b) => a < b);
      log(
        `  against the best plain relay (throughput: ${tpFloor} ${ratio(thr[tpFloor], thr.direct)}x direct; keep-alive: ${kaFloor} ${ratio(lat[`ka-${kaFloor}`].median, lat["ka-direct"].median)}x direct):` +
          ` throughput http ${ratio(thr.http, thr[tpFloor])}x, socks5 ${ratio(thr.socks5, thr[tpFloor])}x;` +
          ` keep-alive http ${ratio(lat["ka-http"].median, lat[`ka-${kaFloor}`].median)}x, socks5 ${ratio(lat["ka-socks5"].median, lat[`ka-${kaFloor}`].median)}x`,
      );
    }
    results[name] = { throughputMBps: thr, throughputRuns: tp, latencyMs: lat };
  }

  const conc: Record<"direct" | "http" | "socks5", { ms: number; errors: number }> = {
    direct: await concurrent("direct", originPorts.minimal, proxyPort),
    http: await concurrent("http", originPorts.minimal, proxyPort),
    socks5: await concurrent("socks5", originPorts.minimal, proxyPort),
  };
  log(`\n${N_CONC} concurrent connections on one port (all opened, then one request each; origin: minimal)`);
  log(
    `  direct ${conc.direct.ms.toFixed(0)} ms, ${conc.direct.errors} errors   http ${conc.http.ms.toFixed(0)} ms (${ratio(conc.http.ms, conc.direct.ms)}x), ${conc.http.errors} errors   socks5 ${conc.socks5.ms.toFixed(0)} ms (${ratio(conc.socks5.ms, conc.direct.ms)}x), ${conc.socks5.errors} errors`,
  );

  await Bun.sleep(500);
  const rssLoaded = rssMb(engine.pid);
  const st = (await (await fetch("http://localhost/stats", { unix: join(dir, "stats.sock") } as RequestInit)).json()) as {
    splice: { started: number; fallbacks: number; error: string | null };
  };
  log(`Engine CPU per 100 MiB download, median ms: ${Object.entries(cpuPerDownload).map(([p, v]) => `${p} ${median(v)}`).join("   ")}`);
  log(`Splice relay: ${st.splice.started} jobs handed over, ${st.splice.fallbacks} fallbacks to JS${st.splice.error ? `, error: ${st.splice.error}` : ""}`);
  log(`\nEngine RSS serving 100 ports: ${rssIdle} MB idle, ${rssLoaded} MB after the runs above (load now ${load()})`);

  const m = results.minimal as { throughputMBps: Record<Path, number>; latencyMs: Record<string, Lat> };
  const targets = {
    "throughput http >= 0.9x": ratio(m.throughputMBps.http, m.throughputMBps.direct) >= 0.9,
    "throughput socks5 >= 0.9x": ratio(m.throughputMBps.socks5, m.throughputMBps.direct) >= 0.9,
    "keep-alive median <= 2x": ratio(m.latencyMs["ka-http"].median, m.latencyMs["ka-direct"].median) <= 2,
    "0 errors at 1000 concurrent": conc.http.errors === 0 && conc.socks5.errors === 0,
    "RSS < 150 MB": rssLoaded < 150,
  };
  log(`Targets (against the minimal origin): ${Object.entries(targets).map(([k, v]) => `${k}: ${v ? "met" : "MISSED"}`).join("; ")}`);
  if (JSON_OUT) console.log(JSON.stringify({ bun: Bun.version, runs: RUNS, origins: results, concurrent: conc, rssMb: { idle: rssIdle, loaded: rssLoaded }, splice: st.splice, cpuMsPerDownload: cpuPerDownload, targets }));
} finally {
  engine.kill("SIGTERM");
  jsEngine?.kill("SIGTERM");
  await engine.exited;
  await jsEngine?.exited;
  for (const o of Object.values(origins)) o.kill();
  for (const f of floorProcs) f.kill();
  rmSync(dir, { recursive: true, force: true });
}
