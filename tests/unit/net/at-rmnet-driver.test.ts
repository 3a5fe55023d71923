import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppError } from "../../../src/lib/errors.ts";
import { run } from "../../../src/lib/exec.ts";
import { AtRmnetDriver } from "../../../src/net/data-connection/at-rmnet-driver.ts";
import type { DataModem } from "../../../src/net/data-connection/types.ts";
import { ensureUdhcpcScript, parseLeaseOutput, UDHCPC_SCRIPT } from "../../../src/net/data-connection/udhcpc.ts";
import { IpCommand } from "../../../src/net/ip-command.ts";
import { FakeIp, ScriptedAt } from "./helpers/fake-tools.ts";

const dir = mkdtempSync(join(tmpdir(), "lteproxy-rmnet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * udhcpc stand-in: runs the driver's lease script the way busybox does (deconfig, then bound with the lease in the
 * environment). With a file "nolease" next to it, it fails like `udhcpc -n` without an answer.
 */
const fakeUdhcpc = join(dir, "udhcpc");
writeFileSync(fakeUdhcpc, `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -s) S="$2"; shift;; -i) I="$2"; shift;; esac; shift; done
echo "udhcpc: started, v1.35.0" >&2
"$S" deconfig
if [ -f "$(dirname "$0")/nolease" ]; then echo "udhcpc: no lease, failing" >&2; exit 1; fi
echo "udhcpc: lease of 10.64.9.13 obtained, lease time 3600" >&2
interface="$I" ip=10.64.9.13 subnet=255.255.255.248 router="10.64.9.9" dns="10.64.9.9 10.64.9.10" mtu=1430 lease=3600 "$S" bound
`);
chmodSync(fakeUdhcpc, 0o755);

let ip: FakeIp;
let at: ScriptedAt;
let callUp: boolean;
let driver: AtRmnetDriver;

beforeEach(() => {
  rmSync(join(dir, "nolease"), { force: true });
  ip = new FakeIp();
  callUp = false;
  at = new ScriptedAt({
    "AT$QCRMCALL?": () => ({ lines: callUp ? ["$QCRMCALL: 1,V4"] : [] }),
    "AT$QCRMCALL=1,1": () => { callUp = true; return { lines: ["$QCRMCALL: 1,V4"] }; },
    "AT$QCRMCALL=0,1": () => { callUp = false; return {}; },
  });
  driver = new AtRmnetDriver({ runtimeDir: join(dir, "run"), udhcpc: fakeUdhcpc, ip: new IpCommand({ run: ip.run }), now: () => 99 });
});

const modem = (): DataModem => ({ imei: "860000000000002", ifname: "wwan1", at, apn: "internet", ipType: 4 });

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try { await p; } catch (e) { return e as AppError; }
  throw new Error("expected a rejection");
}

describe("at-rmnet driver", () => {
  test("start: AT$QCRMCALL=1,1, DHCP through the lease script, then the same interface steps as qmi", async () => {
    const session = await driver.start(modem());
    expect(session).toEqual({
      imei: "860000000000002", ifname: "wwan1", address: "10.64.9.13", prefix: 29, gateway: "10.64.9.9",
      dns: ["10.64.9.9", "10.64.9.10"], mtu: 1430, driver: "at-rmnet", startedAt: 99,
    });
    expect(at.sent).toEqual(["AT$QCRMCALL?", "AT$QCRMCALL=1,1"]);
    expect(ip.lines()).toEqual([
      "ip link set dev wwan1 up",
      "ip addr replace 10.64.9.13/29 dev wwan1",
      "ip -json addr show dev wwan1",
      "ip link set dev wwan1 mtu 1430 up",
    ]);
  });

  test("a call that is already up is reused, not started twice", async () => {
    callUp = true;
    await driver.start(modem());
    expect(at.sent).toEqual(["AT$QCRMCALL?"]);
  });

  test("a refused call is AT_RMNET_CALL_FAILED and DHCP is not tried", async () => {
    at.replies["AT$QCRMCALL=1,1"] = { final: "+CME ERROR: 30" };
    const e = await rejection(driver.start(modem()));
    expect(e.code).toBe("AT_RMNET_CALL_FAILED");
    expect(e.message).toContain("+CME ERROR: 30");
    expect(ip.calls).toEqual([]);
  });

  test("no DHCP lease is DHCP_NO_LEASE and the call is ended again", async () => {
    writeFileSync(join(dir, "nolease"), "");
    const e = await rejection(driver.start(modem()));
    expect(e.code).toBe("DHCP_NO_LEASE");
    expect(e.message).toContain("no lease, failing");
    expect(at.sent.at(-1)).toBe("AT$QCRMCALL=0,1");
    expect(callUp).toBe(false);
  });

  test("stop: AT$QCRMCALL=0,1 and the address flushed; status follows AT$QCRMCALL?", async () => {
    const session = await driver.start(modem());
    expect(await driver.status(session)).toBe("connected");
    await driver.stop(session);
    expect(at.sent.slice(-1)).toEqual(["AT$QCRMCALL=0,1"]);
    expect(ip.lines().at(-1)).toBe("ip -4 addr flush dev wwan1");
    // After stop the driver forgets the channel; with atFor it can still ask.
    expect(await driver.status(session)).toBe("disconnected");
    const again = new AtRmnetDriver({ runtimeDir: join(dir, "run"), ip: new IpCommand({ run: ip.run }), atFor: () => at });
    expect(await again.status(session)).toBe("disconnected");
  });

  test("stop answering ERROR while no call is up is not a failure; with the call still up it is", async () => {
    const session = await driver.start(modem());
    at.replies["AT$QCRMCALL=0,1"] = { final: "ERROR" };
    const e = await rejection(driver.stop(session));
    expect(e.code).toBe("AT_RMNET_STOP_FAILED");
    callUp = false;
    await driver.start(modem());
    callUp = false;
    await driver.stop(session);
  });
});

describe("udhcpc lease script", () => {
  test("written once, executable, in the runtime dir", async () => {
    const path = await ensureUdhcpcScript(join(dir, "run2"));
    expect(statSync(path).mode & 0o777).toBe(0o755);
    const mtime = statSync(path).mtimeMs;
    await Bun.sleep(5);
    expect(await ensureUdhcpcScript(join(dir, "run2"))).toBe(path);
    expect(statSync(path).mtimeMs).toBe(mtime);
  });

  test("hostile option values cannot break the JSON line", async () => {
    const path = await ensureUdhcpcScript(join(dir, "run3"));
    const res = await run([path, "bound"], {
      env: { interface: "wwan1", ip: "10.0.0.2", subnet: "255.255.255.0", router: '10.0.0.1"},"ip":"6.6.6.6', dns: "1.1.1.1\\ 2.2.2.2", mtu: "1500;", lease: "60" },
    });
    const lease = parseLeaseOutput(res.stdout);
    expect(lease?.address).toBe("10.0.0.2");
    expect(lease?.dns).toEqual(["1.1.1.1", "2.2.2.2"]);
    const raw = JSON.parse(res.stdout.replace("LTEPROXY_LEASE ", "")) as Record<string, string>;
    expect(raw.ip).toBe("10.0.0.2");
    expect(raw.router).toBe("10.0.0.1ip:6.6.6.6");
    expect(lease?.mtu).toBe(1500);
    expect(lease?.gateway).toBeUndefined();
    expect((await run([path, "deconfig"])).stdout).toBe("");
    expect(UDHCPC_SCRIPT.startsWith("#!/bin/sh\n")).toBe(true);
  });

  test("lease output parsing rejects incomplete or bad leases", () => {
    const line = (o: Record<string, string>) => `LTEPROXY_LEASE ${JSON.stringify(o)}\n`;
    expect(parseLeaseOutput("")).toBeNull();
    expect(parseLeaseOutput("LTEPROXY_LEASE {broken")).toBeNull();
    expect(parseLeaseOutput(line({ ip: "10.0.0.2", subnet: "255.0.255.0" }))).toBeNull();
    expect(parseLeaseOutput(line({ ip: "10.0.0.2" }))).toBeNull();
    expect(parseLeaseOutput(line({ ip: "10.0.0.2", subnet: "255.255.255.255", router: "", dns: "", mtu: "" }))).toEqual({
      address: "10.0.0.2", prefix: 32, gateway: undefined, dns: [], mtu: undefined, leaseSeconds: undefined,
    });
  });
});
