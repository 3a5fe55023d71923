/** SIM commands (ec25.md §4.2): +CPIN, +QSIMSTAT, +QINISTAT. */
import { intParam } from "../at-parse.ts";
import { cme, ERROR, info, OK } from "../types.ts";
import { simError, type HandlerTable } from "./util.ts";

export const simCommands: HandlerTable = {
  "+CPIN": (cmd, { modem }) => {
    if (cmd.kind === "test") return OK;
    if (cmd.kind === "read") return simError(modem) ?? info("+CPIN: READY");
    if (cmd.kind === "write") return simError(modem) ?? cme(3); // no PIN is set on lab SIMs
    return ERROR;
  },
  "+QSIMSTAT": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+QSIMSTAT: (0,1)");
    if (cmd.kind === "read") return info(`+QSIMSTAT: ${modem.modemSettings.qsimstatN},${modem.radio.simPresent ? 1 : 0}`);
    const n = intParam(cmd.params);
    if (cmd.kind !== "write" || (n !== 0 && n !== 1)) return ERROR;
    modem.modemSettings.qsimstatN = n;
    return OK;
  },
  // Bitmask: 1 CPIN ready, 2 SMS done, 4 PB done → 7 fully initialised.
  "+QINISTAT": (cmd, { modem }) => {
    if (cmd.kind === "test") return info("+QINISTAT: (0-7)");
    return info(`+QINISTAT: ${modem.radio.simReady ? 7 : 0}`);
  },
};
