/**
 * Faults and events injected from outside (control API, tests) that act through a modem's public state:
 * SIM removal/insertion, incoming SMS, radio link of the data plane.
 */
import type { SimModem } from "./modem.ts";
import { scts } from "./sms-pdu.ts";

/** The SIM is pulled: "+CPIN: NOT READY" (ec25.md §3.6), +QSIMSTAT if enabled; registration and data drop. */
export function removeSim(m: SimModem): void {
  if (!m.radio.simPresent) return;
  m.radio.removeSim();
  m.emitUrc(["+CPIN: NOT READY"]);
  if (m.modemSettings.qsimstatN === 1) m.emitUrc(["+QSIMSTAT: 1,0"]);
}

/** The SIM is back: +QSIMSTAT if enabled, then the SIM burst and registration. */
export function insertSim(m: SimModem): void {
  if (m.radio.simPresent) return;
  m.radio.insertSim();
  if (m.modemSettings.qsimstatN === 1) m.emitUrc(["+QSIMSTAT: 1,1"]);
  if (m.radio.simState === "init") m.after(m.timings.simInitMs, () => m.simBurst());
}

/** An incoming SMS: stored on the SIM and announced per AT+CNMI (+CMTI, or +CMT when mt=2; ec25.md §4.6). */
export function deliverSms(m: SimModem, from: string, text: string): { index?: number } {
  if (!m.radio.simReady) throw new Error("no usable SIM");
  const date = new Date();
  const mt = m.modemSettings.cnmi[1];
  if (mt === 2) {
    m.emitUrc([`+CMT: "${from}",,"${scts(date)}"`, text]);
    return {};
  }
  const stored = m.sms.add({ stat: "REC UNREAD", address: from, text, date });
  if (!stored) throw new Error("SIM message storage full");
  if (mt === 1 || mt === 3) m.emitUrc([`+CMTI: "SM",${stored.index}`]);
  return { index: stored.index };
}

/** The radio link of the data plane drops / returns (LabNetwork.linkDown/linkUp); recorded for `list`. */
export async function linkFault(m: SimModem, down: boolean): Promise<void> {
  m.faults.linkDown = down;
  if (!m.net) return;
  if (down) await m.net.linkDown(m.index);
  else await m.net.linkUp(m.index);
}
