/**
 * Pure parsers for qmicli output (libqmi `src/qmicli/*.c` g_print formats, ec25.md §5; transcripts T 05, 16, 26).
 *
 * Same convention as src/modem/parsers (see its index.ts): each parser takes qmicli's stdout (and, where errors
 * matter, stderr), never throws, and returns `{ ok: true, value }` | `{ ok: false, error }`. Operations that
 * can fail on the modem side (start/stop network) parse the failure too and return it as a value
 * (`started: false` with a structured QmiError), so the driver can react to the call end reason.
 * Lines are matched by label, so TABs vs spaces and extra lines (`BIM QMUX support available`) do not matter.
 */

export type QmiParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function ok<T>(value: T): QmiParseResult<T> {
  return { ok: true, value };
}

function fail<T = never>(error: string): QmiParseResult<T> {
  return { ok: false, error };
}

function short(s: unknown, max = 80): string {
  const c = String(s ?? "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "?").replace(/\s+/g, " ").trim();
  return c.length > max ? `${c.slice(0, max)}…` : c;
}

/** Wraps a parser so that any unexpected exception becomes `{ ok: false }`. */
function safe<A extends unknown[], T>(name: string, body: (...args: A) => QmiParseResult<T>): (...args: A) => QmiParseResult<T> {
  return (...args: A) => {
    try {
      return body(...args);
    } catch (e) {
      return fail(`${name}: internal parser error: ${short(e instanceof Error ? e.message : String(e))}`);
    }
  };
}

function linesOf(...texts: unknown[]): string[] {
  const out: string[] = [];
  for (const t of texts) if (typeof t === "string") for (const l of t.split(/\r?\n/)) out.push(l.replace(/\r$/, ""));
  return out;
}

/** Value of `<label>: <value>` (label matched after leading whitespace), single quotes removed. */
function labelled(lines: readonly string[], label: string): string | null {
  const want = label.toLowerCase();
  for (const l of lines) {
    const t = l.trim();
    const i = t.indexOf(":");
    if (i < 0) continue;
    if (t.slice(0, i).trim().toLowerCase() !== want) continue;
    return unq(t.slice(i + 1).trim());
  }
  return null;
}

function unq(s: string): string {
  return s.length >= 2 && s.startsWith("'") && s.endsWith("'") ? s.slice(1, -1) : s;
}

/** `[/dev/cdc-wdm0] …` → "/dev/cdc-wdm0". */
function deviceOf(lines: readonly string[]): string | null {
  for (const l of lines) {
    const m = /^\[([^\]]+)\]/.exec(l.trim());
    if (m) return m[1];
  }
  return null;
}

function uint(s: string | null): number | null {
  return s !== null && /^\d{1,10}$/.test(s) ? Number.parseInt(s, 10) : null;
}

function num(s: string | null): number | null {
  if (s === null) return null;
  const m = /^(-?\d+(?:\.\d+)?)/.exec(s.trim());
  return m ? Number.parseFloat(m[1]) : null;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4(s: string | null): string | null {
  if (s === null) return null;
  const m = IPV4.exec(s.trim());
  return m && m.slice(1).every((o) => Number(o) <= 255) ? s.trim() : null;
}

/** Prefix length of a dotted netmask (255.255.255.248 → 29), or null when not contiguous. */
export function netmaskToPrefix(mask: string): number | null {
  const m = ipv4(mask);
  if (m === null) return null;
  const n = m.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const bits = n.toString(2).padStart(32, "0");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : null;
}

/** `[dev] Client ID not released:` / `Service: 'wds'` / `CID: '19'` → 19. */
function cidOf(lines: readonly string[]): number | null {
  return uint(labelled(lines, "CID"));
}

// ---------------------------------------------------------------------------------------------------------
// Errors

export interface QmiError {
  /** Stable code: QMI_CALL_FAILED, QMI_NO_EFFECT, QMI_PROTOCOL_ERROR_64, QMI_TIMEOUT, QMI_DEVICE_OPEN_FAILED, QMI_ERROR. */
  code: string;
  /** The whole first `error:` line without the prefix. */
  message: string;
  /** What failed, e.g. "couldn't start network". */
  context: string | null;
  protocolErrorCode: number | null;
  /** e.g. "CallFailed"; null when qmicli printed '(null)' (old libqmi, [T 16]). */
  protocolErrorName: string | null;
  callEndReason: { code: number; name: string } | null;
  verboseCallEndReason: { type: number; reason: number; domain: string; name: string } | null;
}

function screaming(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .toUpperCase();
}

/**
 * Parses qmicli's error output, e.g.
 * `error: couldn't start network: QMI protocol error (14): 'CallFailed'` /
 * `call end reason (3): generic-no-service` / `verbose call end reason (3,2504): [cm] invalid-sim-state`.
 * Fails when there is no `error:` line.
 */
export const parseQmiError = safe("qmi error", (stderr: string): QmiParseResult<QmiError> => {
  const lines = linesOf(stderr).map((l) => l.trim());
  const errLine = lines.find((l) => /^error:/i.test(l));
  if (!errLine) return fail("qmi error: no 'error:' line");
  const message = errLine.replace(/^error:\s*/i, "");
  const proto = /QMI protocol error \((\d+)\):\s*'([^']*)'/.exec(message);
  const protocolErrorCode = proto ? Number.parseInt(proto[1], 10) : null;
  const rawName = proto ? proto[2] : null;
  const protocolErrorName = rawName && rawName !== "(null)" ? rawName : null;
  const ctx = proto ? message.slice(0, message.indexOf("QMI protocol error")).replace(/:\s*$/, "").trim() : null;
  let callEndReason: QmiError["callEndReason"] = null;
  let verboseCallEndReason: QmiError["verboseCallEndReason"] = null;
  for (const l of lines) {
    const v = /^verbose call end reason \((\d+),(-?\d+)\):\s*\[([^\]]*)\]\s*'?(.*?)'?$/.exec(l);
    if (v) {
      verboseCallEndReason = { type: Number(v[1]), reason: Number(v[2]), domain: v[3], name: v[4] };
      continue;
    }
    const c = /^call end reason \((\d+)\):\s*'?(.*?)'?$/.exec(l);
    if (c) callEndReason = { code: Number(c[1]), name: c[2] };
  }
  let code: string;
  if (protocolErrorName) code = `QMI_${screaming(protocolErrorName)}`;
  else if (protocolErrorCode !== null) code = `QMI_PROTOCOL_ERROR_${protocolErrorCode}`;
  else if (/timed out|timeout/i.test(message)) code = "QMI_TIMEOUT";
  else if (/couldn't (open|create) (the )?QmiDevice/i.test(message)) code = "QMI_DEVICE_OPEN_FAILED";
  else code = "QMI_ERROR";
  const context = ctx || (/^(couldn't [^:]+|operation failed|cannot [^:]+)/i.exec(message)?.[1] ?? null);
  return ok({ code, message, context, protocolErrorCode, protocolErrorName, callEndReason, verboseCallEndReason });
});

// ---------------------------------------------------------------------------------------------------------
// WDS

export type StartNetworkResult =
  | { started: true; device: string | null; packetDataHandle: number; cid: number | null }
  | { started: false; error: QmiError };

/**
 * `--wds-start-network=… --client-no-release-cid` →
 * `[/dev/cdc-wdm0] Network started` / `\tPacket data handle: '2267587312'` / `… Client ID not released:` /
 * `\t    CID: '19'` [T 05, T 26]. Errors (stderr) come back as `started: false` [T 16].
 */
export const parseQmiStartNetwork = safe("start-network", (stdout: string, stderr: string = ""): QmiParseResult<StartNetworkResult> => {
  const lines = linesOf(stdout, stderr);
  const pdh = uint(labelled(lines, "Packet data handle"));
  if (lines.some((l) => /\] Network started\s*$/.test(l)) && pdh !== null) {
    return ok({ started: true, device: deviceOf(lines), packetDataHandle: pdh, cid: cidOf(lines) });
  }
  const err = parseQmiError(`${stdout}\n${stderr}`);
  if (err.ok) return ok({ started: false, error: err.value });
  return fail(`start-network: neither 'Network started' with a packet data handle nor an error in ${short(`${stdout} ${stderr}`)}`);
});

export type StopNetworkResult = { stopped: true; device: string | null } | { stopped: false; error: QmiError };

/** `--wds-stop-network=<pdh> --client-cid=<cid>` → `Network cancelled... releasing resources` / `[dev] Network stopped` [T 26]. */
export const parseQmiStopNetwork = safe("stop-network", (stdout: string, stderr: string = ""): QmiParseResult<StopNetworkResult> => {
  const lines = linesOf(stdout, stderr);
  if (lines.some((l) => /\] Network stopped\s*$/.test(l))) return ok({ stopped: true, device: deviceOf(lines) });
  const err = parseQmiError(`${stdout}\n${stderr}`);
  if (err.ok) return ok({ stopped: false, error: err.value });
  return fail(`stop-network: no 'Network stopped' in ${short(stdout)}`);
});

export interface CurrentSettings {
  device: string | null;
  /** "IPv4", "IPv6", "Ethernet", "unknown", or null when not printed. */
  ipFamily: string | null;
  ipv4: {
    address: string;
    subnetMask: string | null;
    prefixLength: number | null;
    gateway: string | null;
    dns: string[];
  } | null;
  ipv6: {
    address: string;
    prefixLength: number | null;
    gateway: string | null;
    gatewayPrefixLength: number | null;
    dns: string[];
  } | null;
  mtu: number | null;
  /** Search domains; empty for `Domains: none`. */
  domains: string[];
  /** From the `Client ID not released` block when `--client-no-release-cid` was given. */
  cid: number | null;
}

function v6WithPrefix(s: string | null): { addr: string; prefix: number | null } | null {
  if (s === null) return null;
  const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(s.trim());
  if (!m || !m[1].includes(":")) return null;
  return { addr: m[1], prefix: m[2] === undefined ? null : Number(m[2]) };
}

/** `--wds-get-current-settings` → `[dev] Current settings retrieved:` and right-aligned `label: value` lines [T 26]. */
export const parseQmiCurrentSettings = safe("get-current-settings", (stdout: string, stderr: string = ""): QmiParseResult<CurrentSettings> => {
  const lines = linesOf(stdout);
  if (!lines.some((l) => /Current settings retrieved/.test(l))) {
    const err = parseQmiError(stderr || stdout);
    return fail(err.ok ? `get-current-settings: ${err.value.message}` : `get-current-settings: no settings in ${short(stdout)}`);
  }
  const v4addr = ipv4(labelled(lines, "IPv4 address"));
  const mask = ipv4(labelled(lines, "IPv4 subnet mask"));
  const v6 = v6WithPrefix(labelled(lines, "IPv6 address"));
  const v6gw = v6WithPrefix(labelled(lines, "IPv6 gateway address"));
  const domainsRaw = labelled(lines, "Domains");
  const v4dns = [labelled(lines, "IPv4 primary DNS"), labelled(lines, "IPv4 secondary DNS")].map(ipv4).filter((x): x is string => x !== null);
  const v6dns = [labelled(lines, "IPv6 primary DNS"), labelled(lines, "IPv6 secondary DNS")]
    .map((x) => v6WithPrefix(x)?.addr ?? null)
    .filter((x): x is string => x !== null);
  const settings: CurrentSettings = {
    device: deviceOf(lines),
    ipFamily: labelled(lines, "IP Family"),
    ipv4: v4addr === null ? null : {
      address: v4addr,
      subnetMask: mask,
      prefixLength: mask === null ? null : netmaskToPrefix(mask),
      gateway: ipv4(labelled(lines, "IPv4 gateway address")),
      dns: v4dns,
    },
    ipv6: v6 === null ? null : {
      address: v6.addr,
      prefixLength: v6.prefix,
      gateway: v6gw?.addr ?? null,
      gatewayPrefixLength: v6gw?.prefix ?? null,
      dns: v6dns,
    },
    mtu: uint(labelled(lines, "MTU")),
    domains: domainsRaw === null || domainsRaw === "none" ? [] : domainsRaw.split(",").map((d) => d.trim()).filter(Boolean),
    cid: cidOf(lines),
  };
  if (settings.ipv4 === null && settings.ipv6 === null) return fail("get-current-settings: no IPv4 or IPv6 address");
  return ok(settings);
});

export interface PacketServiceStatus {
  device: string | null;
  /** 'unknown' | 'disconnected' | 'connected' | 'suspended' | 'authenticating'. */
  status: string;
  connected: boolean;
}

/** `--wds-get-packet-service-status` → `[/dev/cdc-wdm0] Connection status: 'connected'`. */
export const parseQmiPacketServiceStatus = safe("packet-service-status", (stdout: string): QmiParseResult<PacketServiceStatus> => {
  const lines = linesOf(stdout);
  for (const l of lines) {
    const m = /Connection status:\s*'([^']*)'/.exec(l);
    if (m) return ok({ device: deviceOf(lines), status: m[1], connected: m[1] === "connected" });
  }
  return fail(`packet-service-status: no 'Connection status' in ${short(stdout)}`);
});

// ---------------------------------------------------------------------------------------------------------
// DMS

/** qmicli prints 'unknown' for IDs the modem did not report. */
function known(s: string | null): string | null {
  return s === null || s === "" || s === "unknown" ? null : s;
}

export interface DeviceIds {
  esn: string | null;
  imei: string | null;
  meid: string | null;
  imeiSv: string | null;
}

/** `--dms-get-ids` → `[dev] Device IDs retrieved:` / `\t    ESN: '…'` / `\t   IMEI: '…'` / `\t   MEID: '…'` [/ `IMEI SV`]. */
export const parseQmiDeviceIds = safe("dms-get-ids", (stdout: string): QmiParseResult<DeviceIds> => {
  const lines = linesOf(stdout);
  if (!lines.some((l) => /Device IDs retrieved/.test(l))) return fail(`dms-get-ids: no 'Device IDs retrieved' in ${short(stdout)}`);
  const imei = known(labelled(lines, "IMEI"));
  return ok({
    esn: known(labelled(lines, "ESN")),
    imei: imei !== null && /^\d{14,16}$/.test(imei) ? imei : null,
    meid: known(labelled(lines, "MEID")),
    imeiSv: known(labelled(lines, "IMEI SV")),
  });
});

function dmsSingle(stdout: string, header: RegExp, label: string, op: string): QmiParseResult<string> {
  const lines = linesOf(stdout);
  if (!lines.some((l) => header.test(l))) return fail(`${op}: no header in ${short(stdout)}`);
  const v = known(labelled(lines, label));
  return v === null ? fail(`${op}: no ${label}`) : ok(v);
}

/** `--dms-get-revision` → `\tRevision: 'EC25EFAR06A04M4G'`. */
export const parseQmiRevision = safe("dms-get-revision", (stdout: string) =>
  dmsSingle(stdout, /Device revision retrieved/, "Revision", "dms-get-revision"),
);

/** `--dms-get-model` → `\tModel: 'QUECTEL Mobile Broadband Module'` [T 32]. */
export const parseQmiModel = safe("dms-get-model", (stdout: string) => dmsSingle(stdout, /Device model retrieved/, "Model", "dms-get-model"));

/** `--dms-get-manufacturer` → `\tManufacturer: 'QUALCOMM INCORPORATED'`. */
export const parseQmiManufacturer = safe("dms-get-manufacturer", (stdout: string) =>
  dmsSingle(stdout, /Device manufacturer retrieved/, "Manufacturer", "dms-get-manufacturer"),
);

// ---------------------------------------------------------------------------------------------------------
// NAS signal strength

export interface NetworkValue {
  /** Radio interface as printed: 'lte', 'umts', 'gsm', … */
  network: string;
  value: number;
}

export interface SignalStrength {
  current: NetworkValue[];
  other: NetworkValue[];
  rssi: NetworkValue[];
  ecio: NetworkValue[];
  io: number | null;
  /** EV-DO SINR level and its dB value (null for N/A). */
  sinr: { level: number; db: number | null } | null;
  rsrq: NetworkValue | null;
  snr: NetworkValue | null;
  rsrp: NetworkValue | null;
}

/**
 * `--nas-get-signal-strength` (ec25.md §5.2): sections `Current:`, `Other:`, `RSSI:`, `ECIO:`, `RSRQ:`, `SNR:`,
 * `RSRP:` each followed by `\tNetwork '<rat>': '<v> dBm'` lines; single lines `IO: '-106 dBm'` and
 * `SINR (8): '9.0 dB'` (libqmi < 1.18: `SINR: (8) '9.0 dB'`). An extra `BIM QMUX support available` line is ignored.
 */
export const parseQmiSignalStrength = safe("nas-get-signal-strength", (stdout: string): QmiParseResult<SignalStrength> => {
  const lines = linesOf(stdout);
  const s: SignalStrength = { current: [], other: [], rssi: [], ecio: [], io: null, sinr: null, rsrq: null, snr: null, rsrp: null };
  let section: string | null = null;
  let seen = false;
  for (const raw of lines) {
    const l = raw.trim();
    if (/Successfully got signal strength/.test(l)) seen = true;
    const head = /^(Current|Other|RSSI|ECIO|RSRQ|SNR|RSRP):$/.exec(l);
    if (head) {
      section = head[1];
      continue;
    }
    const net = /^Network '([^']*)':\s*'(-?\d+(?:\.\d+)?)\s*(?:dBm|dB)?'/.exec(l);
    if (net && section) {
      const v: NetworkValue = { network: net[1], value: Number.parseFloat(net[2]) };
      if (section === "Current") s.current.push(v);
      else if (section === "Other") s.other.push(v);
      else if (section === "RSSI") s.rssi.push(v);
      else if (section === "ECIO") s.ecio.push(v);
      else if (section === "RSRQ") s.rsrq ??= v;
      else if (section === "SNR") s.snr ??= v;
      else if (section === "RSRP") s.rsrp ??= v;
      continue;
    }
    const io = /^IO:\s*'(-?\d+)\s*dBm'/.exec(l);
    if (io) {
      s.io = Number(io[1]);
      section = null;
      continue;
    }
    const sinr = /^SINR(?::)?\s*\((\d+)\):?\s*'?(-?\d+(?:\.\d+)?)?/.exec(l);
    if (sinr) {
      s.sinr = { level: Number(sinr[1]), db: sinr[2] === undefined ? null : Number.parseFloat(sinr[2]) };
      section = null;
    }
  }
  if (!seen && s.current.length === 0) return fail(`nas-get-signal-strength: no signal strength in ${short(stdout)}`);
  return ok(s);
});

// ---------------------------------------------------------------------------------------------------------
// Data format, interface name

export interface DataFormat {
  qosFlowHeader: boolean | null;
  /** 'raw-ip' or '802-3' (EC25 runs raw-ip in practice, ec25.md §5.3). */
  linkLayerProtocol: string | null;
  uplinkAggregation: string | null;
  downlinkAggregation: string | null;
  ndpSignature: number | null;
  downlinkMaxDatagrams: number | null;
  downlinkMaxSize: number | null;
}

/** `--wda-get-data-format` → `[dev] Successfully got data format` + right-aligned labels [T 05]. */
export const parseQmiDataFormat = safe("wda-get-data-format", (stdout: string): QmiParseResult<DataFormat> => {
  const lines = linesOf(stdout);
  if (!lines.some((l) => /Successfully (got|set) data format/.test(l))) return fail(`wda-get-data-format: no data format in ${short(stdout)}`);
  const qos = labelled(lines, "QoS flow header");
  return ok({
    qosFlowHeader: qos === "yes" ? true : qos === "no" ? false : null,
    linkLayerProtocol: labelled(lines, "Link layer protocol"),
    uplinkAggregation: labelled(lines, "Uplink data aggregation protocol"),
    downlinkAggregation: labelled(lines, "Downlink data aggregation protocol"),
    ndpSignature: uint(labelled(lines, "NDP signature")),
    downlinkMaxDatagrams: uint(labelled(lines, "Downlink data aggregation max datagrams")),
    downlinkMaxSize: uint(labelled(lines, "Downlink data aggregation max size")),
  });
});

/** `-w` / `--get-wwan-iface` → just the netdev name, e.g. `wwan0`. */
export const parseQmiWwanIface = safe("get-wwan-iface", (stdout: string): QmiParseResult<{ iface: string }> => {
  const l = linesOf(stdout).map((x) => x.trim()).filter(Boolean);
  const name = l.find((x) => /^[A-Za-z0-9_.:-]{1,15}$/.test(x));
  return name ? ok({ iface: name }) : fail(`get-wwan-iface: no interface name in ${short(stdout)}`);
});

export type ExpectedDataFormat = "raw-ip" | "802-3" | "unknown";

/**
 * `-e` / `--get-expected-data-format` → `raw-ip` / `802-3`; also accepts the `--set-expected-data-format` answer
 * `[/dev/cdc-wdm1] expected data format set to: raw-ip` [T 26].
 */
export const parseQmiExpectedDataFormat = safe("expected-data-format", (stdout: string): QmiParseResult<{ format: ExpectedDataFormat }> => {
  for (const raw of linesOf(stdout)) {
    const l = raw.trim().replace(/^.*expected data format set to:\s*/i, "");
    if (l === "raw-ip" || l === "802-3" || l === "unknown") return ok({ format: l });
  }
  return fail(`expected-data-format: no format in ${short(stdout)}`);
});
