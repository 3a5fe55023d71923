/**
 * The systemd supervisor against a recording fake systemctl (fake-systemctl.sh) that runs the units as processes:
 * - engine builtin: the real `lteproxy proxy` is started once, picks up new configs by itself (no systemctl call),
 *   and is started again when it dies;
 * - engine 3proxy: one instance per online modem rendered with CR hashes from proxy_users, started, reloaded only
 *   when its files changed, health-checked after every reload and restarted when a reload left it without a
 *   listener; stopped when its modem leaves online. 3proxy instances are fake-3proxy.ts, or the real binary when
 *   LTEPROXY_TEST_3PROXY names one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ProxyConfigInput } from "../../../src/proxy/engine/config-schema.ts";
import { createSystemctl } from "../../../src/proxy/supervisor/systemctl.ts";
import { createSystemdSupervisor } from "../../../src/proxy/supervisor/systemd.ts";
import { dbUserLookup } from "../../../src/proxy/supervisor/three-proxy-backend.ts";
import { probeTcp } from "../../../src/proxy/supervisor/tcp-probe.ts";
import type { ProxySupervisor } from "../../../src/proxy/supervisor/types.ts";
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { freePort, hashPassword } from "../proxy/helpers.ts";

const HERE = import.meta.dir;
const MAIN = resolve(HERE, "../../../src/main.ts");
const REAL_3PROXY = process.env.LTEPROXY_TEST_3PROXY && existsSync(process.env.LTEPROXY_TEST_3PROXY) ? process.env.LTEPROXY_TEST_3PROXY : "";
const root = mkdtempSync(join(tmpdir(), "ltp-systemd-"));
const fakeDir = join(root, "systemctl");
const runtimeDir = join(root, "run");
const etc = join(root, "etc3proxy");
mkdirSync(fakeDir);
mkdirSync(etc);

const env = {
  FAKE_SYSTEMCTL_DIR: fakeDir,
  FAKE_PROXY_CMD: `${process.execPath} ${MAIN} proxy --config ${join(runtimeDir, "proxy.json")}`,
  FAKE_3PROXY_CMD: REAL_3PROXY || `${process.execPath} ${join(HERE, "fake-3proxy.ts")}`,
  FAKE_3PROXY_ETC: etc,
  LTEPROXY_RUNTIME_DIR: runtimeDir,
};
Object.assign(process.env, env);
const systemctl = createSystemctl({ command: [join(HERE, "fake-systemctl.sh")] });
const calls = () => (existsSync(join(fakeDir, "calls")) ? readFileSync(join(fakeDir, "calls"), "utf8").split("\n").filter(Boolean) : []);
const actions = () => calls().filter((c) => !/^(is-active|list-units)/.test(c));
const clearCalls = () => writeFileSync(join(fakeDir, "calls"), "");

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await Bun.sleep(100);
  }
  return cond();
}

afterAll(async () => {
  // Whatever a failed test left running.
  for (const unit of ["lteproxy-proxy.service", ...["a", "b", "c"].map((x) => `3proxy@86600000000005${x === "a" ? 1 : x === "b" ? 2 : 3}.service`)]) {
    await systemctl(["stop", unit]).catch(() => undefined);
  }
  rmSync(root, { recursive: true, force: true });
});

describe("systemd supervisor, engine builtin", () => {
  let sup: ProxySupervisor;
  const port = freePort();
  const config = (version: string, users: Array<{ name: string; passwordHash: string }> = []): ProxyConfigInput => ({
    version, ports: [{ id: "866000000000050", port, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online", users }],
  });

  afterAll(async () => {
    await sup?.stop({ stopDataPlane: true });
  });

  test("starts lteproxy-proxy once; a new config needs no systemctl call; a dead engine is started again", async () => {
    clearCalls();
    sup = createSystemdSupervisor({ engine: "builtin", runtimeDir, systemctl, checkMs: 300, reloadGraceMs: 5000 });
    await sup.apply(config("v1"));
    expect(await until(async () => (await sup.status()).version === "v1", 15_000)).toBe(true);
    expect(actions()).toEqual(["start lteproxy-proxy.service"]);
    expect(await probeTcp("127.0.0.1", port)).toBe(true);

    clearCalls();
    await sup.apply(config("v2", [{ name: "alice", passwordHash: await hashPassword("pw") }]));
    expect(await until(async () => (await sup.status()).version === "v2")).toBe(true);
    expect(actions()).toEqual([]);

    const pid = Number(readFileSync(join(fakeDir, "lteproxy-proxy.service.pid"), "utf8"));
    process.kill(pid, "SIGKILL");
    expect(await until(async () => (await sup.status()).alive && actions().includes("start lteproxy-proxy.service"), 15_000)).toBe(true);
    expect((await sup.status()).version).toBe("v2");

    clearCalls();
    await sup.stop({ stopDataPlane: true });
    expect(actions()).toEqual(["stop lteproxy-proxy.service"]);
    expect(await probeTcp("127.0.0.1", port)).toBe(false);
  }, 60_000);
});

describe(`systemd supervisor, engine 3proxy (${REAL_3PROXY ? "real 3proxy" : "fake-3proxy.ts"})`, () => {
  let db: TestDb;
  let sup: ReturnType<typeof createSystemdSupervisor>;
  const [A, B, C] = ["866000000000051", "866000000000052", "866000000000053"];
  const ports = [freePort(), freePort(), freePort()];
  const hashes: Record<string, string> = {};
  const dirs = { etc, log: join(root, "log3proxy"), state: join(root, "state3proxy"), run: join(root, "run3proxy") };

  const desired = (over: Record<string, Record<string, unknown>> = {}, version = "1"): ProxyConfigInput => ({
    version,
    whitelist: ["192.0.2.0/24"],
    ports: [A, B, C].map((id, i) => ({
      id, port: ports[i]!, listen: "127.0.0.1", outAddress: "127.0.0.1", state: i === 2 ? "searching" : "online",
      users: [{ name: `u${i}`, passwordHash: hashes[`u${i}`]! }], dns: { servers: ["127.0.0.1"] }, maxConnections: 50,
      ...over[id],
    })),
  });

  beforeAll(async () => {
    db = await createTestDb({ prefix: "sd3p" });
    await db.sql`insert into nodes (id, hostname) values ('n', 'h')`;
    for (const [name, pw] of [["u0", "pw0"], ["u1", "pw1"], ["u2", "pw2"], ["u0b", "changed"]] as const) {
      hashes[name] = await hashPassword(pw);
      await db.sql`insert into proxy_users (node_id, username, password, password_hash, quota_mb)
                   values ('n', ${name}, ${pw}, ${hashes[name]!}, ${name === "u1" ? 2048 : null})`;
    }
    sup = createSystemdSupervisor({
      engine: "3proxy", runtimeDir, systemctl, checkMs: 1000,
      threeProxy: { lookupUsers: dbUserLookup(db.sql), dirs, healthWithinMs: 1500, settleMs: 300 },
    });
  });

  afterAll(async () => {
    await sup?.stop({ stopDataPlane: true });
    await db?.drop();
  });

  test("renders and starts one instance per online modem, with CR hashes and no clear password on disk", async () => {
    clearCalls();
    await sup.apply(desired());
    expect(actions().sort()).toEqual([`start 3proxy@${A}.service`, `start 3proxy@${B}.service`]);
    expect(await probeTcp("127.0.0.1", ports[0]!)).toBe(true);
    expect(await probeTcp("127.0.0.1", ports[1]!)).toBe(true);
    expect(existsSync(join(etc, `${C}.cfg`))).toBe(false);
    const passwd = readFileSync(join(etc, `${A}.passwd`), "utf8");
    expect(passwd).toMatch(/^"u0:CR:\$1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}"\n$/);
    expect(passwd).not.toContain("pw0");
    expect(statSync(join(etc, `${A}.cfg`)).mode & 0o777).toBe(0o640);
    const cfgB = readFileSync(join(etc, `${B}.cfg`), "utf8");
    expect(cfgB).toContain(`auto -p${ports[1]} -i127.0.0.1 -e127.0.0.1`);
    expect(cfgB).toContain("allow * 192.0.2.0/24");
    expect(cfgB).toMatch(/^countall \d+ M 2048 u1$/m);
    expect(await sup.status()).toMatchObject({ alive: true, version: "1" });
  }, 30_000);

  test("the same config again touches nothing; a changed user reloads only that instance", async () => {
    clearCalls();
    await sup.apply(desired({}, "2"));
    expect(actions()).toEqual([]);
    await sup.apply(desired({ [A]: { users: [{ name: "u0b", passwordHash: hashes.u0b }] } }, "3"));
    expect(actions()).toEqual([`reload 3proxy@${A}.service`]);
    expect(readFileSync(join(etc, `${A}.passwd`), "utf8")).toContain("u0b:CR:$1$");
    expect(await probeTcp("127.0.0.1", ports[0]!)).toBe(true);
  }, 30_000);

  test("a reload that leaves the instance without a listener is caught and the instance restarted", async () => {
    clearCalls();
    if (REAL_3PROXY) {
      // A real 3proxy loses its listeners on a reload that fails on any line (3proxy.md §3). Break one line (same
      // size), reload, then put the good bytes back with the broken file's mtime so `monitor` sees no change: the
      // instance stays alive without listeners until the periodic health check restarts it.
      const cfg = join(etc, `${B}.cfg`);
      const good = readFileSync(cfg, "utf8");
      writeFileSync(cfg, good.replace(/^noforce$/m, "noforcX"));
      await systemctl(["reload", `3proxy@${B}.service`]);
      expect(await until(async () => !(await probeTcp("127.0.0.1", ports[1]!)), 5000)).toBe(true);
      const { mtime } = statSync(cfg);
      writeFileSync(cfg, good);
      utimesSync(cfg, mtime, mtime);
      expect(await until(() => actions().includes(`restart 3proxy@${B}.service`), 10_000)).toBe(true);
      expect(await until(() => probeTcp("127.0.0.1", ports[1]!), 5000)).toBe(true);
      // And a normal reload of the restarted instance keeps its listener.
      await sup.apply(desired({ [A]: { users: [{ name: "u0b", passwordHash: hashes.u0b }] }, [B]: { maxConnections: 60 } }, "4"));
      expect(actions().at(-1)).toBe(`reload 3proxy@${B}.service`);
    } else {
      writeFileSync(join(fakeDir, "break-reload"), "");
      try {
        await sup.apply(desired({ [A]: { users: [{ name: "u0b", passwordHash: hashes.u0b }] }, [B]: { maxConnections: 60 } }, "4"));
      } finally {
        rmSync(join(fakeDir, "break-reload"), { force: true });
      }
      expect(actions()).toEqual([`reload 3proxy@${B}.service`, `restart 3proxy@${B}.service`]);
    }
    expect(actions().filter((a) => a.includes(A))).toEqual([]);
    expect(await probeTcp("127.0.0.1", ports[1]!)).toBe(true);
    const h = (await sup.stats()) as { ports: Array<{ imei: string; listening: boolean; restarts: number }> };
    expect(h.ports.find((p) => p.imei === B)).toMatchObject({ listening: true, restarts: 1 });
    expect((await sup.status()).alive).toBe(true);
  }, 30_000);

  test("a modem leaving online stops its instance; a port leaving the config loses its files", async () => {
    clearCalls();
    await sup.apply(desired({ [A]: { state: "offline", users: [{ name: "u0b", passwordHash: hashes.u0b }] }, [B]: { maxConnections: 60 } }, "5"));
    expect(actions()).toEqual([`stop 3proxy@${A}.service`]);
    expect(await probeTcp("127.0.0.1", ports[0]!)).toBe(false);
    expect(existsSync(join(etc, `${A}.cfg`))).toBe(true);
    const status = await sup.status();
    expect(status.detail).toContain(`${A} (state offline)`);
    clearCalls();
    await sup.apply({ version: "6", ports: [] });
    expect(actions()).toEqual([`stop 3proxy@${B}.service`]);
    expect(existsSync(join(etc, `${A}.cfg`))).toBe(false);
    expect(existsSync(join(etc, `${B}.passwd`))).toBe(false);
  }, 30_000);
});
