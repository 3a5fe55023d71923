/**
 * qmicli's output strings (libqmi src/qmicli/*.c g_print formats, as quoted in ec25.md §5 and seen in [T 05, T 26]).
 * `dev` is the device path exactly as given with -d. "\t" is a real TAB.
 */
import type { SessionInfo } from "../net/types.ts";

export const notReleased = (dev: string, service: string, cid: number) =>
  `[${dev}] Client ID not released:\n\tService: '${service}'\n\t    CID: '${cid}'\n`;

export const networkStarted = (dev: string, pdh: number) => `[${dev}] Network started\n\tPacket data handle: '${pdh}'\n`;

export const networkStopped = (dev: string) => `Network cancelled... releasing resources\n[${dev}] Network stopped\n`;

export const protocolError = (code: number, name: string) => `QMI protocol error (${code}): '${name}'`;

/** CallFailed with the (verbose) call end reason, as printed to stderr. */
export function callFailed(reason: "no-sim" | "no-service" | "unspecified"): string {
  const head = `error: couldn't start network: ${protocolError(14, "CallFailed")}\n`;
  if (reason === "no-sim") {
    return `${head}call end reason (3): generic-no-service\nverbose call end reason (3,2504): [cm] invalid-sim-state\n`;
  }
  if (reason === "no-service") {
    return `${head}call end reason (3): generic-no-service\nverbose call end reason (3,2001): [cm] no-service\n`;
  }
  return `${head}call end reason (1): generic-unspecified\n`;
}

function mask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join(".");
}

export function currentSettings(dev: string, s: SessionInfo): string {
  const lines = [
    `[${dev}] Current settings retrieved:`,
    "           IP Family: IPv4",
    `        IPv4 address: ${s.privateIp}`,
    `    IPv4 subnet mask: ${mask(s.prefix)}`,
    `IPv4 gateway address: ${s.gateway}`,
  ];
  if (s.dns[0]) lines.push(`    IPv4 primary DNS: ${s.dns[0]}`);
  if (s.dns[1]) lines.push(`  IPv4 secondary DNS: ${s.dns[1]}`);
  lines.push(`                 MTU: ${s.mtu}`, "             Domains: none");
  return `${lines.join("\n")}\n`;
}

export const packetStatus = (dev: string, connected: boolean) =>
  `[${dev}] Connection status: '${connected ? "connected" : "disconnected"}'\n`;

export const deviceIds = (dev: string, imei: string) =>
  `[${dev}] Device IDs retrieved:\n\t    ESN: '0'\n\t   IMEI: '${imei}'\n\t   MEID: 'unknown'\n`;

export const revision = (dev: string, rev: string) => `[${dev}] Device revision retrieved:\n\tRevision: '${rev}'\n`;
export const model = (dev: string, m: string) => `[${dev}] Device model retrieved:\n\tModel: '${m}'\n`;
export const manufacturer = (dev: string, m: string) => `[${dev}] Device manufacturer retrieved:\n\tManufacturer: '${m}'\n`;

export const operatingMode = (dev: string, mode: string) =>
  `[${dev}] Operating mode retrieved:\n\tMode: '${mode}'\n\tHW restricted: 'no'\n`;
export const operatingModeSet = (dev: string) => `[${dev}] Operating mode set successfully\n`;

/** SINR level 0..8 → dB (libqmi's table). */
const SINR_DB = [-9, -6, -4.5, -3, -2, 1, 3, 6, 9];
export function sinrLevel(db: number): number {
  let level = 0;
  for (let i = 0; i < SINR_DB.length; i++) if (db >= SINR_DB[i]!) level = i;
  return level;
}

export function signalStrength(dev: string, s: { rssi: number; rsrq: number; rsrp: number; sinr: number }): string {
  const level = sinrLevel(s.sinr);
  return [
    `[${dev}] Successfully got signal strength`,
    "Current:", `\tNetwork 'lte': '${s.rssi} dBm'`,
    "RSSI:", `\tNetwork 'lte': '${s.rssi} dBm'`,
    "ECIO:", "\tNetwork 'lte': '-2.5 dBm'",
    "IO: '-106 dBm'",
    `SINR (${level}): '${SINR_DB[level]!.toFixed(1)} dB'`,
    "RSRQ:", `\tNetwork 'lte': '${s.rsrq} dB'`,
    "SNR:", `\tNetwork 'lte': '${s.sinr.toFixed(1)} dB'`,
    "RSRP:", `\tNetwork 'lte': '${s.rsrp} dBm'`,
  ].join("\n") + "\n";
}

export const dataFormat = (dev: string) => [
  `[${dev}] Successfully got data format`,
  "                   QoS flow header: no",
  "               Link layer protocol: 'raw-ip'",
  "  Uplink data aggregation protocol: 'disabled'",
  "Downlink data aggregation protocol: 'disabled'",
  "                     NDP signature: '0'",
  "Downlink data aggregation max datagrams: '0'",
  "Downlink data aggregation max size: '0'",
].join("\n") + "\n";

export const expectedFormatSet = (dev: string, format: string) => `[${dev}] expected data format set to: ${format}\n`;

/** What qmicli prints when the device path does not exist (libqmi qmi-file.c + GIO). */
export const noSuchDevice = (dev: string) =>
  `error: couldn't create QmiDevice: Couldn't query file info: Error when getting information for file \u201c${dev}\u201d: No such file or directory\n`;

export const clientTimeout = (service: string) =>
  `error: couldn't create client for the '${service}' service: CID allocation failed in the CTL client: Transaction timed out\n`;
