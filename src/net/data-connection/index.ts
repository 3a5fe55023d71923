/** Picks the data-connection driver from config (net.driver). app.ts calls this; tests build drivers directly. */
import { AppError } from "../../lib/errors.ts";
import type { CommandRunner } from "../ip-command.ts";
import { IpCommand } from "../ip-command.ts";
import { AtRmnetDriver } from "./at-rmnet-driver.ts";
import { QmiDriver } from "./qmi-driver.ts";
import type { AtChannel } from "../../modem/at/types.ts";
import type { DataConnectionDriver } from "./types.ts";

export type { DataConnectionDriver, DataModem, DataSession, DataStatus, DataDriverName } from "./types.ts";
export { QmiDriver } from "./qmi-driver.ts";
export { AtRmnetDriver } from "./at-rmnet-driver.ts";

export interface DataDriverConfig {
  driver: "qmi" | "at-rmnet" | "none";
  /** qmicli path, or an argv prefix such as ["lteproxy", "sim", "qmicli"] for the lab. */
  qmicli: string | string[];
  udhcpc: string;
  netns?: string;
  runtimeDir: string;
  sysfsRoot?: string;
  dataFormat?: "qmicli" | "sysfs" | "none";
  run?: CommandRunner;
  atFor?: (imei: string) => AtChannel | undefined;
}

/** Returns the configured driver, or undefined for `none` (no data plane). */
export function createDataConnectionDriver(cfg: DataDriverConfig): DataConnectionDriver | undefined {
  const ip = new IpCommand({ netns: cfg.netns, run: cfg.run });
  switch (cfg.driver) {
    case "qmi":
      return new QmiDriver({ qmicli: cfg.qmicli, ip, run: cfg.run, sysfsRoot: cfg.sysfsRoot, dataFormat: cfg.dataFormat });
    case "at-rmnet":
      return new AtRmnetDriver({ runtimeDir: cfg.runtimeDir, udhcpc: cfg.udhcpc, ip, run: cfg.run, atFor: cfg.atFor });
    case "none":
      return undefined;
    default:
      throw new AppError("CONFIG_INVALID", `unknown data driver ${JSON.stringify((cfg as { driver: unknown }).driver)}`);
  }
}
