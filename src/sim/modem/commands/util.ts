/** Small helpers shared by the command handlers. */
import type { SimModem } from "../modem.ts";
import { splitParams } from "../at-parse.ts";
import { fromUcs2Hex, ucs2Hex } from "../sms-pdu.ts";
import { cme, cms, type AtHandler, type AtResult } from "../types.ts";

export type Handler = AtHandler<SimModem>;
export type HandlerTable = Record<string, Handler>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** +CME error for commands that need a usable SIM (ec25.md §4.2): 10 absent, 13 off (CFUN=0), 14 busy (init). */
export function simError(m: SimModem): AtResult | undefined {
  const s = m.radio.simState;
  if (s === "absent") return cme(10);
  if (s === "off") return cme(13);
  if (s === "init") return cme(14);
  return undefined;
}

/** Same for SMS commands (+CMS ERROR 310/313/314). */
export function smsSimError(m: SimModem): AtResult | undefined {
  const s = m.radio.simState;
  if (s === "absent") return cms(310);
  if (s === "off") return cms(313);
  if (s === "init") return cms(314);
  return undefined;
}

/** Write parameters, or undefined on a syntax error. */
export const params = (text: string) => splitParams(text);

/** Text as the host expects it under AT+CSCS (UCS2 → hex). */
export const encodeText = (m: SimModem, text: string) => (m.modemSettings.cscs === "UCS2" ? ucs2Hex(text) : text);

/** Text the host sent under AT+CSCS (UCS2 hex → string); undefined when it is not valid UCS2 hex. */
export const decodeText = (m: SimModem, text: string) => (m.modemSettings.cscs === "UCS2" ? fromUcs2Hex(text) : text);
