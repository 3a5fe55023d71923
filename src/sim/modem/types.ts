/** Shapes shared by the simulated modem, its AT engine and its command handlers. */
import type { AtCommand } from "./at-parse.ts";
import type { SessionInfo } from "../net/types.ts";

export type PortName = "at" | "modem";

/** Final result of one command. Errors map to ERROR / +CME ERROR / +CMS ERROR per AT+CMEE. */
export type AtFinal =
  | { kind: "OK" }
  | { kind: "ERROR" }
  | { kind: "CME"; code: number }
  | { kind: "CMS"; code: number }
  | { kind: "NO CARRIER" };

/** What a handler returns: information lines, then a final code (OK when omitted), or a "> " prompt (CMGS). */
export interface AtResult {
  lines?: string[];
  final?: AtFinal;
  /** Enter SMS text/PDU input: the engine prints "\r\n> " and collects the body until Ctrl-Z / ESC. */
  prompt?: (body: string) => Promise<AtResult>;
}

export const OK: AtResult = { final: { kind: "OK" } };
export const ERROR: AtResult = { final: { kind: "ERROR" } };
export const cme = (code: number): AtResult => ({ final: { kind: "CME", code } });
export const cms = (code: number): AtResult => ({ final: { kind: "CMS", code } });
export const info = (...lines: string[]): AtResult => ({ lines });

/** Settings kept per AT port (V.250 channel settings). */
export interface PortSettings {
  echo: boolean;
  /** ATV1 (verbose result codes) vs ATV0 (numeric). */
  verbose: boolean;
  /** ATQ1 suppresses result codes. */
  quiet: boolean;
  /** AT+CMEE: 0 ERROR only, 1 numeric, 2 verbose. Factory default assumed 1 (ec25.md §3.3, §8.2). */
  cmee: 0 | 1 | 2;
}

export const FACTORY_PORT_SETTINGS: Readonly<PortSettings> = { echo: true, verbose: true, quiet: false, cmee: 1 };

export type UrcPort = "usbat" | "usbmodem" | "uart1" | "all";
export type Charset = "GSM" | "IRA" | "UCS2";

/** Modem-wide volatile settings; AT&W saves them, a reboot restores the saved copy. */
export interface ModemSettings {
  cregN: number;
  cgregN: number;
  ceregN: number;
  copsFormat: 0 | 1 | 2;
  cmgf: 0 | 1;
  cscs: Charset;
  cnmi: [number, number, number, number, number];
  cusdN: number;
  qsimstatN: number;
  urcPort: UrcPort;
}

export const FACTORY_MODEM_SETTINGS: Readonly<ModemSettings> = {
  cregN: 0, cgregN: 0, ceregN: 0, copsFormat: 0, cmgf: 0, cscs: "GSM",
  // Quectel ships AT+CNMI=2,1,0,0,0: new SMS stored and announced with +CMTI (ec25.md §4.6).
  cnmi: [2, 1, 0, 0, 0], cusdN: 0, qsimstatN: 0, urcPort: "usbat",
};

export interface PdpContext {
  cid: number;
  type: "IP" | "IPV6" | "IPV4V6";
  apn: string;
  user: string;
  password: string;
  auth: number;
}

/** What survives a reboot (NV items). */
export interface NvState {
  usbnet: number;
  contexts: Map<number, PdpContext>;
  savedPort: PortSettings;
  savedModem: ModemSettings;
}

export type SessionOwner = { kind: "at" } | { kind: "qmi"; cid: number };

export interface DataSession {
  owner: SessionOwner;
  /** Packet data handle (QMI). */
  pdh: number;
  /** PDP context / profile used. */
  profile: number;
  apn: string;
  info: SessionInfo;
  startedAt: number;
}

/** How one command is answered; `ctx.modem` is the whole simulated modem. */
export type AtHandler<M> = (cmd: AtCommand, ctx: { modem: M; port: PortName; settings: PortSettings }) =>
  AtResult | Promise<AtResult>;
