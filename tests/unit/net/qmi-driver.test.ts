import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError, hasCode } from "../../../src/lib/errors.ts";
import { IpCommand } from "../../../src/net/ip-command.ts";
import { QmiDriver } from "../../../src/net/data-connection/qmi-driver.ts";
import type { DataModem } from "../../../src/net/data-connection/types.ts";
import { FakeIp, FakeQmicli } from "./helpers/fake-tools.ts";

const modem: DataModem = { imei: "860000000000001", ifname: "wwan0", qmiPath: "/dev/cdc-wdm0", apn: "internet", ipType: 4 };

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try { await p; } catch (e) { return e as AppError; }
  throw new Error("expected a rejection");
}

let qmi: FakeQmicli;
let ip: FakeIp;
let driver: QmiDriver;

beforeEach(() => {
  qmi = new FakeQmicli();
  ip = new FakeIp();
  driver = new QmiDriver({ qmicli: qmi.path, ip: new IpCommand({ run: ip.run }), now: () => 1234 });
});
afterEach(() => qmi.cleanup());

describe("qmi driver against a qmicli that prints the reference output", () => {
  test("start: raw-ip, start with --client-no-release-cid, settings with the kept CID, address on the interface", async () => {
    const session = await driver.start(modem);
    expect(session).toEqual({
      imei: modem.imei, ifname: "wwan0", qmiPath: "/dev/cdc-wdm0", address: "100.99.101.156", prefix: 29,
      gateway: "100.99.101.157", dns: ["210.200.211.225", "210.200.211.193"], mtu: 1500, pdh: 2267587312, cid: 19,
      driver: "qmi", startedAt: 1234,
    });
    expect(qmi.calls()).toEqual([
      "-d /dev/cdc-wdm0 --set-expected-data-format=raw-ip",
      "-d /dev/cdc-wdm0 --wds-start-network=apn='internet',ip-type=4 --client-no-release-cid",
      "-d /dev/cdc-wdm0 --wds-get-current-settings --client-cid=19 --client-no-release-cid",
    ]);
    expect(ip.lines()).toEqual([
      "ip link set dev wwan0 down",
      "ip addr replace 100.99.101.156/29 dev wwan0",
      "ip -json addr show dev wwan0",
      "ip link set dev wwan0 mtu 1500 up",
    ]);
    // The routing reconciler owns routes; the driver must not add one.
    expect(ip.lines().some((l) => l.includes("route"))).toBe(false);
  });

  test("an old address of a previous session is removed after the new one is in place", async () => {
    ip.addresses = [{ local: "10.1.1.1", prefixlen: 30 }, { local: "100.99.101.156", prefixlen: 29 }];
    await driver.start(modem);
    const lines = ip.lines();
    expect(lines).toContain("ip addr del 10.1.1.1/30 dev wwan0");
    expect(lines.indexOf("ip addr replace 100.99.101.156/29 dev wwan0")).toBeLessThan(lines.indexOf("ip addr del 10.1.1.1/30 dev wwan0"));
    expect(lines).not.toContain("ip addr del 100.99.101.156/29 dev wwan0");
  });

  test("stop uses the same PDH and CID, then removes the address", async () => {
    const session = await driver.start(modem);
    await driver.stop(session);
    expect(qmi.calls().at(-1)).toBe("-d /dev/cdc-wdm0 --wds-stop-network=2267587312 --client-cid=19");
    expect(ip.lines().at(-1)).toBe("ip -4 addr flush dev wwan0");
  });

  test("status follows --wds-get-packet-service-status with the kept CID", async () => {
    const session = await driver.start(modem);
    expect(await driver.status(session)).toBe("connected");
    expect(qmi.calls().at(-1)).toBe("-d /dev/cdc-wdm0 --wds-get-packet-service-status --client-cid=19 --client-no-release-cid");
    qmi.respond("wds-get-packet-service-status", { outFixture: "qmicli-status-disconnected.out" });
    expect(await driver.status(session)).toBe("disconnected");
    qmi.respond("wds-get-packet-service-status", { err: "error: couldn't get packet service status: Transaction timed out\n", rc: 1 });
    expect(await driver.status(session)).toBe("disconnected");
  });

  test("CallFailed gives QMI_CALL_FAILED with the call end reason, and the leaked CID is released", async () => {
    qmi.respond("wds-start-network", {
      errFixture: "qmicli-start-callfailed.err", rc: 1,
      out: "[/dev/cdc-wdm0] Client ID not released:\n\tService: 'wds'\n\t    CID: '23'\n",
    });
    const e = await rejection(driver.start(modem));
    expect(e.code).toBe("QMI_CALL_FAILED");
    expect(e.message).toContain("call end reason generic-no-service (3)");
    expect(e.message).toContain("[cm] invalid-sim-state (3,2504)");
    expect(e.details).toMatchObject({
      imei: modem.imei, protocolErrorCode: 14, protocolErrorName: "CallFailed", callEndReason: { code: 3, name: "generic-no-service" },
      verboseCallEndReason: { type: 3, reason: 2504, domain: "cm", name: "invalid-sim-state" },
    });
    expect(qmi.calls().at(-1)).toBe("-d /dev/cdc-wdm0 --wds-noop --client-cid=23");
    expect(ip.lines().some((l) => l.includes("addr replace"))).toBe(false);
  });

  test("other start failures have their own codes", async () => {
    qmi.respond("wds-start-network", { errFixture: "qmicli-start-noeffect.err", rc: 1 });
    expect((await rejection(driver.start(modem))).code).toBe("QMI_NO_EFFECT");
    qmi.respond("wds-start-network", { errFixture: "qmicli-start-error64.err", rc: 1 });
    const e64 = await rejection(driver.start(modem));
    expect(e64.code).toBe("QMI_PROTOCOL_ERROR_64");
    expect(e64.details?.protocolErrorCode).toBe(64);
    qmi.respond("wds-start-network", { err: "error: couldn't open the QmiDevice: Transaction timed out\n", rc: 1 });
    expect((await rejection(driver.start(modem))).code).toBe("QMI_TIMEOUT");
    qmi.respond("wds-start-network", { err: "Segmentation fault\n", rc: 139 });
    expect((await rejection(driver.start(modem))).code).toBe("QMI_FAILED");
    qmi.respond("wds-start-network", { out: "garbage\x00\x01\n" });
    expect((await rejection(driver.start(modem))).code).toBe("QMI_UNEXPECTED_OUTPUT");
  });

  test("a settings failure stops the session it started", async () => {
    qmi.respond("wds-get-current-settings", { out: "[/dev/cdc-wdm0] Current settings retrieved:\n           IP Family: IPv4\n" });
    const e = await rejection(driver.start(modem));
    expect(e.code).toBe("QMI_NO_ADDRESS");
    expect(qmi.calls()).toContain("-d /dev/cdc-wdm0 --wds-stop-network=2267587312 --client-cid=19");
  });

  test("stop that fails falls back to releasing the CID; only when both fail does it throw", async () => {
    const session = await driver.start(modem);
    qmi.respond("wds-stop-network", { err: "error: couldn't stop network: QMI protocol error (3): 'Internal'\n", rc: 1 });
    await driver.stop(session);
    expect(qmi.calls().at(-1)).toBe("-d /dev/cdc-wdm0 --wds-noop --client-cid=19");
    qmi.respond("wds-noop", { err: "error: couldn't release client: Transaction timed out\n", rc: 1 });
    const e = await rejection(driver.stop(session));
    expect(e.code).toBe("QMI_INTERNAL");
    expect(ip.lines().filter((l) => l === "ip -4 addr flush dev wwan0").length).toBe(2);
  });

  test("the APN password never appears in an error", async () => {
    qmi.respond("wds-start-network", { errFixture: "qmicli-start-callfailed.err", rc: 1 });
    const e = await rejection(driver.start({ ...modem, username: "u", password: "s3cret-pw", auth: "chap" }));
    expect(qmi.calls()[1]).toContain("username='u',password='s3cret-pw',auth=chap");
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain("s3cret-pw");
    const slow = new QmiDriver({ qmicli: ["sh", "-c", "exec sleep 5", "qmicli"], ip: new IpCommand({ run: ip.run }), dataFormat: "none", startTimeoutMs: 200 });
    const t = await rejection(slow.start({ ...modem, password: "s3cret-pw" }));
    expect(t.code).toBe("QMI_TIMEOUT");
    expect(JSON.stringify({ m: t.message, d: t.details })).not.toContain("s3cret-pw");
  });

  test("bad modem input is refused before anything runs", async () => {
    for (const bad of [
      { ...modem, apn: "internet',ip-type=6" },
      { ...modem, qmiPath: undefined },
      { ...modem, ifname: "wwan0; reboot" },
      { ...modem, password: "a,b" },
    ]) {
      expect((await rejection(driver.start(bad))).code).toBe("DATA_INVALID_MODEM");
    }
    expect((await rejection(driver.start({ ...modem, ipType: 6 }))).code).toBe("DATA_IPTYPE_UNSUPPORTED");
    expect(qmi.calls()).toEqual([]);
  });

  test("a missing qmicli is QMI_EXEC_FAILED", async () => {
    const d = new QmiDriver({ qmicli: "/nonexistent/qmicli", ip: new IpCommand({ run: ip.run }) });
    expect(hasCode(await rejection(d.start(modem)), "QMI_EXEC_FAILED")).toBe(true);
  });
});

describe("qmi driver, raw-ip through sysfs", () => {
  let root: string;
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), "lteproxy-sysfs-")); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("N becomes Y with the interface down; Y is left alone; no qmi/raw_ip is an error", async () => {
    const dir = join(root, "class/net/wwan0/qmi");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "raw_ip"), "N\n");
    const d = new QmiDriver({ qmicli: qmi.path, ip: new IpCommand({ run: ip.run }), dataFormat: "sysfs", sysfsRoot: root });
    await d.start(modem);
    expect(readFileSync(join(dir, "raw_ip"), "utf8").trim()).toBe("Y");
    expect(ip.lines()[0]).toBe("ip link set dev wwan0 down");
    expect(qmi.calls().some((c) => c.includes("set-expected-data-format"))).toBe(false);

    ip.calls.length = 0;
    await d.start(modem);
    expect(ip.lines()[0]).toBe("ip addr replace 100.99.101.156/29 dev wwan0");

    const e = await rejection(d.start({ ...modem, ifname: "wwan1" }));
    expect(e.code).toBe("QMI_NO_RAW_IP");
  });
});
