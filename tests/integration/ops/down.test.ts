/**
 * `lteproxy down` as root in a network namespace this test creates: a real engine started by the child supervisor
 * (its control plane gone, as after a crash), a 3proxy-style process with a pid file, our policy routes for one
 * modem plus a foreign rule. down stops both processes, removes our routes (keeping the unreachable guard while the
 * address is still there; everything once it is gone) and never touches the foreign rule. Under systemd it stops
 * lteproxy, lteproxy-proxy and every 3proxy@ unit (through the recording fake systemctl).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../../src/config.ts";
import { runDown } from "../../../src/cli/ops/down.ts";
import { RoutingReconciler } from "../../../src/net/routing-reconciler.ts";
import { createChildSupervisor } from "../../../src/proxy/supervisor/child.ts";
import { createSystemctl } from "../../../src/proxy/supervisor/systemctl.ts";
import { probeTcp } from "../../../src/proxy/supervisor/tcp-probe.ts";
import { freePort } from "../proxy/helpers.ts";

const root = process.getuid?.() === 0 && Bun.spawnSync(["ip", "netns", "list"]).exitCode === 0;
if (!root) console.warn("SKIPPED lteproxy down tests: need root and ip netns");
const ns = `ltpdn-${Math.random().toString(36).slice(2, 8)}`;
const dir = mkdtempSync(join(tmpdir(), "ltp-down-"));
const runtimeDir = join(dir, "run");
const runDir3 = join(dir, "run3proxy");
const ADDR = "10.251.7.2";
const ip = (...args: string[]) => Bun.spawnSync(["ip", "-n", ns, ...args]).stdout.toString();
const config = () => loadConfig({ env: {}, overrides: { paths: { runtime_dir: runtimeDir, data_dir: dir }, net: { netns: ns } } });
let extra: ReturnType<typeof spawn> | undefined;

describe.skipIf(!root)("lteproxy down", () => {
  beforeAll(() => {
    mkdirSync(runtimeDir, { recursive: true });
    mkdirSync(runDir3, { recursive: true });
    Bun.spawnSync(["ip", "netns", "add", ns]);
    for (const cmd of [["link", "add", "d0", "type", "veth", "peer", "name", "d1"], ["link", "set", "d1", "up"], ["addr", "add", `${ADDR}/24`, "dev", "d0"], ["link", "set", "d0", "up"], ["link", "set", "lo", "up"]]) {
      Bun.spawnSync(["ip", "-n", ns, ...cmd]);
    }
  });

  afterAll(() => {
    extra?.kill("SIGKILL");
    Bun.spawnSync(["ip", "netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("stops the orphaned engine and 3proxy processes, removes our routes, keeps foreign rules", async () => {
    const reconciler = new RoutingReconciler({ netns: ns });
    await reconciler.apply([{ imei: "866000000000081", ifname: "d0", address: ADDR, table: 150, mtu: 1500, dns: [] }]);
    ip("rule", "add", "priority", "20000", "from", "10.99.0.1", "lookup", "main");
    expect(ip("rule", "show")).toContain(`from ${ADDR} lookup 150`);
    expect(ip("route", "show", "table", "150")).toContain("default dev d0");

    // The engine, started by a control plane that is gone now (it does not stop the data plane on exit).
    const port = freePort();
    const sup = createChildSupervisor({ runtimeDir, checkMs: 60_000 });
    await sup.apply({ version: "d1", ports: [{ id: "866000000000081", port, listen: "127.0.0.1", outAddress: "127.0.0.1", state: "online" }] });
    await sup.stop();
    expect(await probeTcp("127.0.0.1", port)).toBe(true);
    const enginePid = Number(readFileSync(join(runtimeDir, "proxy.pid"), "utf8"));

    // A 3proxy instance of the process mode: pid file + a process running <imei>.cfg.
    const cfg = join(dir, "866000000000082.cfg");
    const port3 = freePort();
    writeFileSync(cfg, `auto -p${port3} -i127.0.0.1 -e127.0.0.1\n`);
    extra = spawn(process.execPath, [resolve(import.meta.dir, "../three-proxy-supervisor/fake-3proxy.ts"), cfg], { stdio: "ignore" });
    writeFileSync(join(runDir3, "866000000000082.pid"), String(extra.pid));
    for (let i = 0; i < 50 && !(await probeTcp("127.0.0.1", port3)); i++) await Bun.sleep(100);

    const steps = await runDown(config(), { systemd: false, threeProxyRunDir: runDir3, killAfterMs: 3000 });
    expect(steps.every((s) => s.ok)).toBe(true);
    expect(steps.map((s) => s.step)).toEqual(["stop data plane", "stop 3proxy processes", "remove routes and rules"]);
    expect(steps[0]!.detail).toContain(`pid ${enginePid}`);
    expect(steps[1]!.detail).toBe("1 stopped");
    expect(await probeTcp("127.0.0.1", port)).toBe(false);
    expect(await probeTcp("127.0.0.1", port3)).toBe(false);
    expect(existsSync(join(runtimeDir, "proxy.pid"))).toBe(false);
    // The default route is gone; the guard stays while 10.251.7.2 is on d0; the foreign rule is untouched.
    expect(steps[2]!.detail).toContain(`unreachable guard kept for ${ADDR}`);
    expect(ip("route", "show", "table", "150")).not.toContain("default dev d0");
    expect(ip("route", "show", "table", "150")).toContain("unreachable default");
    expect(ip("rule", "show")).toContain("20000:\tfrom 10.99.0.1 lookup main");

    // Once the address is gone, a second down removes the guard too; running it again is harmless.
    ip("addr", "del", `${ADDR}/24`, "dev", "d0");
    const again = await runDown(config(), { systemd: false, threeProxyRunDir: runDir3 });
    expect(again.every((s) => s.ok)).toBe(true);
    expect(again.at(-1)!.detail).toMatch(/^\d+ removed$/);
    expect(ip("rule", "show")).not.toContain(ADDR);
    expect(ip("route", "show", "table", "150").trim()).toBe("");
    expect(ip("rule", "show")).toContain("20000:\tfrom 10.99.0.1 lookup main");
  }, 60_000);

  test("under systemd: stops lteproxy, lteproxy-proxy and every 3proxy@ unit", async () => {
    const fakeDir = join(dir, "systemctl");
    const etc = join(dir, "etc3proxy");
    mkdirSync(fakeDir, { recursive: true });
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, "866000000000083.cfg"), `auto -p${freePort()} -i127.0.0.1 -e127.0.0.1\n`);
    Object.assign(process.env, {
      FAKE_SYSTEMCTL_DIR: fakeDir, FAKE_OTHER_CMD: "sleep 600", FAKE_PROXY_CMD: "sleep 600", FAKE_3PROXY_ETC: etc,
      FAKE_3PROXY_CMD: `${process.execPath} ${resolve(import.meta.dir, "../three-proxy-supervisor/fake-3proxy.ts")}`,
    });
    const systemctl = createSystemctl({ command: [resolve(import.meta.dir, "../three-proxy-supervisor/fake-systemctl.sh")] });
    for (const u of ["lteproxy.service", "lteproxy-proxy.service", "3proxy@866000000000083.service"]) await systemctl(["start", u]);
    const steps = await runDown(config(), { systemd: true, systemctl, threeProxyRunDir: runDir3 });
    const byStep = Object.fromEntries(steps.map((s) => [s.step, s]));
    expect(byStep["stop lteproxy.service"]).toMatchObject({ ok: true, detail: "stopped" });
    expect(byStep["stop lteproxy-proxy.service"]).toMatchObject({ ok: true, detail: "stopped" });
    expect(byStep["stop 3proxy@866000000000083.service"]).toMatchObject({ ok: true, detail: "stopped" });
    const calls = readFileSync(join(fakeDir, "calls"), "utf8");
    expect(calls).toContain("stop lteproxy.service\n");
    for (const u of ["lteproxy.service", "lteproxy-proxy.service", "3proxy@866000000000083.service"]) {
      expect((await systemctl(["is-active", u])).stdout.trim()).toBe("inactive");
    }
    // Nothing running: every step says so and succeeds.
    const idle = await runDown(config(), { systemd: true, systemctl, threeProxyRunDir: runDir3 });
    expect(idle.every((s) => s.ok)).toBe(true);
    expect(idle.find((s) => s.step === "stop lteproxy.service")!.detail).toBe("was inactive");
  }, 60_000);
});
