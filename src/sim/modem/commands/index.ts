/** Every AT command the simulated EC25 knows, by upper-cased name ("+CSQ", "$QCRMCALL", "E", "&W"). */
import { basicCommands } from "./basic.ts";
import { dataCommands } from "./data.ts";
import { identityCommands } from "./identity.ts";
import { networkCommands } from "./network.ts";
import { powerCommands } from "./power.ts";
import { simCommands } from "./sim.ts";
import { smsCommands } from "./sms.ts";
import type { HandlerTable } from "./util.ts";

export const COMMANDS: HandlerTable = {
  ...basicCommands, ...identityCommands, ...simCommands, ...networkCommands, ...powerCommands, ...dataCommands, ...smsCommands,
};
