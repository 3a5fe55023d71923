/** V.250 basic commands and channel settings: E, V, Q, Z, &F, &W, S-registers, +CMEE, +QURCCFG (ec25.md §3.2, §3.4). */
import { intParam, unquote } from "../at-parse.ts";
import { ERROR, FACTORY_MODEM_SETTINGS, FACTORY_PORT_SETTINGS, info, OK, type PortSettings, type UrcPort } from "../types.ts";
import { params, sleep, type HandlerTable } from "./util.ts";

/** "E", "E0", "E1" → 0/1; anything else → undefined. */
const flag = (p: string) => (p === "" || p === "0" ? 0 : p === "1" ? 1 : undefined);

const URC_PORTS: readonly UrcPort[] = ["usbat", "usbmodem", "uart1", "all"];

function setFlag(key: keyof Pick<PortSettings, "echo" | "verbose" | "quiet">) {
  return (cmd: { params: string; kind: string }, ctx: { settings: PortSettings }) => {
    const v = flag(cmd.params);
    if (v === undefined || cmd.kind !== "exec") return ERROR;
    ctx.settings[key] = v === 1;
    return OK;
  };
}

export const basicCommands: HandlerTable = {
  E: setFlag("echo"),
  V: setFlag("verbose"),
  Q: setFlag("quiet"),
  Z: (cmd, { modem, settings }) => {
    if (flag(cmd.params) === undefined) return ERROR;
    Object.assign(settings, modem.nv.savedPort);
    modem.modemSettings = structuredClone(modem.nv.savedModem);
    return OK;
  },
  "&F": (cmd, { modem, settings }) => {
    if (flag(cmd.params) !== 0) return ERROR;
    Object.assign(settings, FACTORY_PORT_SETTINGS);
    modem.modemSettings = structuredClone(FACTORY_MODEM_SETTINGS);
    return OK;
  },
  "&W": (cmd, { modem, settings }) => {
    if (flag(cmd.params) !== 0) return ERROR;
    modem.nv.savedPort = { ...settings };
    modem.nv.savedModem = structuredClone(modem.modemSettings);
    return OK;
  },
  "&D": () => OK,
  "&C": () => OK,
  "&K": () => OK,
  X: () => OK,
  H: () => OK,
  S: (cmd, { modem }) => {
    const [reg, value] = cmd.params.split("=");
    const n = Number(reg);
    if (cmd.kind === "read") return info(String(modem.sRegisters[n] ?? 0).padStart(3, "0"));
    if (cmd.kind === "write") {
      const v = Number(value);
      if (!Number.isInteger(v) || v < 0 || v > 255) return ERROR;
      modem.sRegisters[n] = v;
    }
    return OK;
  },
  // No PPP in the lab: a dial attempt fails the way a dropped call does.
  D: async () => {
    await sleep(50);
    return { final: { kind: "NO CARRIER" } };
  },
  "+CMEE": (cmd, { settings }) => {
    if (cmd.kind === "read") return info(`+CMEE: ${settings.cmee}`);
    if (cmd.kind === "test") return info("+CMEE: (0-2)");
    const n = cmd.kind === "exec" ? 0 : intParam(cmd.params);
    if (n !== 0 && n !== 1 && n !== 2) return ERROR;
    settings.cmee = n;
    return OK;
  },
  "+QURCCFG": (cmd, { modem }) => {
    if (cmd.kind === "test") return info('+QURCCFG: "urcport",("usbat","usbmodem","uart1","all")');
    const p = params(cmd.params);
    if (cmd.kind !== "write" || !p || unquote(p[0])?.toLowerCase() !== "urcport") return ERROR;
    if (p.length === 1) return info(`+QURCCFG: "urcport","${modem.modemSettings.urcPort}"`);
    const port = unquote(p[1])?.toLowerCase() as UrcPort | undefined;
    if (!port || !URC_PORTS.includes(port)) return ERROR;
    modem.modemSettings.urcPort = port;
    return OK;
  },
  // AT+QNETDEVCTL is the dial command of ASR/Unisoc Quectels; a Qualcomm EC25 does not know it (ec25.md §4.5, §8.3).
  "+QNETDEVCTL": () => ERROR,
  "+QSCLK": (cmd) => (cmd.kind === "read" ? info("+QSCLK: 0") : OK),
  "+QINDCFG": (cmd) => (cmd.kind === "write" ? OK : ERROR),
  "+CGEREP": (cmd) => (cmd.kind === "read" ? info("+CGEREP: 0,0") : cmd.kind === "test" ? info("+CGEREP: (0-2),(0,1)") : OK),
  "+QSIMDET": (cmd) => (cmd.kind === "read" ? info("+QSIMDET: 0,0") : OK),
  "+GCAP": () => info("+GCAP: +CGSM"),
};
