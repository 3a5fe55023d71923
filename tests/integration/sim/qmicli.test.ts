/**
 * The lab qmicli: output formats of ec25.md §5, error formats, CID bookkeeping (leaks visible, a call dies with its
 * client), and the modem state it drives. Most runs go straight to the sim's executor (what the qmi socket calls);
 * the client side (argv forwarding, streams, exit status, device errors) runs as the real executable here and in
 * transcripts.test.ts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import { startSimLab, type SimLab } from "../../../src/sim/lab.ts";
import { runQmicli } from "../../../src/sim/qmi/exec.ts";
import { HostPort, runAsync } from "./host-port.ts";
import { isolateRegistry, removeRegistry } from "./lab-env.ts";

let registry: string;
let lab: SimLab;

beforeAll(async () => {
  registry = isolateRegistry("qmicli");
  lab = await startSimLab({ modems: 4, timeScale: 0.01, seed: 11, roamingShare: 0, timings: { qmiTimeoutMs: 20_000 } });
  await lab.ready();
});

afterAll(async () => {
  await lab?.stop();
  removeRegistry(registry);
});

const qmi = (i: number) => lab.list()[i]!.qmi!;
const qmicli = (i: number, ...args: string[]) => runQmicli(lab.modems[i]!, ["-d", qmi(i), ...args]);
const qmicliExe = (i: number, ...args: string[]) => runAsync([lab.info.qmicli, "-d", qmi(i), ...args]);

test("start-network → current settings → packet status → stop, exact formats", async () => {
  const dev = qmi(0);
  const start = await qmicliExe(0, "--wds-start-network=apn='internet',ip-type=4", "--client-no-release-cid");
  expect(start.code).toBe(0);
  expect(start.stderr).toBe("");
  expect(start.stdout).toMatch(new RegExp(
    `^\\[${dev}\\] Network started\\n\\tPacket data handle: '(\\d+)'\\n\\[${dev}\\] Client ID not released:\\n\\tService: 'wds'\\n\\t    CID: '(\\d+)'\\n$`,
  ));
  const pdh = /handle: '(\d+)'/.exec(start.stdout)![1]!;
  const cid = /CID: '(\d+)'/.exec(start.stdout)![1]!;
  const summary = lab.list()[0]!;
  expect(summary.state).toBe("connected");
  expect(summary.session).toMatchObject({ owner: `qmi:${cid}`, pdh: Number(pdh), apn: "internet" });
  expect(summary.qmi_clients.wds).toEqual([Number(cid)]);

  const settings = await qmicli(0, "--wds-get-current-settings", "--client-no-release-cid", `--client-cid=${cid}`);
  expect(settings.stdout).toStartWith([
    `[${dev}] Current settings retrieved:`,
    "           IP Family: IPv4",
    `        IPv4 address: ${summary.private_ip}`,
    "    IPv4 subnet mask: 255.255.255.248",
    "",
  ].join("\n"));
  expect(settings.stdout).toMatch(/\nIPv4 gateway address: \d+\.\d+\.\d+\.\d+\n    IPv4 primary DNS: [\d.]+\n  IPv4 secondary DNS: [\d.]+\n                 MTU: 1500\n             Domains: none\n/);
  expect(settings.stdout).toEndWith(`[${dev}] Client ID not released:\n\tService: 'wds'\n\t    CID: '${cid}'\n`);

  const status = await qmicli(0, "--wds-get-packet-service-status");
  expect(status.stdout).toBe(`[${dev}] Connection status: 'connected'\n`);

  // Stop with the wrong client: the call keeps running (the classic CID leak), InvalidHandle.
  const wrong = await qmicli(0, `--wds-stop-network=${pdh}`);
  expect(wrong.code).toBe(1);
  expect(wrong.stdout).toBe("Network cancelled... releasing resources\n");
  expect(wrong.stderr).toBe("error: couldn't stop network: QMI protocol error (9): 'InvalidHandle'\n");
  expect(lab.list()[0]!.state).toBe("connected");

  const stop = await qmicliExe(0, `--wds-stop-network=${pdh}`, `--client-cid=${cid}`);
  expect(stop).toEqual({ code: 0, stderr: "", stdout: `Network cancelled... releasing resources\n[${dev}] Network stopped\n` });
  expect(lab.list()[0]!.session).toBeNull();
  expect(lab.list()[0]!.qmi_clients.wds).toEqual([]);
  expect((await qmicli(0, "--wds-get-packet-service-status")).stdout).toBe(`[${dev}] Connection status: 'disconnected'\n`);
});

test("a second start on a running call is NoEffect; no settings without a call is OutOfCall", async () => {
  const first = await qmicli(1, "--wds-start-network=apn='internet',ip-type=4", "--client-no-release-cid");
  expect(first.code).toBe(0);
  const second = await qmicli(1, "--wds-start-network=apn='internet',ip-type=4", "--client-no-release-cid");
  expect(second.code).toBe(1);
  expect(second.stderr).toBe("error: couldn't start network: QMI protocol error (26): 'NoEffect'\n");
  // Both clients are now allocated: the leak is visible.
  expect(lab.list()[1]!.qmi_clients.wds).toHaveLength(2);
  const cid = /CID: '(\d+)'/.exec(first.stdout)![1]!;
  // Releasing the owning client ends the call (ec25.md §5.4).
  expect((await qmicli(1, "--wds-noop", `--client-cid=${cid}`)).code).toBe(0);
  await lab.waitFor(() => lab.list()[1]!.session === null, 2000, "call gone with its client");
  expect(lab.list()[1]!.qmi_clients.wds).toHaveLength(1);
  const settings = await qmicli(1, "--wds-get-current-settings");
  expect(settings.code).toBe(1);
  expect(settings.stderr).toBe("error: couldn't get current settings: QMI protocol error (15): 'OutOfCall'\n");
});

test("no SIM and no service: CallFailed with the call end reasons", async () => {
  await lab.ctl("2", "no-sim");
  const noSim = await qmicli(2, "--wds-start-network=apn='internet',ip-type=4", "--client-no-release-cid");
  expect(noSim.code).toBe(1);
  expect(noSim.stderr).toBe("error: couldn't start network: QMI protocol error (14): 'CallFailed'\n" +
    "call end reason (3): generic-no-service\nverbose call end reason (3,2504): [cm] invalid-sim-state\n");
  expect(noSim.stdout).toMatch(/Client ID not released:\n\tService: 'wds'\n\t    CID: '\d+'\n$/);
  await lab.ctl("2", "sim");
  await lab.waitFor(() => lab.modems[2]!.radio.simReady, 2000, "SIM initialised");
  await lab.ctl("2", "no-service");
  const noService = await qmicli(2, "--wds-start-network=apn='internet',ip-type=4");
  expect(noService.stderr).toBe("error: couldn't start network: QMI protocol error (14): 'CallFailed'\n" +
    "call end reason (3): generic-no-service\nverbose call end reason (3,2001): [cm] no-service\n");
  const signal = await qmicli(2, "--nas-get-signal-strength");
  expect(signal.stderr).toBe("error: couldn't get signal strength: QMI protocol error (74): 'InformationUnavailable'\n");
  await lab.ctl("2", "service");
  await lab.ready();
});

test("device information, signal, data format, -w, -e", async () => {
  const dev = qmi(3);
  const m = lab.list()[3]!;
  expect((await qmicli(3, "--dms-get-ids")).stdout).toBe(`[${dev}] Device IDs retrieved:\n\t    ESN: '0'\n\t   IMEI: '${m.imei}'\n\t   MEID: 'unknown'\n`);
  expect((await qmicli(3, "--dms-get-manufacturer")).stdout).toBe(`[${dev}] Device manufacturer retrieved:\n\tManufacturer: 'QUALCOMM INCORPORATED'\n`);
  expect((await qmicli(3, "--dms-get-model")).stdout).toBe(`[${dev}] Device model retrieved:\n\tModel: 'QUECTEL Mobile Broadband Module'\n`);
  expect((await qmicli(3, "--dms-get-revision")).stdout).toBe(`[${dev}] Device revision retrieved:\n\tRevision: '${lab.modems[3]!.firmware}'\n`);
  const sig = (await qmicli(3, "--nas-get-signal-strength")).stdout;
  expect(sig).toMatch(new RegExp(`^\\[${dev}\\] Successfully got signal strength\\nCurrent:\\n\\tNetwork 'lte': '-\\d+ dBm'\\nRSSI:\\n`));
  expect(sig).toMatch(/\nSINR \(\d\): '-?\d+\.\d dB'\nRSRQ:\n\tNetwork 'lte': '-\d+ dB'\nSNR:\n\tNetwork 'lte': '-?\d+\.\d dB'\nRSRP:\n\tNetwork 'lte': '-\d+ dBm'\n$/);
  expect((await qmicli(3, "--wda-get-data-format")).stdout).toStartWith(`[${dev}] Successfully got data format\n                   QoS flow header: no\n               Link layer protocol: 'raw-ip'\n`);
  expect((await qmicli(3, "-w")).stdout).toBe(`${m.ifname}\n`);
  expect((await qmicli(3, "-e")).stdout).toBe("802-3\n");
  expect((await qmicli(3, "--set-expected-data-format=raw-ip")).stdout).toBe(`[${dev}] expected data format set to: raw-ip\n`);
  expect((await qmicli(3, "-e")).stdout).toBe("raw-ip\n");
  const sysfsRawIp = `${lab.info.sysfsRoot}/class/net/${m.ifname}/qmi/raw_ip`;
  expect(fs.readFileSync(sysfsRawIp, "utf8")).toBe("Y\n");
  // DMS/NAS/WDA clients were released at exit: nothing leaked.
  const clients = lab.list()[3]!.qmi_clients;
  expect([...clients.dms, ...clients.nas, ...clients.wda]).toEqual([]);
});

test("bad input: unknown option, no device, missing device, bad CID", async () => {
  const unknown = await qmicliExe(3, "--wds-frobnicate");
  expect(unknown).toMatchObject({ code: 1, stderr: "error: Unknown option --wds-frobnicate\n" });
  const noDevice = await runAsync([lab.info.qmicli, "--dms-get-ids"]);
  expect(noDevice).toMatchObject({ code: 1, stderr: "error: no device path specified\n" });
  const missing = await runAsync([lab.info.qmicli, "-d", "/nonexistent/cdc-wdm9", "--dms-get-ids"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe("error: couldn't create QmiDevice: Couldn't query file info: Error when getting information for file \u201c/nonexistent/cdc-wdm9\u201d: No such file or directory\n");
  const badCid = await qmicli(3, "--wds-noop", "--client-cid=0");
  expect(badCid).toMatchObject({ code: 1, stderr: "error: invalid CID given '0'\n" });
  const twoServices = await qmicli(3, "--dms-get-ids", "--nas-get-signal-strength");
  expect(twoServices.stderr).toBe("error: cannot execute multiple actions of different services\n");
});

test("a hung modem makes qmicli time out; --dms-set-operating-mode=reset reboots the modem", async () => {
  await lab.ctl("3", "hang");
  const hung = await qmicliExe(3, "--dms-get-ids");
  expect(hung.code).toBe(1);
  expect(hung.stderr).toBe("error: couldn't create client for the 'dms' service: CID allocation failed in the CTL client: Transaction timed out\n");
  await lab.ctl("3", "clear");
  const m = lab.list()[3]!;
  const port = new HostPort(m.at!);
  try {
    const dev = qmi(3);
    const reset = await qmicli(3, "--dms-set-operating-mode=reset");
    expect(reset.stdout).toBe(`[${dev}] Operating mode set successfully\n`);
    await port.ended; // every port of the modem went away
    await lab.waitFor(() => fs.existsSync(m.qmi!), 5000, "qmi back");
    expect(lab.list()[3]!.usb).toBe("attached");
  } finally {
    await port.close();
  }
});
