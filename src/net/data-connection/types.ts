/**
 * The contract of a data-connection driver: bring a modem's packet data session up, report it, take it down.
 * `qmi` (qmicli, ec25.md §5) and `at-rmnet` (AT$QCRMCALL + DHCP, ec25.md §4.5) end in the same state: the address,
 * prefix and MTU on the modem's interface, and a DataSession describing it. Routes are not theirs: the routing
 * reconciler owns them.
 */
import type { AtChannel } from "../../modem/at/types.ts";

export type DataDriverName = "qmi" | "at-rmnet";

export interface DataModem {
  imei: string;
  /** Network interface of the modem ("wwan3"). */
  ifname: string;
  /** QMI control device (/dev/cdc-wdm3, or the lab's `DIR/<slot>/qmi`); required by the qmi driver. */
  qmiPath?: string;
  /** AT command channel; required by the at-rmnet driver. */
  at?: AtChannel;
  apn: string;
  /** Only IPv4 is routed today; 6 is refused with DATA_IPTYPE_UNSUPPORTED. */
  ipType: 4 | 6;
  username?: string;
  password?: string;
  auth?: "none" | "pap" | "chap" | "both";
}

export interface DataSession {
  imei: string;
  ifname: string;
  qmiPath?: string;
  address: string;
  prefix: number;
  gateway?: string;
  dns: string[];
  mtu: number;
  /** QMI packet data handle (uint32), needed to stop the session (ec25.md §5.4). */
  pdh?: number;
  /** WDS client id kept with --client-no-release-cid; the same CID must stop the session. */
  cid?: number;
  driver: DataDriverName;
  startedAt: number;
}

export type DataStatus = "connected" | "disconnected";

export interface DataConnectionDriver {
  readonly name: DataDriverName;
  /** Starts the data call and configures the interface. Rejects with an AppError whose code says what failed. */
  start(modem: DataModem): Promise<DataSession>;
  /** Ends the call and removes the address. Best effort: succeeds when the call is gone, even if a step failed. */
  stop(session: DataSession): Promise<void>;
  /** What the modem says about the call. Errors talking to the modem count as "disconnected". */
  status(session: DataSession): Promise<DataStatus>;
}
