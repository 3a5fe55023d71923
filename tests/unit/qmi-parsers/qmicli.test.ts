import { describe, expect, test } from "bun:test";
import {
  netmaskToPrefix,
  parseQmiCurrentSettings,
  parseQmiDataFormat,
  parseQmiDeviceIds,
  parseQmiError,
  parseQmiExpectedDataFormat,
  parseQmiManufacturer,
  parseQmiModel,
  parseQmiPacketServiceStatus,
  parseQmiRevision,
  parseQmiSignalStrength,
  parseQmiStartNetwork,
  parseQmiStopNetwork,
  parseQmiWwanIface,
} from "../../../src/net/qmi/parsers.ts";
import { okValue } from "../parsers/expect-ok.ts";
import { quote, quoteBlock } from "../parsers/transcript-lines.ts";

const T05 = "05_jeffgeerling_ec25a_qmi_and_ecm_session.txt";
const T16 = "16_sixfab_cellulariot1_qmi_network_error64.txt";
const T26 = "26_sswroom_telit_ln940_qmicli_full_session.txt";

describe("start-network", () => {
  test("EC25-A [T 05]", () => {
    // 05_jeffgeerling_ec25a_qmi_and_ecm_session.txt (TABs are real)
    const out = quoteBlock(T05, "[/dev/cdc-wdm0] Network started\n\tPacket data handle: '2267587312'\n[/dev/cdc-wdm0] Client ID not released:\n\tService: 'wds'\n\t    CID: '19'");
    expect(okValue(parseQmiStartNetwork(out))).toEqual({ started: true, device: "/dev/cdc-wdm0", packetDataHandle: 2267587312, cid: 19 });
  });
  test("LN940 full session [T 26]", () => {
    // 26_sswroom_telit_ln940_qmicli_full_session.txt
    const out = quoteBlock(T26, "[/dev/cdc-wdm1] Network started\n\tPacket data handle: '744952640'\n[/dev/cdc-wdm1] Client ID not released:\n\tService: 'wds'\n\t    CID: '21'");
    expect(okValue(parseQmiStartNetwork(`${out}\n`))).toEqual({ started: true, device: "/dev/cdc-wdm1", packetDataHandle: 744952640, cid: 21 });
  });
  test("without --client-no-release-cid there is no CID", () => {
    expect(okValue(parseQmiStartNetwork("[/dev/cdc-wdm0] Network started\n\tPacket data handle: '1'\n"))).toEqual({
      started: true,
      device: "/dev/cdc-wdm0",
      packetDataHandle: 1,
      cid: null,
    });
  });
  test("CallFailed with call end reasons (ec25.md §5.4)", () => {
    const stderr =
      "error: couldn't start network: QMI protocol error (14): 'CallFailed'\ncall end reason (3): generic-no-service\nverbose call end reason (3,2504): [cm] invalid-sim-state\n";
    expect(okValue(parseQmiStartNetwork("", stderr))).toEqual({
      started: false,
      error: {
        code: "QMI_CALL_FAILED",
        message: "couldn't start network: QMI protocol error (14): 'CallFailed'",
        context: "couldn't start network",
        protocolErrorCode: 14,
        protocolErrorName: "CallFailed",
        callEndReason: { code: 3, name: "generic-no-service" },
        verboseCallEndReason: { type: 3, reason: 2504, domain: "cm", name: "invalid-sim-state" },
      },
    });
  });
  test("old libqmi '(null)' name [T 16]", () => {
    // 16_sixfab_cellulariot1_qmi_network_error64.txt
    const line = quote(T16, "error: couldn't start network: QMI protocol error (64): '(null)'");
    const v = okValue(parseQmiStartNetwork("", line));
    expect(v.started).toBe(false);
    if (!v.started) expect(v.error).toMatchObject({ code: "QMI_PROTOCOL_ERROR_64", protocolErrorCode: 64, protocolErrorName: null, callEndReason: null });
  });
  test("quoted call end reason (ModemManager style) and NoEffect", () => {
    const e = okValue(parseQmiError("error: couldn't start network: QMI protocol error (14): 'CallFailed'\ncall end reason (1): 'generic-unspecified'"));
    expect(e.callEndReason).toEqual({ code: 1, name: "generic-unspecified" });
    expect(okValue(parseQmiError("error: couldn't start network: QMI protocol error (26): 'NoEffect'")).code).toBe("QMI_NO_EFFECT");
  });
  test("unrecognised output fails", () => {
    expect(parseQmiStartNetwork("hello", "").ok).toBe(false);
    expect(parseQmiStartNetwork("[/dev/cdc-wdm0] Network started\n").ok).toBe(false); // no handle
  });
});

describe("parseQmiError", () => {
  test.each([
    ["error: couldn't get ICCID: QMI protocol error (94): 'NotSupported'", "QMI_NOT_SUPPORTED", "couldn't get ICCID"],
    ["error: operation failed: Transaction timed out", "QMI_TIMEOUT", "operation failed"],
    ["error: couldn't open the QmiDevice: Couldn't open the QmiDevice: No such file", "QMI_DEVICE_OPEN_FAILED", "couldn't open the QmiDevice"],
    ["error: no device path specified", "QMI_ERROR", null],
    ["error: couldn't start network: QMI protocol error (79): 'PolicyMismatch'", "QMI_POLICY_MISMATCH", "couldn't start network"],
  ])("%p", (stderr, code, context) => {
    const e = okValue(parseQmiError(stderr));
    expect(e.code).toBe(code);
    expect(e.context).toBe(context);
  });
  test("no error line", () => {
    expect(parseQmiError("").ok).toBe(false);
    expect(parseQmiError("all good").ok).toBe(false);
  });
});

describe("get-current-settings", () => {
  test("IPv4 [T 26]", () => {
    // 26_sswroom_telit_ln940_qmicli_full_session.txt
    const out = quoteBlock(
      T26,
      [
        "[/dev/cdc-wdm1] Current settings retrieved:",
        "           IP Family: IPv4",
        "        IPv4 address: 100.99.101.156",
        "    IPv4 subnet mask: 255.255.255.248",
        "IPv4 gateway address: 100.99.101.157",
        "    IPv4 primary DNS: 210.200.211.225",
        "  IPv4 secondary DNS: 210.200.211.193",
        "                 MTU: 1500",
        "             Domains: none",
        "[/dev/cdc-wdm1] Client ID not released:",
        "\tService: 'wds'",
        "\t    CID: '21'",
      ].join("\n"),
    );
    expect(okValue(parseQmiCurrentSettings(out))).toEqual({
      device: "/dev/cdc-wdm1",
      ipFamily: "IPv4",
      ipv4: { address: "100.99.101.156", subnetMask: "255.255.255.248", prefixLength: 29, gateway: "100.99.101.157", dns: ["210.200.211.225", "210.200.211.193"] },
      ipv6: null,
      mtu: 1500,
      domains: [],
      cid: 21,
    });
  });
  test("IPv6 lines and domains (libqmi formats, ec25.md §5.4)", () => {
    const out = [
      "[/dev/cdc-wdm0] Current settings retrieved:",
      "           IP Family: IPv6",
      "        IPv6 address: 2a01:598:a1:1234::1/64",
      "IPv6 gateway address: 2a01:598:a1:1234::2/64",
      "    IPv6 primary DNS: 2a01:598:7ff:0:10:74:210:221",
      "  IPv6 secondary DNS: 2a01:598:7ff:0:10:74:210:222",
      "                 MTU: 1430",
      "             Domains: example.net, mnc001.mcc262.gprs",
    ].join("\n");
    expect(okValue(parseQmiCurrentSettings(out))).toEqual({
      device: "/dev/cdc-wdm0",
      ipFamily: "IPv6",
      ipv4: null,
      ipv6: {
        address: "2a01:598:a1:1234::1",
        prefixLength: 64,
        gateway: "2a01:598:a1:1234::2",
        gatewayPrefixLength: 64,
        dns: ["2a01:598:7ff:0:10:74:210:221", "2a01:598:7ff:0:10:74:210:222"],
      },
      mtu: 1430,
      domains: ["example.net", "mnc001.mcc262.gprs"],
      cid: null,
    });
  });
  test("partial output: address only", () => {
    const v = okValue(parseQmiCurrentSettings("[/dev/cdc-wdm0] Current settings retrieved:\n        IPv4 address: 10.0.0.2\n"));
    expect(v.ipv4).toEqual({ address: "10.0.0.2", subnetMask: null, prefixLength: null, gateway: null, dns: [] });
    expect(v.mtu).toBeNull();
  });
  test("errors and garbage", () => {
    const r = parseQmiCurrentSettings("", "error: couldn't get current settings: QMI protocol error (15): 'OutOfCall'");
    expect(!r.ok && r.error).toContain("OutOfCall");
    expect(parseQmiCurrentSettings("[/dev/cdc-wdm0] Current settings retrieved:\n        IPv4 address: 999.1.1.1\n").ok).toBe(false);
    expect(parseQmiCurrentSettings("random").ok).toBe(false);
  });
  test("netmaskToPrefix", () => {
    expect(netmaskToPrefix("255.255.255.248")).toBe(29);
    expect(netmaskToPrefix("255.255.255.255")).toBe(32);
    expect(netmaskToPrefix("0.0.0.0")).toBe(0);
    expect(netmaskToPrefix("255.0.255.0")).toBeNull();
    expect(netmaskToPrefix("nope")).toBeNull();
  });
});

describe("packet service status / stop-network", () => {
  test("status", () => {
    expect(okValue(parseQmiPacketServiceStatus("[/dev/cdc-wdm0] Connection status: 'connected'\n"))).toEqual({
      device: "/dev/cdc-wdm0",
      status: "connected",
      connected: true,
    });
    expect(okValue(parseQmiPacketServiceStatus("[/dev/cdc-wdm0] Connection status: 'disconnected'")).connected).toBe(false);
    expect(parseQmiPacketServiceStatus("Connection status").ok).toBe(false);
  });
  test("stop [T 26]", () => {
    // 26_sswroom_telit_ln940_qmicli_full_session.txt
    const out = quoteBlock(T26, "Network cancelled... releasing resources\n[/dev/cdc-wdm1] Network stopped");
    expect(okValue(parseQmiStopNetwork(out))).toEqual({ stopped: true, device: "/dev/cdc-wdm1" });
  });
  test("stop failure is a value", () => {
    const v = okValue(parseQmiStopNetwork("Network cancelled... releasing resources\n", "error: couldn't stop network: QMI protocol error (1): 'MalformedMessage'"));
    expect(v.stopped).toBe(false);
    if (!v.stopped) expect(v.error.code).toBe("QMI_MALFORMED_MESSAGE");
    expect(parseQmiStopNetwork("").ok).toBe(false);
  });
});

describe("DMS", () => {
  test("get-ids (ec25.md §5.1)", () => {
    const out = "[/dev/cdc-wdm0] Device IDs retrieved:\n\t    ESN: '0'\n\t   IMEI: '864394041083561'\n\t   MEID: 'unknown'\n";
    expect(okValue(parseQmiDeviceIds(out))).toEqual({ esn: "0", imei: "864394041083561", meid: null, imeiSv: null });
    const sv = okValue(parseQmiDeviceIds(`${out}\tIMEI SV: '11'\n`));
    expect(sv.imeiSv).toBe("11");
    expect(okValue(parseQmiDeviceIds("[/dev/cdc-wdm0] Device IDs retrieved:\n\t   IMEI: 'garbage'\n")).imei).toBeNull();
    expect(parseQmiDeviceIds("\t   IMEI: '864394041083561'").ok).toBe(false);
  });
  test("revision / model / manufacturer", () => {
    expect(okValue(parseQmiRevision("[/dev/cdc-wdm0] Device revision retrieved:\n\tRevision: 'EC25EFAR06A04M4G'\n"))).toBe("EC25EFAR06A04M4G");
    expect(okValue(parseQmiModel("[/dev/cdc-wdm0] Device model retrieved:\n\tModel: 'QUECTEL Mobile Broadband Module'\n"))).toBe("QUECTEL Mobile Broadband Module");
    expect(okValue(parseQmiManufacturer("[/dev/cdc-wdm0] Device manufacturer retrieved:\n\tManufacturer: 'QUALCOMM INCORPORATED'\n"))).toBe("QUALCOMM INCORPORATED");
    expect(parseQmiModel("[/dev/cdc-wdm0] Device model retrieved:\n\tModel: 'unknown'\n").ok).toBe(false);
    expect(parseQmiRevision("error: couldn't get revision").ok).toBe(false);
  });
});

describe("nas-get-signal-strength", () => {
  // ec25.md §5.2 [T 35, shown there with spaces instead of TABs; libqmi prints TABs]
  const modern = [
    "[/dev/cdc-wdm0] Successfully got signal strength",
    "Current:",
    "\tNetwork 'lte': '-61 dBm'",
    "RSSI:",
    "\tNetwork 'lte': '-61 dBm'",
    "ECIO:",
    "\tNetwork 'lte': '-2.5 dBm'",
    "IO: '-106 dBm'",
    "SINR (8): '9.0 dB'",
    "RSRQ:",
    "\tNetwork 'lte': '-16 dB'",
    "SNR:",
    "\tNetwork 'lte': '3.2 dB'",
    "RSRP:",
    "\tNetwork 'lte': '-90 dBm'",
  ].join("\n");
  const expected = {
    current: [{ network: "lte", value: -61 }],
    other: [],
    rssi: [{ network: "lte", value: -61 }],
    ecio: [{ network: "lte", value: -2.5 }],
    io: -106,
    sinr: { level: 8, db: 9 },
    rsrq: { network: "lte", value: -16 },
    snr: { network: "lte", value: 3.2 },
    rsrp: { network: "lte", value: -90 },
  };
  test("modern format", () => {
    expect(okValue(parseQmiSignalStrength(modern))).toEqual(expected);
  });
  test("with the BIM QMUX line and spaces instead of TABs", () => {
    const out = `BIM QMUX support available\n${modern.replace(/\t/g, "    ")}`;
    expect(okValue(parseQmiSignalStrength(out))).toEqual(expected);
  });
  test("old libqmi SINR form", () => {
    expect(okValue(parseQmiSignalStrength(modern.replace("SINR (8): '9.0 dB'", "SINR: (8) '9.0 dB'"))).sinr).toEqual({ level: 8, db: 9 });
  });
  test("SINR N/A and Other section", () => {
    const out = "[/dev/cdc-wdm0] Successfully got signal strength\nCurrent:\n\tNetwork 'umts': '-80 dBm'\nOther:\n\tNetwork 'gsm': '-90 dBm'\nSINR (9): N/A'\n";
    const v = okValue(parseQmiSignalStrength(out));
    expect(v.other).toEqual([{ network: "gsm", value: -90 }]);
    expect(v.sinr).toEqual({ level: 9, db: null });
    expect(v.rsrp).toBeNull();
  });
  test("garbage", () => {
    expect(parseQmiSignalStrength("error: couldn't get signal strength: QMI protocol error (74): 'InfoUnavailable'").ok).toBe(false);
  });
});

describe("data format, -w, -e", () => {
  test("wda-get-data-format [T 05] plus the remaining labels", () => {
    // 05_jeffgeerling_ec25a_qmi_and_ecm_session.txt (author elided the rest with "...")
    const head = quoteBlock(T05, "[/dev/cdc-wdm0] Successfully got data format\n                   QoS flow header: no\n               Link layer protocol: 'raw-ip'");
    expect(okValue(parseQmiDataFormat(head))).toEqual({
      qosFlowHeader: false,
      linkLayerProtocol: "raw-ip",
      uplinkAggregation: null,
      downlinkAggregation: null,
      ndpSignature: null,
      downlinkMaxDatagrams: null,
      downlinkMaxSize: null,
    });
    const full = `${head}\n  Uplink data aggregation protocol: 'disabled'\nDownlink data aggregation protocol: 'disabled'\n                     NDP signature: '0'\nDownlink data aggregation max datagrams: '0'\nDownlink data aggregation max size: '0'\n`;
    expect(okValue(parseQmiDataFormat(full))).toMatchObject({ uplinkAggregation: "disabled", ndpSignature: 0, downlinkMaxSize: 0 });
    expect(parseQmiDataFormat("nothing").ok).toBe(false);
  });
  test("-w prints the interface name", () => {
    expect(okValue(parseQmiWwanIface("wwan0\n"))).toEqual({ iface: "wwan0" });
    expect(okValue(parseQmiWwanIface("wwp0s29f7u2i4\n"))).toEqual({ iface: "wwp0s29f7u2i4" });
    expect(parseQmiWwanIface("error: cannot get WWAN interface name\n").ok).toBe(false);
    expect(parseQmiWwanIface("").ok).toBe(false);
  });
  test("-e and the set answer [T 26]", () => {
    expect(okValue(parseQmiExpectedDataFormat("raw-ip\n"))).toEqual({ format: "raw-ip" });
    expect(okValue(parseQmiExpectedDataFormat("802-3\n"))).toEqual({ format: "802-3" });
    // 26_sswroom_telit_ln940_qmicli_full_session.txt
    expect(okValue(parseQmiExpectedDataFormat(quote(T26, "[/dev/cdc-wdm1] expected data format set to: raw-ip")))).toEqual({ format: "raw-ip" });
    expect(parseQmiExpectedDataFormat("qos").ok).toBe(false);
  });
});
