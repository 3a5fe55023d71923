/**
 * Radio and registration commands (ec25.md §4.3): +CSQ, +CREG/+CGREG/+CEREG, +COPS, +QNWINFO, +QSPN,
 * +QENG="servingcell", +QTEMP, +CGATT, +CCLK.
 */
import { NETWORKS, plmnOf, type Network } from "../../identity.ts";
import { intParam, unquote } from "../at-parse.ts";
import { bandName, csqIndex, hex } from "../radio.ts";
import { scts } from "../sms-pdu.ts";
import { cme, ERROR, info, OK } from "../types.ts";
import type { SimModem } from "../modem.ts";
import { params, simError, sleep, type Handler, type HandlerTable } from "./util.ts";

/** Measurements exist while the modem camps on a cell (registered, or limited service without SIM). */
function measuring(m: SimModem): boolean {
  const r = m.radio;
  return r.cfun === 1 && !r.noService && r.cell !== undefined && (r.registered || !r.simReady);
}

function regCommand(name: "+CREG" | "+CGREG" | "+CEREG", key: "cregN" | "cgregN" | "ceregN"): Handler {
  return (cmd, { modem }) => {
    if (cmd.kind === "test") return info(`${name}: (0-2)`);
    if (cmd.kind === "read") {
      const n = modem.modemSettings[key];
      const loc = n === 2 ? modem.radio.location(name) : undefined;
      return info(`${name}: ${n},${modem.radio.statFor(name)}${loc ? `,${loc}` : ""}`);
    }
    const n = cmd.kind === "exec" ? 0 : intParam(cmd.params);
    if (n === undefined || n < 0 || n > 2) return ERROR;
    modem.modemSettings[key] = n;
    return OK;
  };
}

function operatorName(n: Network, format: number): string {
  return format === 2 ? plmnOf(n) : format === 1 ? n.shortName : n.longName;
}

/** Finds a network by the name/number given to AT+COPS=1,<format>,"<oper>". */
function findNetwork(format: number, oper: string): Network | undefined {
  return NETWORKS.find((n) => operatorName(n, format).toLowerCase() === oper.toLowerCase());
}

const cops: Handler = async (cmd, { modem }) => {
  const r = modem.radio;
  if (cmd.kind === "read") {
    if (!r.registered || !r.cell) return info(`+COPS: ${r.copsMode}`);
    return info(`+COPS: ${r.copsMode},${modem.modemSettings.copsFormat},"${operatorName(r.cell.network, modem.modemSettings.copsFormat)}",7`);
  }
  if (cmd.kind === "test") {
    // A full band scan: 30–180 s on the module (ec25.md §3.7, §7).
    await sleep(modem.timings.copsScanMs);
    if (r.cfun !== 1) return cme(3);
    // EC25 output has a single comma before the ranges [T 10].
    if (r.noService) return info("+COPS: ,(0-4),(0-2)");
    const entries = NETWORKS.map((n) => {
      const stat = r.registered && r.cell?.network === n ? 2 : 1;
      return `(${stat},"${n.longName}","${n.shortName}","${plmnOf(n)}",7)`;
    });
    return info(`+COPS: ${entries.join(",")},(0-4),(0-2)`);
  }
  const p = params(cmd.params);
  if (cmd.kind !== "write" || !p || p.length === 0) return ERROR;
  const mode = intParam(p[0]);
  const format = p[1] === undefined || p[1] === "" ? undefined : intParam(p[1]);
  if (format !== undefined && (format < 0 || format > 2)) return ERROR;
  switch (mode) {
    case 0:
      if (format !== undefined) modem.modemSettings.copsFormat = format as 0 | 1 | 2;
      r.selectOperator(0);
      return OK;
    case 2:
      r.selectOperator(2);
      return OK;
    case 3:
      if (format === undefined) return ERROR;
      modem.modemSettings.copsFormat = format as 0 | 1 | 2;
      return OK;
    case 1:
    case 4: {
      const oper = unquote(p[2]);
      if (format === undefined || oper === undefined) return ERROR;
      const network = findNetwork(format, oper);
      if (!network) {
        if (mode === 4) { r.selectOperator(0); return OK; }
        await sleep(modem.timings.registerMs);
        return cme(30);
      }
      r.selectOperator(1, plmnOf(network));
      return OK;
    }
    default:
      return ERROR;
  }
};

function qengServingCell(m: SimModem): string {
  const r = m.radio;
  const state = r.qengState();
  if (state === "SEARCH" || !r.cell) return '+QENG: "servingcell","SEARCH"';
  const c = r.cell;
  const s = r.signal;
  const srxlev = r.srxlevDash ? "-" : String(Math.max(0, s.rsrp + 124));
  // 18 fields after "+QENG: " [T 02, T 34, T 36]; MNC keeps its leading zero, cell id and TAC are bare hex.
  return `+QENG: "servingcell","${state}","LTE","FDD",${c.network.mcc},${c.network.mnc},${hex(c.cellId)},${c.pci},` +
    `${c.band.earfcn},${c.band.band},${c.band.bwIndex},${c.band.bwIndex},${hex(c.tac)},${s.rsrp},${s.rsrq},${s.rssi},${s.sinr},${srxlev}`;
}

export const networkCommands: HandlerTable = {
  "+CSQ": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+CSQ: (0-31,99),(0-7,99)");
    if (cmd.kind !== "exec") return ERROR;
    return info(measuring(modem) ? `+CSQ: ${csqIndex(modem.radio.signal.rssi)},99` : "+CSQ: 99,99");
  },
  "+CREG": regCommand("+CREG", "cregN"),
  "+CGREG": regCommand("+CGREG", "cgregN"),
  "+CEREG": regCommand("+CEREG", "ceregN"),
  "+COPS": cops,
  "+QNWINFO": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind !== "exec") return ERROR;
    const r = modem.radio;
    if (!r.registered || !r.cell) return info("+QNWINFO: No Service");
    return info(`+QNWINFO: "FDD LTE","${plmnOf(r.cell.network)}","${bandName(r.cell.band.band)}",${r.cell.band.earfcn}`);
  },
  "+QSPN": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind !== "exec") return ERROR;
    const bad = simError(modem);
    if (bad) return bad;
    const r = modem.radio;
    const spn = modem.identity.sim.spn;
    if (!r.registered || !r.cell) return info(`+QSPN: "","","${spn}",0,""`);
    const n = r.cell.network;
    return info(`+QSPN: "${n.longName}","${n.shortName}","${spn}",0,"${plmnOf(n)}"`);
  },
  "+QENG": (cmd, { modem }) => {
    if (cmd.kind === "test") return info('+QENG: "servingcell"', '+QENG: "neighbourcell"');
    const p = params(cmd.params);
    const what = unquote(p?.[0])?.toLowerCase();
    // Keywords must be quoted: AT+QENG=SERVINGCELL gives ERROR (ec25.md §3.4.7).
    if (cmd.kind !== "write" || !what) return ERROR;
    if (what === "servingcell") return info(qengServingCell(modem));
    if (what === "neighbourcell") return OK; // no neighbours measured in the lab
    return ERROR;
  },
  "+QTEMP": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind !== "exec") return ERROR;
    const t = modem.radio.temps;
    return info(`+QTEMP: ${t.pmic},${t.xo},${t.pa}`);
  },
  "+CGATT": async (cmd, { modem }) => {
    const r = modem.radio;
    if (cmd.kind === "read") return info(`+CGATT: ${r.registered && r.psAttached ? 1 : 0}`);
    if (cmd.kind === "test") return info("+CGATT: (0,1)");
    const n = intParam(cmd.params);
    if (cmd.kind !== "write" || (n !== 0 && n !== 1)) return ERROR;
    await sleep(modem.timings.cfunMs / 2);
    // A refused attach is a bare ERROR even with CMEE=1 [T 10].
    if (n === 1 && !r.registered) return ERROR;
    r.setPsAttached(n === 1);
    return OK;
  },
  "+CCLK": (cmd) => {
    if (cmd.kind === "read") return info(`+CCLK: "${scts(new Date())}"`);
    return cmd.kind === "write" || cmd.kind === "test" ? OK : ERROR;
  },
};
