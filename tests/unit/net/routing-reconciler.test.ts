import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecOptions, ExecResult } from "../../../src/lib/exec.ts";
import { parseBatchFailures } from "../../../src/net/ip-command.ts";
import { RoutingReconciler } from "../../../src/net/routing-reconciler.ts";
import type { ModemRouting } from "../../../src/net/routing-types.ts";
import { fileSysctl } from "../../../src/net/sysctl.ts";

const fx = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");
const root = mkdtempSync(join(tmpdir(), "lteproxy-sysctl-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Serves ip queries from a mutable state and records batches; counts concurrent calls. */
class FakeKernel {
  rules = fx("ip-drift-rules.json");
  routes = fx("ip-drift-routes.json");
  addrs = fx("ip-drift-addrs.json");
  batches: string[][] = [];
  batchStderr = "";
  inFlight = 0;
  maxInFlight = 0;
  run = async (argv: string[], opts: ExecOptions = {}): Promise<ExecResult> => {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await Bun.sleep(2);
    this.inFlight--;
    const line = argv.join(" ");
    if (line.includes("-batch")) {
      this.batches.push((opts.input ?? "").trim().split("\n"));
      return { code: this.batchStderr ? 1 : 0, stdout: "", stderr: this.batchStderr };
    }
    if (line.includes(" rule show")) return { code: 0, stdout: this.rules, stderr: "" };
    if (line.includes(" route show")) return { code: 0, stdout: this.routes, stderr: "" };
    if (line.includes(" addr show")) return { code: 0, stdout: this.addrs, stderr: "" };
    throw new Error(`unexpected ip call ${line}`);
  };
}

const desired: ModemRouting[] = [
  { imei: "A", ifname: "wwan0", address: "10.64.0.2", table: 100, mtu: 1430, dns: [] },
  { imei: "B", ifname: "wwan1", address: "10.64.1.2", table: 101, mtu: 1500, dns: [], gateway: "10.64.1.1" },
  { imei: "D", ifname: "wwan3", address: "10.64.4.2", table: 104, mtu: 1500, dns: [] },
];

function sysctlRoot(): string {
  const dir = mkdtempSync(join(root, "proc-"));
  for (const ifname of ["wwan0", "wwan1"]) {
    mkdirSync(join(dir, "net/ipv4/conf", ifname), { recursive: true });
    writeFileSync(join(dir, "net/ipv4/conf", ifname, "rp_filter"), "1\n");
    writeFileSync(join(dir, "net/ipv4/conf", ifname, "ignore_routes_with_linkdown"), "0\n");
    writeFileSync(join(dir, "net/ipv4/conf", ifname, "promote_secondaries"), "0\n");
  }
  writeFileSync(join(dir, "net/ipv4/conf/wwan1/rp_filter"), "2\n");
  return dir;
}

describe("RoutingReconciler with a fake ip", () => {
  test("one batch with the planned lines; counts; sysctl written only where it differs and exists", async () => {
    const kernel = new FakeKernel();
    const proc = sysctlRoot();
    const r = new RoutingReconciler({ run: kernel.run, sysctl: fileSysctl(proc) });
    const res = await r.apply(desired);
    expect(kernel.batches.length).toBe(1);
    expect(kernel.batches[0]).toEqual(res.commands.map((c) => c.line));
    expect([res.added, res.changed, res.removed, res.repaired]).toEqual([4, 1, 3, 0]);
    expect(res.failures).toEqual([]);
    // wwan3 has no sysctl directory here (interface "missing" for sysctl): skipped; wwan1 rp_filter already 2.
    expect(res.sysctlChanged).toBe(5);
    expect(readFileSync(join(proc, "net/ipv4/conf/wwan0/rp_filter"), "utf8").trim()).toBe("2");
    expect(readFileSync(join(proc, "net/ipv4/conf/wwan0/ignore_routes_with_linkdown"), "utf8").trim()).toBe("1");
    expect(readFileSync(join(proc, "net/ipv4/conf/wwan1/promote_secondaries"), "utf8").trim()).toBe("1");
    expect(r.lastResult()).toBe(res);
  });

  test("a failed batch line is reported with its modem and not counted", async () => {
    const kernel = new FakeKernel();
    kernel.batchStderr = 'Cannot find device "wwan3"\nCommand failed -:3\n';
    const r = new RoutingReconciler({ run: kernel.run, sysctl: fileSysctl(sysctlRoot()) });
    const res = await r.apply(desired);
    expect(res.failures).toEqual([{ line: "route replace default dev wwan3 table 104 metric 100 proto 241 mtu 1500", message: 'Cannot find device "wwan3"', imei: "D" }]);
    expect(res.added).toBe(3);
  });

  test("drift after a clean apply counts as repaired", async () => {
    const kernel = new FakeKernel();
    const r = new RoutingReconciler({ run: kernel.run, sysctl: fileSysctl(sysctlRoot()) });
    const only = [{ imei: "C", ifname: "wwan2", address: "10.64.2.2", table: 102, mtu: 1430, dns: [] }];
    // Table 102 + rule 10002 are complete in the fixture: nothing for C; the rest of the fixture is removed.
    const first = await r.apply(only);
    expect(first.commands.filter((c) => c.imei === "C")).toEqual([]);
    kernel.rules = JSON.stringify(JSON.parse(kernel.rules).filter((x: { priority: number }) => x.priority !== 10002));
    const second = await r.apply(only);
    expect(second.commands.map((c) => c.line)).toContain("rule add priority 10002 from 10.64.2.2/32 lookup 102 protocol 241");
    expect(second.repaired).toBe(1);
  });

  test("concurrent applies are serialized", async () => {
    const kernel = new FakeKernel();
    const r = new RoutingReconciler({ run: kernel.run, sysctl: fileSysctl(sysctlRoot()) });
    await Promise.all([r.apply(desired), r.apply(desired), r.apply([])]);
    // Each apply reads three things in parallel; serialized applies never exceed that.
    expect(kernel.maxInFlight).toBeLessThanOrEqual(3);
    expect(kernel.batches.length).toBe(3);
  });

  test("an ip failure rejects the apply with the error; the next apply still runs", async () => {
    const kernel = new FakeKernel();
    const r = new RoutingReconciler({ run: kernel.run, sysctl: fileSysctl(sysctlRoot()) });
    kernel.rules = "Error: not json";
    await expect(r.apply(desired)).rejects.toMatchObject({ code: "ROUTING_PARSE_FAILED" });
    kernel.rules = fx("ip-drift-rules.json");
    expect((await r.apply(desired)).commands.length).toBeGreaterThan(0);
  });
});

describe("parseBatchFailures", () => {
  test("maps 'Command failed -:N' to the preceding message and the input line", () => {
    const lines = ["a", "b", "c", "d"];
    const stderr = 'Cannot find device "nosuch"\nCommand failed -:2\nRTNETLINK answers: No such file or directory\nCommand failed -:4\n';
    expect(parseBatchFailures(stderr, lines)).toEqual([
      { index: 1, line: "b", message: 'Cannot find device "nosuch"' },
      { index: 3, line: "d", message: "RTNETLINK answers: No such file or directory" },
    ]);
    expect(parseBatchFailures("", lines)).toEqual([]);
  });
});
