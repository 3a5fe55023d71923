/** Picks the data-connection driver from config (net.driver). app.ts calls this; tests build drivers directly. */
import { AppError } from "../../lib/errors.ts";
import { IpCommand } from "../ip-command.ts";
import { AtRmnetDriver, type AtRmnetDriverOptions } from "./at-rmnet-driver.ts";
import type { DataDriverBaseOptions } from "./driver-options.ts";
import { QmiDriver, type QmiDriverOptions } from "./qmi-driver.ts";
import type { DataConnectionDriver, DataDriverName } from "./types.ts";

export type { DataConnectionDriver, DataModem, DataSession, DataStatus, DataDriverName } from "./types.ts";
export { DATA_DRIVER_DEFAULTS, type DataDriverBaseOptions } from "./driver-options.ts";
export { QmiDriver } from "./qmi-driver.ts";
export { AtRmnetDriver } from "./at-rmnet-driver.ts";

/** The config side of both drivers' options: each field is documented where the driver declares it. */
export interface DataDriverConfig
  extends Pick<DataDriverBaseOptions, "run">, Pick<QmiDriverOptions, "sysfsRoot" | "dataFormat">,
    Pick<AtRmnetDriverOptions, "runtimeDir" | "atFor"> {
  driver: DataDriverName | "none";
  /** qmicli path, or an argv prefix such as ["lteproxy", "sim", "qmicli"] for the lab. */
  qmicli: string | string[];
  udhcpc: string;
  /** Namespace of the modems' interfaces (ip, and udhcpc for at-rmnet). */
  netns?: string;
}

/** Returns the configured driver, or undefined for `none` (no data plane). */
export function createDataConnectionDriver(cfg: DataDriverConfig): DataConnectionDriver | undefined {
  const base: DataDriverBaseOptions = { ip: new IpCommand({ netns: cfg.netns, run: cfg.run }), run: cfg.run };
  switch (cfg.driver) {
    case "qmi":
      return new QmiDriver({ ...base, qmicli: cfg.qmicli, sysfsRoot: cfg.sysfsRoot, dataFormat: cfg.dataFormat });
    case "at-rmnet":
      return new AtRmnetDriver({ ...base, runtimeDir: cfg.runtimeDir, udhcpc: cfg.udhcpc, atFor: cfg.atFor });
    case "none":
      return undefined;
    default:
      throw new AppError("CONFIG_INVALID", `unknown data driver ${JSON.stringify((cfg as { driver: unknown }).driver)}`);
  }
}
