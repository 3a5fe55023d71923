/**
 * What a modem driver offers the rest of lteproxy (manager, health checks, rotation, console, data plane).
 * Implemented by Generic3gppDriver (generic-3gpp.ts) and, with the EC25 quirks on top, Ec25Driver (ec25.ts).
 *
 * Errors: transport failures reject with the AT engine's codes (AT_TIMEOUT, AT_ECHO_ONLY, AT_UNPLUGGED,
 * AT_CLOSED); a command the modem refused rejects with AT_COMMAND_FAILED (details.final, details.modemCode);
 * bad arguments reject with MODEM_BAD_ARGUMENT before anything is sent.
 */
import type { AtChannel, AtResponse } from "./at/types.ts";
import type { CusdInfo } from "./parsers/ussd.ts";
import type { RegistrationStatus } from "./parsers/registration.ts";
import type { SmsMessage } from "./parsers/sms.ts";

export interface ModemIdentity {
  /** 15 digits (AT+CGSN / AT+GSN). */
  imei: string;
  /** Digits only, F padding removed; null without a readable SIM. */
  iccid: string | null;
  imsi: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
}

/** SIM state as AT+CPIN? reports it, plus the error answers (+CME ERROR 10/13/14). */
export type SimStatus =
  | "READY" | "PIN_REQUIRED" | "PUK_REQUIRED" | "NOT_READY" | "NOT_INSERTED" | "FAILURE" | "BUSY" | "UNKNOWN";

export type RadioMode = "on" | "airplane" | "off";

export interface RegistrationState {
  stat: number;
  status: RegistrationStatus;
  registered: boolean;
  roaming: boolean;
  /** TAC (CEREG) or LAC (CREG), hex as printed. */
  tac: string | null;
  ci: string | null;
  act: number | null;
  /** Which command answered: EPS (LTE) first, CS as the 2G/3G fallback. */
  source: "CEREG" | "CREG";
}

export interface ModemStatus {
  sim: SimStatus;
  /** AT+CFUN?: "on" (1), "airplane" (4), "off" (0), "other"; null when it did not answer. */
  radio: RadioMode | "other" | null;
  registration: RegistrationState | null;
  operator: { name: string | null; numeric: string | null } | null;
  /** RAT family ("LTE", "WCDMA", "GSM") or the access technology name when only that is known. */
  rat: string | null;
  /** As the modem prints it, e.g. "LTE BAND 3". */
  band: string | null;
  earfcn: number | null;
  cellId: string | null;
  /** AT+CSQ rssi index (0-31, null for 99 = unknown). */
  csq: number | null;
  /** dBm: from the serving cell on LTE, else from CSQ. */
  rssi: number | null;
  rsrp: number | null;
  rsrq: number | null;
  /** Raw +QENG SINR; its scale is firmware-dependent (ec25.md §4.3), so it is stored as printed. */
  sinrRaw: number | null;
  temperature: number | null;
  /** Date.now() when the status was read. */
  readAt: number;
}

export interface DataCallResult {
  connected: boolean;
  ipv4: boolean;
  ipv6: boolean;
}

export interface UssdOptions {
  /** How long to wait for the +CUSD URC after OK (networks take seconds; default 30 s). */
  timeoutMs?: number;
}

export interface ModemDriver {
  readonly channel: AtChannel;
  /** Vendor name for logs and the modems table ("generic", "quectel-ec25"). */
  readonly kind: string;
  /** Only the IMEI: the manager keys rows on it before reading the rest. */
  readImei(): Promise<string>;
  /** IMEI, ICCID, IMSI, manufacturer, model, firmware. SIM fields are null while the SIM is absent or busy. */
  identify(known?: { imei?: string }): Promise<ModemIdentity>;
  /** ICCID and IMSI only (re-read once the SIM became ready). */
  readSimIdentity(): Promise<{ iccid: string | null; imsi: string | null }>;
  status(): Promise<ModemStatus>;
  /** AT+CFUN=1 / =4 / =0. */
  setRadio(mode: RadioMode): Promise<void>;
  /** AT+CFUN=1,1. Resolves when the modem accepted it (the port vanishes right after). */
  reboot(): Promise<void>;
  dataCall(action: "start" | "stop"): Promise<DataCallResult>;
  listSms(filter?: "ALL" | "REC UNREAD" | "REC READ" | "STO UNSENT" | "STO SENT"): Promise<SmsMessage[]>;
  readSms(index: number): Promise<SmsMessage | null>;
  sendSms(to: string, text: string): Promise<{ messageReference: number }>;
  deleteSms(index: number | "all"): Promise<void>;
  ussd(code: string, opts?: UssdOptions): Promise<CusdInfo>;
  /** One command as given, for the console (check it with console-policy.ts first). */
  raw(command: string, opts?: { timeoutMs?: number }): Promise<AtResponse>;
}
