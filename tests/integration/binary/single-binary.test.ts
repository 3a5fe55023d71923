/**
 * The single executable runs from an empty folder with no node_modules: version, migrate, serve + /readyz, doctor,
 * against a real PostgreSQL (TEST_DATABASE_URL or the shared embedded one) and against its own embedded default.
 */
import { describe, expect, test, beforeAll, afterAll } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { pidAlive } from "../../../src/lib/pid-alive.ts";

const ROOT = resolve(import.meta.dir, "../../..");
let dir: string;
let bin: string;
let db: TestDb;

function runBin(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000) {
  const r = Bun.spawnSync([bin, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LTEPROXY_LOG_LEVEL: "warn", ...env },
    timeout: timeoutMs,
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

async function waitReady(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return res;
      last = res.status;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(200);
  }
  throw new Error(`not ready: ${String(last)}`);
}

async function serveAndProbe(env: Record<string, string>) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = Bun.spawn([bin, "serve"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LTEPROXY_LOG_LEVEL: "warn", LTEPROXY_HTTP_PORT: String(port), LTEPROXY_HTTP_HOST: "127.0.0.1",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const res = await waitReady(`http://127.0.0.1:${port}/readyz`, 60_000);
    const body = (await res.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    const htmx = await fetch(`http://127.0.0.1:${port}/static/htmx.min.js`);
    return { body, page, htmxStatus: htmx.status, htmxLength: (await htmx.text()).length };
  } finally {
    proc.kill("SIGTERM");
    const code = await proc.exited;
    expect(code).toBe(0);
  }
}

/**
 * A runtime dir of the test's own: serve starts the data plane as a detached child that outlives it (by design), so
 * the test stops it itself through the pid file, instead of leaving it running for the next run to adopt.
 */
function ownRuntimeDir(): string {
  return mkdtempSync(join(dir, "run-"));
}

async function stopEngine(runtimeDir: string): Promise<void> {
  const enginePid = Number(readFileSync(join(runtimeDir, "proxy.pid"), "utf8"));
  expect(enginePid).toBeGreaterThan(0);
  process.kill(enginePid, "SIGTERM");
  for (let i = 0; i < 50 && pidAlive(enginePid); i++) await Bun.sleep(100);
  expect(pidAlive(enginePid)).toBe(false);
}

beforeAll(async () => {
  const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  dir = mkdtempSync(join(tmpdir(), "lteproxy-bin-"));
  chmodSync(dir, 0o755);
  bin = join(dir, "lteproxy");
  copyFileSync(join(ROOT, "dist/lteproxy"), bin);
  chmodSync(bin, 0o755);
  db = await createTestDb({ migrated: false, prefix: "bin" });
}, 120_000);

afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("single executable from an empty dir", () => {
  test("version prints version, commit and build date", () => {
    const r = runBin(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lteproxy \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}|unknown, built \d{4}-\d\d-\d\dT/);
  });

  test("a bad config value is a clear error and a non-zero exit", () => {
    const r = runBin(["serve"], { LTEPROXY_HTTP_PORT: "abc" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('LTEPROXY_HTTP_PORT (http.port) = "abc"');
  });

  test("migrate, serve + /readyz, doctor against a real PostgreSQL", async () => {
    const env = { DATABASE_URL: db.url, LTEPROXY_DEVICE_DIR: dir, LTEPROXY_RUNTIME_DIR: ownRuntimeDir() };
    const first = runBin(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("applied 001_schema.sql");
    expect(runBin(["migrate"], env).stdout).toContain("database is up to date");
    const served = await serveAndProbe(env);
    expect(served.body.ok).toBe(true);
    expect(served.body.checks.migrations!.ok).toBe(true);
    // the panel is behind a login: the first page a browser gets is the login form, rendered from the binary
    expect(served.page).toContain("lteproxy</title>");
    expect(served.page).toContain('src="/static/htmx.min.js"');
    expect(served.htmxStatus).toBe(200);
    expect(served.htmxLength).toBeGreaterThan(10_000);
    const doctor = runBin(["doctor"], { ...env, LTEPROXY_NET_DRIVER: "none" });
    await stopEngine(env.LTEPROXY_RUNTIME_DIR);
    expect(doctor.stdout).toMatch(/OK\s+database reachable/);
    expect(doctor.stdout).toMatch(/OK\s+migrations current/);
    expect(doctor.code).toBe(0);
  }, 120_000);

  test("doctor fails (exit 1) when the database is unreachable", () => {
    const r = runBin(["doctor"], { DATABASE_URL: "postgres://nobody:x@127.0.0.1:1/none", LTEPROXY_NET_DRIVER: "none", LTEPROXY_DEVICE_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+database reachable/);
  }, 60_000);

  test("the embedded default: migrate and serve with no DATABASE_URL", async () => {
    const dataDir = join(dir, "data");
    const env = { LTEPROXY_DATA_DIR: dataDir, LTEPROXY_DEVICE_DIR: dir, LTEPROXY_RUNTIME_DIR: ownRuntimeDir() };
    const m = runBin(["migrate"], env, 120_000);
    expect(m.stderr).toBe("");
    expect(m.code).toBe(0);
    expect(m.stdout).toContain("applied 001_schema.sql");
    const served = await serveAndProbe(env);
    expect(served.body.ok).toBe(true);
    const doctor = runBin(["doctor"], { ...env, LTEPROXY_NET_DRIVER: "none" }, 120_000);
    await stopEngine(env.LTEPROXY_RUNTIME_DIR);
    expect(doctor.stdout).toMatch(/OK\s+migrations current/);
  }, 180_000);
});

describe("the executable's data plane (lteproxy proxy)", () => {
  test("the compiled dns-relay answers through the modem's address (and the command is inside the binary)", async () => {
    const { writeDnsRelayFile } = await import("../../../src/proxy/dns-relay/config-file.ts");
    const { relayListenAddress } = await import("../../../src/proxy/dns-relay/address.ts");
    const { startDnsServer } = await import("../proxy/helpers.ts");
    const dns = await startDnsServer({ "echo.lab": "10.99.0.7" });
    const port = 20000 + Math.floor(Math.random() * 20000);
    const file = join(dir, "dns-relay.json");
    writeDnsRelayFile(file, { version: 1, entries: [{ id: "M0", port, outAddress: "127.0.0.1", servers: [dns.spec] }] });
    const proc = Bun.spawn([bin, "dns-relay", "--config", file], {
      cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LTEPROXY_LOG_LEVEL: "warn" }, stdout: "pipe", stderr: "pipe",
    });
    try {
      let out = "";
      for (let i = 0; i < 50 && !out.includes("10.99.0.7"); i++) {
        await Bun.sleep(200);
        // Not spawnSync: the DNS server answers from this process.
        const q = Bun.spawn([process.execPath, join(ROOT, "tests/integration/dns-relay/query-child.ts"), relayListenAddress(port), "echo.lab", "1000"], { stdout: "pipe" });
        out = await new Response(q.stdout).text();
      }
      expect(JSON.parse(out)).toMatchObject({ rcode: 0, addresses: ["10.99.0.7"] });
      expect(dns.queries.at(-1)).toEqual({ name: "echo.lab", from: "127.0.0.1" });
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      dns.stop();
    }
  }, 30_000);

  test("a large CONNECT download through the compiled engine is byte-exact and moves by splice (its worker is inside the binary)", async () => {
    const { writeProxyConfigFile } = await import("../../../src/proxy/engine/config-file.ts");
    const { createHash, randomBytes } = await import("node:crypto");
    const payload = randomBytes(4 * 1024 * 1024);
    const origin = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(payload) });
    const port = 20000 + Math.floor(Math.random() * 20000);
    const run = join(dir, "proxy-run");
    const sock = join(run, "stats.sock");
    const file = join(run, "proxy.json");
    writeProxyConfigFile(file, {
      version: 1, allowLocalTargets: true, statsSocket: sock, logSpoolDir: join(run, "spool"),
      ports: [{ id: "M0", port, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", users: [{ name: "u", passwordHash: await Bun.password.hash("p", "argon2id") }] }],
    });
    const proc = Bun.spawn([bin, "proxy", "--config", file], {
      cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LTEPROXY_LOG_LEVEL: "warn", LTEPROXY_RUNTIME_DIR: run }, stdout: "pipe", stderr: "pipe",
    });
    const stats = async () => {
      try {
        return (await (await fetch("http://localhost/stats", { unix: sock } as RequestInit)).json()) as { splice?: { enabled: boolean; started: number; error: string | null } };
      } catch {
        return null;
      }
    };
    try {
      const deadline = Date.now() + 20_000;
      while (!(await stats()) && Date.now() < deadline) await Bun.sleep(100);
      // -p: a CONNECT tunnel even for http://, the path that is handed to the splice worker after 128 KiB
      // (async: the origin answers from this process)
      const curl = Bun.spawn(["curl", "-sS", "-m", "30", "-p", "-x", `http://u:p@127.0.0.1:${port}`, `http://127.0.0.1:${origin.port}/`], { stdout: "pipe", stderr: "pipe" });
      const body = new Uint8Array(await new Response(curl.stdout).arrayBuffer());
      expect(await curl.exited).toBe(0);
      expect(createHash("sha256").update(body).digest("hex")).toBe(createHash("sha256").update(payload).digest("hex"));
      const s = await stats();
      expect(s?.splice).toMatchObject({ enabled: true, error: null });
      expect(s!.splice!.started).toBeGreaterThanOrEqual(1);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      origin.stop(true);
    }
  }, 60_000);
});
