import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import { writeProxyConfigFile } from "../../../src/proxy/engine/config-file.ts";
import { curl, freePort, hashPassword, randomLoopback, startOrigin, waitFor, type Origin } from "./helpers.ts";

const CLI = join(import.meta.dir, "../../../src/proxy/engine/cli.ts");
let origin: Origin;
let dir: string;
let alice: { name: string; passwordHash: string };
const out = randomLoopback();

beforeAll(async () => {
  origin = startOrigin();
  dir = mkdtempSync(join(tmpdir(), "lteproxy-cli-"));
  alice = { name: "alice", passwordHash: await hashPassword("pw") };
});
afterAll(() => {
  origin.stop();
  rmSync(dir, { recursive: true, force: true });
});

function spawnProxy(args: string[]) {
  const code = `import { proxyCommand } from ${JSON.stringify(CLI)}; process.exit(await proxyCommand(${JSON.stringify(args)}));`;
  return Bun.spawn([process.execPath, "-e", code], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, LTEPROXY_LOG_LEVEL: "silent", LTEPROXY_RUNTIME_DIR: dir },
  });
}

async function healthz(sock: string): Promise<Record<string, unknown> | null> {
  try {
    return (await (await fetch("http://localhost/healthz", { unix: sock } as RequestInit)).json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function waitHealth(sock: string, pred: (h: Record<string, unknown>) => boolean, ms = 8000): Promise<Record<string, unknown> | null> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const h = await healthz(sock);
    if (h && pred(h)) return h;
    await Bun.sleep(50);
  }
  return healthz(sock);
}

const cfg = (version: number, ports: number[], sub: string): ProxyConfigInput => ({
  version,
  allowLocalTargets: true,
  statsSocket: join(dir, sub, "stats.sock"),
  logSpoolDir: join(dir, sub, "spool"),
  ports: ports.map((port, i) => ({ id: `M${i}`, port, listen: "127.0.0.1", outAddress: out, state: "online", users: [alice] })),
});

describe("lteproxy proxy", () => {
  test("--help and bad arguments", async () => {
    const help = spawnProxy(["--help"]);
    expect(await help.exited).toBe(0);
    expect(await new Response(help.stdout).text()).toContain("Usage: lteproxy proxy [--config FILE]");
    const bad = spawnProxy(["--frobnicate"]);
    expect(await bad.exited).toBe(2);
    expect(await new Response(bad.stderr).text()).toContain("unknown argument: --frobnicate");
  });

  test("serves the file, reloads on rename (inotify) and SIGHUP, refuses a bad file, drains on SIGTERM", async () => {
    const file = join(dir, "a", "proxy.json");
    const p1 = freePort();
    const p2 = freePort();
    writeProxyConfigFile(file, cfg(1, [p1], "a"));
    const proc = spawnProxy(["--config", file]);
    const sock = join(dir, "a", "stats.sock");
    try {
      expect(await waitHealth(sock, (h) => h.listening === 1)).toMatchObject({ ok: true, version: 1 });
      expect((await curl(["-x", `http://alice:pw@127.0.0.1:${p1}`, origin.url("/ip")])).stdout).toBe(out);

      writeProxyConfigFile(file, cfg(2, [p1, p2], "a")); // atomic rename → inotify
      expect(await waitHealth(sock, (h) => h.version === 2)).toMatchObject({ listening: 2 });
      expect((await curl(["-x", `http://alice:pw@127.0.0.1:${p2}`, origin.url("/ip")])).stdout).toBe(out);

      writeFileSync(file, "{ not json"); // a broken write: refused, version 2 stays
      expect(await waitHealth(sock, (h) => h.configError !== null)).toMatchObject({ ok: false, version: 2, listening: 2 });
      expect((await curl(["-x", `http://alice:pw@127.0.0.1:${p1}`, origin.url("/small")])).stdout).toBe("eighteen bytes !!\n");

      writeFileSync(file, JSON.stringify(cfg(3, [p1], "a"))); // in place, then SIGHUP
      proc.kill("SIGHUP");
      expect(await waitHealth(sock, (h) => h.version === 3)).toMatchObject({ ok: true, listening: 1 });

      const download = curl(["-x", `http://alice:pw@127.0.0.1:${p1}`, "-o", "/dev/null", "-w", "%{size_download}", origin.url("/big?bytes=1048576&chunk=65536&delay=50")]);
      await Bun.sleep(200);
      proc.kill("SIGTERM");
      await Bun.sleep(100);
      expect((await curl(["-x", `http://alice:pw@127.0.0.1:${p1}`, origin.url("/small")])).code).toBe(7); // not accepting
      expect((await download).stdout).toBe("1048576");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);

  test("starts without a config file and picks it up when the control plane writes it", async () => {
    const file = join(dir, "b", "proxy.json");
    const port = freePort();
    const proc = spawnProxy([`--config=${file}`]);
    const sock = join(dir, "b", "proxy-stats.sock"); // the default next to the config
    try {
      const h = await waitHealth(sock, () => true);
      expect(h).toMatchObject({ ok: false, ports: 0, version: "none" });
      expect(String(h?.configError)).toContain("cannot read proxy config");
      const c = cfg(1, [port], "b");
      delete c.statsSocket;
      writeProxyConfigFile(file, c);
      expect(await waitHealth(sock, (x) => x.version === 1)).toMatchObject({ ok: true, listening: 1 });
      expect((await curl(["-x", `http://alice:pw@127.0.0.1:${port}`, origin.url("/ip")])).stdout).toBe(out);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(await waitFor(() => !existsSync(sock), 1000)).toBe(true);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);
});
