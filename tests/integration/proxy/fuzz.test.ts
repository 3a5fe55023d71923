import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";

/**
 * ≥10,000 random and mutated HTTP/SOCKS5 first packets against a live engine (issue 5).
 * The engine and the fuzzer run in a network namespace of their own that has only `lo`, so no
 * mutated target address can leave the box.
 */
const NS = `ltp-fuzz-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const run = (argv: string[]) => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });

beforeAll(() => {
  expect(run(["ip", "netns", "add", NS]).exitCode).toBe(0);
  expect(run(["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"]).exitCode).toBe(0);
});
afterAll(() => {
  run(["ip", "netns", "del", NS]);
});

describe("handshake fuzz", () => {
  test("10,000 cases: no crash, every connection closed, no fd or memory leak", async () => {
    const runner = join(import.meta.dir, "fuzz-runner.ts");
    const p = Bun.spawn(["ip", "netns", "exec", NS, process.execPath, runner, "10000"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, LTEPROXY_LOG_LEVEL: "silent" },
    });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    if (code !== 0) console.error(err.slice(-4000));
    expect(code).toBe(0);
    const r = JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, number | boolean | Record<string, number>>;
    expect(r.cases).toBe(10_000);
    expect(r.accepted).toBe(10_000 + (r.warmup as number)); // + the tunnel that starts the splice worker
    expect(r.uncaught).toBe(0);
    expect(r.drained).toBe(true);
    expect(r.active).toBe(0);
    expect(r.fdAfter).toBeLessThanOrEqual((r.fdBefore as number) + 2);
    expect(r.rssGrowthMb).toBeLessThan(100);
    // CONNECT seeds went through the kernel relay, and none of them is left there.
    const splice = r.splice as unknown as { active: number; started: number };
    expect(splice.started).toBeGreaterThan(1);
    expect(splice.active).toBe(0);
    // The fuzzer reached every layer, not just the first parser.
    const refusals = r.refusals as Record<string, number>;
    for (const k of ["bad_request", "header_too_large", "auth_required", "auth_failed", "handshake_timeout"]) {
      expect(refusals[k]).toBeGreaterThan(0);
    }
    expect(r.connections).toBeGreaterThan(0);
  }, 120_000);
});
