/**
 * What both data-connection drivers take besides their own options, and every driver default in one table, so the
 * qmi and at-rmnet drivers (and index.ts, which builds them from config) cannot drift apart.
 */
import { run } from "../../lib/exec.ts";
import { childLogger, type Logger } from "../../lib/logger.ts";
import { type CommandRunner, IpCommand } from "../ip-command.ts";

export interface DataDriverBaseOptions {
  /** Runner for the driver's own tool: qmicli for qmi, udhcpc for at-rmnet (default exec.run). */
  run?: CommandRunner;
  /** ip for the interface (namespace, runner); at-rmnet also runs udhcpc in its namespace. */
  ip?: IpCommand;
  /** MTU when the modem (or the DHCP lease) reports none or an unusable one. */
  defaultMtu?: number;
  logger?: Logger;
  now?: () => number;
}

export const DATA_DRIVER_DEFAULTS = {
  defaultMtu: 1500,
  qmicli: "qmicli",
  /** qmicli calls other than start-network. */
  qmiTimeoutMs: 20_000,
  /** start-network: the network can take tens of seconds to answer. */
  qmiStartTimeoutMs: 60_000,
  qmiDataFormat: "qmicli",
  sysfsRoot: "/sys",
  useQmiProxy: false,
  /** AT$QCRMCALL can take as long as a PDP activation; the EC25 allows up to 150 s for QIACT (ec25.md §4.5). */
  rmnetCallTimeoutMs: 150_000,
} as const;

/** The base options with their defaults filled in. */
export interface DataDriverBase {
  run: CommandRunner;
  ip: IpCommand;
  defaultMtu: number;
  log: Logger;
  now: () => number;
}

/** Fills in the base options; `logName` names the driver's child logger ("data-qmi", "data-rmnet"). */
export function resolveBaseOptions(opts: DataDriverBaseOptions, logName: string): DataDriverBase {
  return {
    run: opts.run ?? run,
    ip: opts.ip ?? new IpCommand(),
    defaultMtu: opts.defaultMtu ?? DATA_DRIVER_DEFAULTS.defaultMtu,
    log: opts.logger ?? childLogger(logName),
    now: opts.now ?? Date.now,
  };
}
