/** Input checks shared by the drivers, and the qmicli start-network argument (its values must not break its parser). */
import { AppError } from "../../lib/errors.ts";
import type { DataDriverName, DataModem } from "./types.ts";

const IFNAME = /^[A-Za-z0-9_:@-][A-Za-z0-9_.:@-]{0,14}$/;
/** APN network identifiers are DNS-like labels (3GPP TS 23.003 §9.1). */
const APN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/;
/** qmicli's key=value parser splits on commas and quotes with '; refuse what it cannot carry. */
const CREDENTIAL = /^[^'",\x00-\x1f\x7f]{0,64}$/;

/** Throws DATA_INVALID_MODEM / DATA_IPTYPE_UNSUPPORTED for input a driver cannot use. */
export function checkDataModem(modem: DataModem, driver: DataDriverName): void {
  const bad = (message: string) => new AppError("DATA_INVALID_MODEM", message, { imei: modem?.imei, driver });
  if (!modem || typeof modem.imei !== "string" || modem.imei === "") throw bad("modem without an IMEI");
  if (typeof modem.ifname !== "string" || !IFNAME.test(modem.ifname)) throw bad(`invalid interface name ${JSON.stringify(modem.ifname)}`);
  if (typeof modem.apn !== "string" || !APN.test(modem.apn)) throw bad(`invalid APN ${JSON.stringify(modem.apn)}`);
  if (modem.ipType !== 4) {
    throw new AppError("DATA_IPTYPE_UNSUPPORTED", `IP type ${String(modem.ipType)} is not supported; only IPv4 sessions are routed`, {
      imei: modem.imei,
    });
  }
  if (modem.username !== undefined && !CREDENTIAL.test(modem.username)) throw bad("APN username contains ', \", a comma or a control character");
  if (modem.password !== undefined && !CREDENTIAL.test(modem.password)) throw bad("APN password contains ', \", a comma or a control character");
  if (driver === "qmi" && (typeof modem.qmiPath !== "string" || !modem.qmiPath.startsWith("/"))) {
    throw bad("the qmi driver needs the absolute path of the QMI device (qmiPath)");
  }
  if (driver === "at-rmnet" && !modem.at) throw bad("the at-rmnet driver needs an AT channel");
}

/** `apn='internet',ip-type=4[,username='u',password='p',auth=chap]` (ec25.md §5.4 keys). */
export function startNetworkArg(modem: DataModem): string {
  const parts = [`apn='${modem.apn}'`, `ip-type=${modem.ipType}`];
  if (modem.username) parts.push(`username='${modem.username}'`);
  if (modem.password) parts.push(`password='${modem.password}'`);
  if (modem.auth) parts.push(`auth=${modem.auth}`);
  return parts.join(",");
}
