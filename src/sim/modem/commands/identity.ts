/** Identity commands (ec25.md §4.1): ATI, +CGMI/+GMI, +CGMM/+GMM, +CGMR/+GMR, +QGMR, +GSN/+CGSN, +CIMI, +QCCID. */
import { ERROR, info, OK, type AtResult } from "../types.ts";
import { simError, type Handler, type HandlerTable } from "./util.ts";

/** Exec form answers `lines`; test form answers OK; anything else is ERROR. */
const plain = (lines: (m: Parameters<Handler>[1]["modem"]) => string[]): Handler => (cmd, { modem }): AtResult => {
  if (cmd.kind === "test") return OK;
  if (cmd.kind !== "exec") return ERROR;
  return info(...lines(modem));
};

export const identityCommands: HandlerTable = {
  // "Quectel" / "EC25" / "Revision: …" [T 01]; the model line is EC25 for every EC25 variant.
  I: (cmd, { modem }) => (cmd.params === "" || cmd.params === "0" ? info("Quectel", "EC25", `Revision: ${modem.firmware}`) : ERROR),
  "+CGMI": plain(() => ["Quectel"]),
  "+GMI": plain(() => ["Quectel"]),
  "+CGMM": plain(() => ["EC25"]),
  "+GMM": plain(() => ["EC25"]),
  "+CGMR": plain((m) => [m.firmware]),
  "+GMR": plain((m) => [m.firmware]),
  "+QGMR": plain((m) => [m.qgmr]),
  "+GSN": plain((m) => [m.identity.imei]),
  "+CGSN": plain((m) => [m.identity.imei]),
  "+CSUB": plain(() => ["SubEdition: V03"]),
  "+CIMI": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind !== "exec") return ERROR;
    return simError(modem) ?? info(modem.identity.sim.imsi);
  },
  "+QCCID": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind !== "exec") return ERROR;
    return simError(modem) ?? info(`+QCCID: ${modem.identity.sim.iccid}`);
  },
  "+CNUM": (cmd, { modem }) => {
    if (cmd.kind !== "exec") return cmd.kind === "test" ? OK : ERROR;
    return simError(modem) ?? info(`+CNUM: "","${modem.identity.sim.msisdn}",145`);
  },
};
