/**
 * PDP contexts and the RmNet data call (ec25.md §4.5): +CGDCONT, +QICSGP, +CGPADDR, $QCRMCALL, +CGACT, +CGCONTRDP,
 * +QGDCNT, +QCFG, +QIACT/+QIDEACT.
 */
import { intParam, unquote } from "../at-parse.ts";
import { cme, ERROR, info, OK, type AtResult, type PdpContext } from "../types.ts";
import type { SimModem } from "../modem.ts";
import { params, type HandlerTable } from "./util.ts";

const PDP_TYPES = ["IP", "IPV6", "IPV4V6"] as const;
const ZERO_V4 = "0.0.0.0";
const ZERO_V6 = "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0";
const MAX_CID = 24;

function maskOf(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join(".");
}

/** Address of context `cid`: the data call's private IP when it runs on that profile. */
function addressOf(m: SimModem, cid: number): string {
  const s = m.data.session;
  return s && s.profile === cid ? s.info.privateIp : ZERO_V4;
}

/** Why a call cannot start, as AT answers it: no SIM → +CME ERROR 10…, no network → plain ERROR. */
function startFailure(m: SimModem, reason: string): AtResult {
  if (reason === "no-sim") {
    const s = m.radio.simState;
    return cme(s === "absent" ? 10 : s === "off" ? 13 : 14);
  }
  return ERROR;
}

const usbnetNames = ["usbnet", "nwscanmode", "band", "urc/cache", "roamservice", "nat", "qcautoconnect"];

export const dataCommands: HandlerTable = {
  "+CGDCONT": (cmd, { modem }) => {
    const ctxs = modem.nv.contexts;
    if (cmd.kind === "test") {
      return info(...PDP_TYPES.map((t) => `+CGDCONT: (1-${MAX_CID}),"${t}",,,(0-2),(0-4),(0,1),(0,1)`));
    }
    if (cmd.kind === "read") {
      return info(...[...ctxs.values()].sort((a, b) => a.cid - b.cid).map((c) =>
        `+CGDCONT: ${c.cid},"${c.type}","${c.apn}","${c.type === "IP" ? ZERO_V4 : ZERO_V6}",0,0,0,0`));
    }
    const p = params(cmd.params);
    const cid = intParam(p?.[0]);
    if (cmd.kind !== "write" || !p || cid === undefined || cid < 1 || cid > MAX_CID) return ERROR;
    if (p.length === 1) { ctxs.delete(cid); return OK; }
    const type = unquote(p[1])?.toUpperCase();
    const apn = p[2] === undefined || p[2] === "" ? "" : unquote(p[2]);
    if (!PDP_TYPES.includes(type as PdpContext["type"]) || apn === undefined) return ERROR;
    const old = ctxs.get(cid);
    ctxs.set(cid, { cid, type: type as PdpContext["type"], apn, user: old?.user ?? "", password: old?.password ?? "", auth: old?.auth ?? 0 });
    return OK;
  },
  "+QICSGP": (cmd, { modem }) => {
    if (cmd.kind === "test") return info('+QICSGP: (1-16),(1-3),"APN","USERNAME","PASSWORD",(0-3)');
    const p = params(cmd.params);
    const cid = intParam(p?.[0]);
    if (cmd.kind !== "write" || !p || cid === undefined || cid < 1 || cid > 16) return ERROR;
    const ctxs = modem.nv.contexts;
    if (p.length === 1) {
      const c = ctxs.get(cid);
      const typeNum = c ? PDP_TYPES.indexOf(c.type) + 1 : 1;
      return info(`+QICSGP: ${typeNum},"${c?.apn ?? ""}","${c?.user ?? ""}","${c?.password ?? ""}",${c?.auth ?? 0}`);
    }
    const typeNum = intParam(p[1]);
    const apn = unquote(p[2]);
    const user = p[3] === undefined ? "" : unquote(p[3]);
    const password = p[4] === undefined ? "" : unquote(p[4]);
    const auth = p[5] === undefined ? 0 : intParam(p[5]);
    if (!typeNum || typeNum > 3 || apn === undefined || user === undefined || password === undefined || auth === undefined || auth > 3) return ERROR;
    ctxs.set(cid, { cid, type: PDP_TYPES[typeNum - 1]!, apn, user, password, auth });
    return OK;
  },
  "+CGPADDR": (cmd, { modem }) => {
    if (cmd.kind === "test") return info(`+CGPADDR: (${[...modem.nv.contexts.keys()].sort((a, b) => a - b).join(",")})`);
    let cids: number[];
    if (cmd.kind === "exec") cids = [...modem.nv.contexts.keys()].sort((a, b) => a - b);
    else {
      const p = params(cmd.params);
      const list = p?.map((t) => intParam(t));
      if (cmd.kind !== "write" || !list || list.some((c) => c === undefined)) return ERROR;
      cids = list as number[];
    }
    return info(...cids.map((cid) => `+CGPADDR: ${cid},"${addressOf(modem, cid)}"`));
  },
  "$QCRMCALL": async (cmd, { modem }) => {
    if (cmd.kind === "test") return info("$QCRMCALL: (0,1),(1,2,3,4,5,6,7,8),(1-3),(1-2),(1-24,100-179),,");
    if (cmd.kind === "read") return modem.data.active ? info("$QCRMCALL: 1,V4") : OK;
    const p = params(cmd.params);
    const action = intParam(p?.[0]);
    const instance = intParam(p?.[1]);
    const profile = p?.[4] === undefined ? 1 : intParam(p[4]);
    if (cmd.kind !== "write" || (action !== 0 && action !== 1) || instance === undefined || profile === undefined) return ERROR;
    if (action === 0) {
      await modem.data.stop();
      return OK;
    }
    if (modem.data.active) return info("$QCRMCALL: 1,V4");
    const r = await modem.data.start({ kind: "at" }, { profile, apn: modem.nv.contexts.get(profile)?.apn });
    return r.ok ? info("$QCRMCALL: 1,V4") : startFailure(modem, r.reason);
  },
  "+CGACT": async (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+CGACT: (0,1)");
    if (cmd.kind === "read") {
      return info(...[...modem.nv.contexts.keys()].sort((a, b) => a - b)
        .map((cid) => `+CGACT: ${cid},${modem.data.session?.profile === cid ? 1 : 0}`));
    }
    const p = params(cmd.params);
    const state = intParam(p?.[0]);
    const cid = p?.[1] === undefined ? 1 : intParam(p[1]);
    if (cmd.kind !== "write" || (state !== 0 && state !== 1) || cid === undefined) return ERROR;
    if (state === 0) { await modem.data.stop(); return OK; }
    if (modem.data.session?.profile === cid) return OK;
    const r = await modem.data.start({ kind: "at" }, { profile: cid, apn: modem.nv.contexts.get(cid)?.apn });
    return r.ok ? OK : startFailure(modem, r.reason);
  },
  "+CGCONTRDP": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    const s = modem.data.session;
    const want = cmd.kind === "write" ? intParam(cmd.params) : undefined;
    if (!s || (want !== undefined && want !== s.profile)) return OK; // nothing active: just OK [T 07]
    const i = s.info;
    return info(`+CGCONTRDP: ${s.profile},5,"${s.apn}","${i.privateIp}.${maskOf(i.prefix)}","${i.gateway}","${i.dns[0] ?? ""}","${i.dns[1] ?? ""}"`);
  },
  "+QGDCNT": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+QGDCNT: (0,1)");
    if (cmd.kind === "read") return info(`+QGDCNT: ${modem.data.txBytes},${modem.data.rxBytes}`);
    const n = intParam(cmd.params);
    if (cmd.kind !== "write" || (n !== 0 && n !== 1)) return ERROR;
    if (n === 0) { modem.data.txBytes = 0; modem.data.rxBytes = 0; }
    return OK;
  },
  "+QCFG": (cmd, { modem }) => {
    if (cmd.kind === "test") {
      return info('+QCFG: "usbnet",(0-3)', '+QCFG: "nwscanmode",(0-8),(0,1)', '+QCFG: "band",(0-200),(0-7FFFFFFFFFFFFFFFF),(0-7FFFFFFFFFFFFFFF),(0,1)', '+QCFG: "urc/cache",(0,1)');
    }
    const p = params(cmd.params);
    const name = unquote(p?.[0])?.toLowerCase();
    if (cmd.kind !== "write" || !p || !name || !usbnetNames.includes(name)) return ERROR;
    const value = p[1] === undefined ? undefined : intParam(p[1]);
    if (name === "usbnet") {
      if (p.length === 1) return info(`+QCFG: "usbnet",${modem.nv.usbnet}`);
      if (value === undefined || value < 0 || value > 3) return ERROR;
      modem.nv.usbnet = value; // takes effect after AT+CFUN=1,1 (ec25.md §1.3)
      return OK;
    }
    if (p.length > 1) return OK;
    // EC25-EU bands: GSM 900/1800, WCDMA B1/B8, LTE B1/B3/B7/B8/B20/B28 (format as [T 24]).
    const reads: Record<string, string> = {
      nwscanmode: '+QCFG: "nwscanmode",0', band: '+QCFG: "band",0x93,0x80800c5,0x0', "urc/cache": '+QCFG: "urc/cache",0',
      roamservice: '+QCFG: "roamservice",255', nat: '+QCFG: "nat",0', qcautoconnect: '+QCFG: "qcautoconnect",0',
    };
    return info(reads[name]!);
  },
  "+QIACT": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+QIACT: (1-16)");
    if (cmd.kind === "read") {
      return info(...[...modem.qiContexts].sort((a, b) => a[0] - b[0]).map(([cid, ip]) => `+QIACT: ${cid},1,1,"${ip}"`));
    }
    const cid = intParam(cmd.params);
    if (cmd.kind !== "write" || cid === undefined || cid < 1 || cid > 16) return ERROR;
    if (!modem.radio.registered) return ERROR;
    if (!modem.qiContexts.has(cid)) modem.qiContexts.set(cid, `100.${modem.rng.int(64, 127)}.${modem.rng.int(0, 255)}.${modem.rng.int(1, 254)}`);
    return OK;
  },
  "+QIDEACT": (cmd, { modem }) => {
    const cid = intParam(cmd.params);
    if (cmd.kind !== "write" || cid === undefined) return ERROR;
    modem.qiContexts.delete(cid);
    return OK;
  },
};
