/** Functionality and power (ec25.md §4.4): +CFUN? / =0 / =1 / =4 / =1,1, +QPOWD. */
import { intParam } from "../at-parse.ts";
import { ERROR, info, OK } from "../types.ts";
import { params, type HandlerTable } from "./util.ts";

export const powerCommands: HandlerTable = {
  "+CFUN": async (cmd, { modem }) => {
    if (cmd.kind === "read") return info(`+CFUN: ${modem.radio.cfun}`);
    if (cmd.kind === "test") return info("+CFUN: (0,1,4),(0,1)");
    const p = params(cmd.params);
    const fun = intParam(p?.[0]);
    const rst = p?.[1] === undefined ? 0 : intParam(p[1]);
    if (cmd.kind !== "write" || (fun !== 0 && fun !== 1 && fun !== 4) || (rst !== 0 && rst !== 1)) return ERROR;
    if (rst === 1) {
      // OK first; the USB device disconnects within ~1 s and re-enumerates later [T 29].
      modem.reboot();
      return OK;
    }
    await modem.setCfun(fun);
    return OK;
  },
  "+QPOWD": (cmd, { modem }) => {
    const mode = cmd.kind === "exec" ? 1 : intParam(cmd.params);
    if (mode !== 0 && mode !== 1) return ERROR;
    modem.powerDown(mode === 1);
    return OK;
  },
};
