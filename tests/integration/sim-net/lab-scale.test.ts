/**
 * 100 modems: the lab builds, all data calls come up at once (one carrier batch, not 100 process trios), and a sample
 * of links gets real leases and its own public IP. Timing is measured in bench/lab-network.ts, not asserted here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/lib/exec.ts";
import { canBuildLab, createLabNetwork, type LabNetwork, newLabId, readDhcpLog } from "../../../src/sim/net/index.ts";
import { dhcp, echoIp, inNs, readLease, routeModem, writeUdhcpcScript } from "./lab-helpers.ts";

const ROOT = canBuildLab();
if (!ROOT) console.warn("[sim-net] skipping lab-scale test: it needs root and iproute2 (ip netns, veth)");

describe.skipIf(!ROOT)("lab network at 100 modems", () => {
  let tmp: string;
  let lab: LabNetwork;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "sim-net-100-"));
    lab = createLabNetwork("lab", { labId: newLabId("s"), runDir: tmp });
  });

  afterAll(async () => {
    await lab?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  test("builds 100 links and brings 100 sessions up with distinct public IPs", async () => {
    await lab.setup(100);
    const info = lab.info();
    const links = JSON.parse((await inNs(info.boxNs!, ["ip", "-j", "link"])).stdout) as Array<{ ifname: string }>;
    expect(links.filter((l) => /^wwan\d+$/.test(l.ifname)).length).toBe(100);

    const sessions = await Promise.all(Array.from({ length: 100 }, (_, i) => lab.sessionUp(i, { sticky: false })));
    expect(new Set(sessions.map((s) => s.publicIp)).size).toBe(100);
    expect(new Set(sessions.map((s) => s.privateIp)).size).toBe(100);
    const map = (await run(["ip", "netns", "exec", info.carrierNs!, "nft", "-j", "list", "map", "ip", "ltpx", "snat4"])).stdout;
    for (const s of sessions) expect(map).toContain(`"${s.publicIp}"`);

    const script = writeUdhcpcScript(tmp);
    for (const i of [0, 57, 99]) {
      const s = sessions[i]!;
      const r = await dhcp(info.boxNs!, `wwan${i}`, script);
      expect(r.code).toBe(0);
      expect(readLease(tmp, `wwan${i}`).ip).toBe(s.privateIp);
      await routeModem(info.boxNs!, { ifname: `wwan${i}`, ip: s.privateIp, table: 300 + i });
      expect((await echoIp(info.boxNs!, info.echoUrl!, s.privateIp)).stdout.trim()).toBe(s.publicIp);
    }
    expect(readDhcpLog(info.dnsLogPath).filter((e) => e.event === "DHCPACK").map((e) => e.iface)).toEqual(["m0", "m57", "m99"]);
  }, 120_000);
});

describe.skipIf(!ROOT)("lab network growth", () => {
  test("setup(n) again with more modems adds links and keeps live sessions", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "sim-net-grow-"));
    const lab = createLabNetwork("lab", { labId: newLabId("s"), runDir: tmp });
    try {
      await lab.setup(2);
      const first = await lab.sessionUp(1, { sticky: false });
      await lab.setup(2); // same count: nothing to do
      await lab.setup(4);
      const info = lab.info();
      const script = writeUdhcpcScript(tmp);
      const added = await lab.sessionUp(3, { sticky: false });
      expect((await dhcp(info.boxNs!, "wwan3", script)).code).toBe(0);
      expect(readLease(tmp, "wwan3").ip).toBe(added.privateIp);
      // The session from before the growth still gets its lease from the restarted dnsmasq.
      expect((await dhcp(info.boxNs!, "wwan1", script)).code).toBe(0);
      expect(readLease(tmp, "wwan1").ip).toBe(first.privateIp);
      expect(lab.session?.(1)).toEqual(first);
    } finally {
      await lab.destroy();
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
