/**
 * The contract between the simulated modems (src/sim/modem) and the lab network (src/sim/net).
 * A modem's data call (AT$QCRMCALL or the lab qmicli) calls sessionUp/sessionDown; faults call linkDown/linkUp.
 */
export type LabNetMode = "none" | "loopback" | "lab";

export interface SessionInfo {
  /** Address the carrier hands the modem (what the box sees on its wwan interface). */
  privateIp: string;
  prefix: number;
  gateway: string;
  dns: string[];
  mtu: number;
  /** Address the internet sees after carrier NAT (198.18.0.0/15 in the lab). */
  publicIp: string;
}

export interface LabNetInfo {
  mode: LabNetMode;
  labId: string;
  /** Namespace where the appliance runs in lab tests (undefined for none/loopback). */
  boxNs?: string;
  carrierNs?: string;
  inetNs?: string;
  /** Address of the box's main uplink ("eth0"); a leak would come from it. */
  uplinkIp?: string;
  /** Address on the box's LAN link that proxy clients use. */
  lanIp?: string;
  /** Base URL of the echo server (GET /ip, GET /bytes/N). */
  echoUrl?: string;
  /** Host name the carrier DNS resolves to the echo server ("echo.lab"). */
  echoHost?: string;
  /** JSON-lines request log of the echo server: {ts, src, method, path}. */
  echoLogPath?: string;
  /** Query log of the carrier DNS. */
  dnsLogPath?: string;
  /** Address the box sees LAN clients come from (root-ns end of the LAN link); for whitelists in tests. */
  lanClientIp?: string;
  /** Box interface names of the LAN link ("lan0") and of the main uplink ("eth0"). */
  lanIfname?: string;
  uplinkIfname?: string;
  /** Carrier DNS servers (also in every SessionInfo.dns). */
  dnsServers?: string[];
  /** The lab's own directory (logs, dnsmasq files); removed by destroy(). */
  dir?: string;
}

export interface LabNetwork {
  readonly mode: LabNetMode;
  /** Creates namespaces, links, servers for `count` modems. Idempotent per lab id. */
  setup(count: number): Promise<void>;
  /** Box-side network interface of modem `index` (0-based), e.g. "wwan3"; undefined in mode none. */
  ifname(index: number): string | undefined;
  /** The modem's data call came up: allocate a private IP and a public IP (the same one again when sticky). */
  sessionUp(index: number, opts: { sticky: boolean }): Promise<SessionInfo>;
  /** The data call ended: the carrier forgets the lease and the NAT mapping. */
  sessionDown(index: number): Promise<void>;
  /** Fault injection: the radio link drops (box-side route goes away, address stays). */
  linkDown(index: number): Promise<void>;
  linkUp(index: number): Promise<void>;
  info(): LabNetInfo;
  /** Removes every object this lab created. Safe to call twice. */
  destroy(): Promise<void>;
  /** Best-effort synchronous destroy for process "exit" handlers (kills, deletes, never throws). */
  destroySync?(): void;
  /** The live session of modem `index`, if its data call is up. */
  session?(index: number): SessionInfo | undefined;
  /** IPv4 packets that reached the inet ns from the box's main uplink since setup (a leak counter; lab mode). */
  uplinkPackets?(): Promise<number>;
}
