/**
 * createConfiguredSupervisor: `none` only writes the engine's file; `3proxy` + `child` runs one process per online
 * port (fake-3proxy.ts, or the real binary with LTEPROXY_TEST_3PROXY) with its files under the runtime dir, and
 * reports where the ingest job finds the logs; stop({ stopDataPlane }) stops them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Sql } from "../../../src/db/client.ts";
import { createConfiguredSupervisor } from "../../../src/proxy/supervisor/from-config.ts";
import { probeTcp } from "../../../src/proxy/supervisor/tcp-probe.ts";
import { freePort } from "../proxy/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "ltp-fromcfg-"));
const REAL = process.env.LTEPROXY_TEST_3PROXY && existsSync(process.env.LTEPROXY_TEST_3PROXY) ? process.env.LTEPROXY_TEST_3PROXY : "";
// Ports without users never reach the database.
const noDb = undefined as unknown as Sql;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createConfiguredSupervisor", () => {
  test("supervisor none writes proxy.json and runs nothing", async () => {
    const { supervisor, logs } = createConfiguredSupervisor({ engine: "builtin", supervisor: "none", runtimeDir: join(dir, "none"), sql: noDb });
    await supervisor.apply({ version: "n1", ports: [] });
    expect(JSON.parse(readFileSync(join(dir, "none", "proxy.json"), "utf8")).version).toBe("n1");
    expect(await supervisor.status()).toMatchObject({ alive: false });
    expect(logs).toEqual({ engine: "builtin", spoolDir: join(dir, "none", "connlog") });
  });

  test("3proxy + child: one process per online port, files under the runtime dir", async () => {
    const rt = join(dir, "tp");
    const port = freePort();
    const { supervisor, logs } = createConfiguredSupervisor({
      engine: "3proxy", supervisor: "child", runtimeDir: rt, sql: noDb,
      ...(REAL ? { threeProxyBinary: REAL } : { threeProxyBinary: resolve(import.meta.dir, "fake-3proxy.ts"), wrapper: [process.execPath] }),
    });
    try {
      await supervisor.apply({
        version: "t1", whitelist: ["127.0.0.0/8"],
        ports: [{ id: "866000000000099", port, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", dns: { servers: ["127.0.0.1"] } }],
      });
      expect(await probeTcp("127.0.0.1", port)).toBe(true);
      expect(existsSync(join(rt, "3proxy", "etc", "866000000000099.cfg"))).toBe(true);
      expect(logs).toEqual({ engine: "3proxy", spoolDir: join(rt, "connlog"), threeProxyLogDir: join(rt, "3proxy", "log") });
      expect((await supervisor.status()).alive).toBe(true);
    } finally {
      await supervisor.stop({ stopDataPlane: true });
    }
    expect(await probeTcp("127.0.0.1", port)).toBe(false);
  }, 30_000);
});
