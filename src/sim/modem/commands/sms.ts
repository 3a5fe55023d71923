/**
 * SMS and USSD (ec25.md §4.6): +CMGF, +CSCS, +CNMI, +CPMS, +CSCA, +CSMP, +CSDH, +CMGL, +CMGR, +CMGS (with the "> "
 * prompt), +CMGD, +CUSD (OK now, +CUSD URC later).
 */
import { intParam, unquote } from "../at-parse.ts";
import { deliverPdu, scts } from "../sms-pdu.ts";
import { SMS_STATS, SM_CAPACITY, type SmsStat, type StoredSms } from "../sms-store.ts";
import { cme, cms, ERROR, info, OK, type Charset } from "../types.ts";
import type { SimModem } from "../modem.ts";
import { decodeText, encodeText, params, sleep, smsSimError, type HandlerTable } from "./util.ts";

export const LAB_SMSC = "+491710760000";

function listLines(m: SimModem, msg: StoredSms, verb: "+CMGL" | "+CMGR"): string[] {
  const statNum = SMS_STATS.indexOf(msg.stat);
  if (m.modemSettings.cmgf === 0) {
    const pdu = deliverPdu({ smsc: LAB_SMSC, from: msg.address, text: msg.text, date: msg.date });
    const head = verb === "+CMGL" ? `+CMGL: ${msg.index},${statNum},,${pdu.tpduLength}` : `+CMGR: ${statNum},,${pdu.tpduLength}`;
    return [head, pdu.hex];
  }
  const head = verb === "+CMGL"
    ? `+CMGL: ${msg.index},"${msg.stat}","${encodeText(m, msg.address)}",,"${scts(msg.date)}"`
    : `+CMGR: "${msg.stat}","${encodeText(m, msg.address)}",,"${scts(msg.date)}"`;
  return [head, encodeText(m, msg.text)];
}

function onOff(cmd: { kind: string; params: string }, read: string, set: (n: number) => boolean) {
  if (cmd.kind === "read") return info(read);
  const n = intParam(cmd.params);
  return cmd.kind === "write" && n !== undefined && set(n) ? OK : ERROR;
}

export const smsCommands: HandlerTable = {
  "+CMGF": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+CMGF: (0,1)");
    return onOff(cmd, `+CMGF: ${modem.modemSettings.cmgf}`, (n) => {
      if (n !== 0 && n !== 1) return false;
      modem.modemSettings.cmgf = n;
      return true;
    });
  },
  "+CSCS": (cmd, { modem }) => {
    if (cmd.kind === "test") return info('+CSCS: ("GSM","IRA","UCS2")');
    if (cmd.kind === "read") return info(`+CSCS: "${modem.modemSettings.cscs}"`);
    const cs = unquote(cmd.params)?.toUpperCase();
    if (cmd.kind !== "write" || (cs !== "GSM" && cs !== "IRA" && cs !== "UCS2")) return ERROR;
    modem.modemSettings.cscs = cs as Charset;
    return OK;
  },
  "+CNMI": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)");
    if (cmd.kind === "read") return info(`+CNMI: ${modem.modemSettings.cnmi.join(",")}`);
    const p = params(cmd.params)?.map((t) => (t === "" ? 0 : intParam(t)));
    if (cmd.kind !== "write" || !p || p.length === 0 || p.length > 5 || p.some((n) => n === undefined || n < 0 || n > 3)) return ERROR;
    const next = [...modem.modemSettings.cnmi] as SimModem["modemSettings"]["cnmi"];
    p.forEach((n, i) => { next[i] = n!; });
    modem.modemSettings.cnmi = next;
    return OK;
  },
  "+CPMS": (cmd, { modem }) => {
    if (cmd.kind === "test") return info('+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME","MT")');
    const bad = smsSimError(modem);
    if (bad) return bad;
    const u = modem.sms.used;
    if (cmd.kind === "read") return info(`+CPMS: "SM",${u},${SM_CAPACITY},"SM",${u},${SM_CAPACITY},"SM",${u},${SM_CAPACITY}`);
    if (cmd.kind !== "write") return ERROR;
    return info(`+CPMS: ${u},${SM_CAPACITY},${u},${SM_CAPACITY},${u},${SM_CAPACITY}`);
  },
  "+CSCA": (cmd) => (cmd.kind === "read" ? info(`+CSCA: "${LAB_SMSC}",145`) : cmd.kind === "write" ? OK : ERROR),
  "+CSMP": (cmd) => (cmd.kind === "read" ? info("+CSMP: 17,167,0,0") : cmd.kind === "write" ? OK : ERROR),
  "+CSDH": (cmd) => (cmd.kind === "read" ? info("+CSDH: 0") : cmd.kind === "write" ? OK : ERROR),
  "+CMGL": (cmd, { modem }) => {
    const text = modem.modemSettings.cmgf === 1;
    if (cmd.kind === "test") return info(text ? '+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")' : "+CMGL: (0-4)");
    const bad = smsSimError(modem);
    if (bad) return bad;
    let filter: SmsStat | "ALL";
    if (cmd.kind === "exec") filter = "REC UNREAD";
    else if (cmd.kind !== "write") return ERROR;
    else if (text) {
      const s = unquote(cmd.params)?.toUpperCase();
      if (s !== "ALL" && !SMS_STATS.includes(s as SmsStat)) return cms(302);
      filter = s as SmsStat | "ALL";
    } else {
      const n = intParam(cmd.params);
      if (n === undefined || n < 0 || n > 4) return cms(302);
      filter = n === 4 ? "ALL" : SMS_STATS[n]!;
    }
    const lines: string[] = [];
    for (const msg of modem.sms.list(filter)) {
      lines.push(...listLines(modem, msg, "+CMGL"));
      modem.sms.markRead(msg);
    }
    return info(...lines);
  },
  "+CMGR": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    const bad = smsSimError(modem);
    if (bad) return bad;
    const i = intParam(cmd.params);
    if (cmd.kind !== "write" || i === undefined) return ERROR;
    if (i < 0 || i >= SM_CAPACITY) return cms(321);
    const msg = modem.sms.get(i);
    if (!msg) return OK;
    const lines = listLines(modem, msg, "+CMGR");
    modem.sms.markRead(msg);
    return info(...lines);
  },
  "+CMGS": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind !== "write") return ERROR;
    const bad = smsSimError(modem);
    if (bad) return bad;
    const p = params(cmd.params);
    const pduMode = modem.modemSettings.cmgf === 0;
    if (pduMode) {
      const len = intParam(p?.[0]);
      if (len === undefined || len < 1 || len > 175) return cms(304);
    } else {
      const da = unquote(p?.[0]);
      if (!da || decodeText(modem, da) === undefined) return cms(305);
    }
    return {
      prompt: async (body) => {
        if (pduMode && !/^([0-9A-Fa-f]{2})+$/.test(body)) return cms(304);
        if (!pduMode && decodeText(modem, body) === undefined) return cms(305);
        await sleep(modem.timings.smsSendMs);
        if (!modem.radio.registered) return cms(331);
        return info(`+CMGS: ${modem.nextMessageReference()}`);
      },
    };
  },
  "+CMGD": (cmd, { modem }) => {
    if (cmd.kind === "test") return info(`+CMGD: (0-${SM_CAPACITY - 1}),(0-4)`);
    const bad = smsSimError(modem);
    if (bad) return bad;
    const p = params(cmd.params);
    const i = intParam(p?.[0]);
    const flag = p?.[1] === undefined ? 0 : intParam(p[1]);
    if (cmd.kind !== "write" || i === undefined || flag === undefined || flag < 0 || flag > 4) return ERROR;
    if (flag > 0) { modem.sms.deleteByFlag(flag); return OK; }
    if (i < 0 || i >= SM_CAPACITY) return cms(321);
    modem.sms.delete(i);
    return OK;
  },
  "+CUSD": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+CUSD: (0-2)");
    if (cmd.kind === "read") return info(`+CUSD: ${modem.modemSettings.cusdN}`);
    const p = params(cmd.params);
    const n = p?.[0] === undefined || p[0] === "" ? 0 : intParam(p[0]);
    if (cmd.kind !== "write" || n === undefined || n < 0 || n > 2) return ERROR;
    if (n === 2) return OK; // cancel the session
    modem.modemSettings.cusdN = n;
    if (p!.length < 2) return OK;
    const request = unquote(p![1]);
    if (request === undefined || decodeText(modem, request) === undefined) return ERROR;
    if (!modem.radio.registered) return cme(30);
    // OK now; the network's answer arrives later as a URC (ec25.md §4.6).
    modem.after(modem.timings.ussdMs, () => {
      if (modem.modemSettings.cusdN === 1) modem.emitUrc([`+CUSD: 0,"${encodeText(modem, modem.ussdReply)}",15`]);
    });
    return OK;
  },
};
