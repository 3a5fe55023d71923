/**
 * The `qmi` data-connection driver: qmicli as ec25.md §5 describes it. raw-ip framing, start with
 * --client-no-release-cid keeping the packet data handle (PDH) and the WDS client id (CID), read the settings with
 * that CID, put address/prefix/MTU on the interface, and stop with the same PDH and CID. A CID that qmicli leaves
 * allocated after a failure is released with --wds-noop (without --client-no-release-cid).
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { parseQmiCurrentSettings, parseQmiPacketServiceStatus, parseQmiStartNetwork } from "../qmi/parsers.ts";
import { applyInterfaceSettings, clearInterface } from "./interface-config.ts";
import { DATA_DRIVER_DEFAULTS, type DataDriverBase, type DataDriverBaseOptions, resolveBaseOptions } from "./driver-options.ts";
import { leakedCid, Qmicli, qmiErrorToAppError, qmiFailure } from "./qmicli.ts";
import { checkDataModem, startNetworkArg } from "./modem-checks.ts";
import type { DataConnectionDriver, DataModem, DataSession, DataStatus } from "./types.ts";

export interface QmiDriverOptions extends DataDriverBaseOptions {
  /** qmicli path or argv prefix (config net.qmicli; the lab passes its simulator). */
  qmicli?: string | string[];
  /** How raw-ip is set: qmicli --set-expected-data-format, the sysfs file, or not at all. */
  dataFormat?: "qmicli" | "sysfs" | "none";
  /** Root of sysfs for dataFormat "sysfs" (config paths.sysfs_root). */
  sysfsRoot?: string;
  useProxy?: boolean;
  /** qmicli timeout for start-network (default DATA_DRIVER_DEFAULTS.qmiStartTimeoutMs). */
  startTimeoutMs?: number;
  timeoutMs?: number;
}

/** Data sessions through qmicli. */
export class QmiDriver implements DataConnectionDriver {
  readonly name = "qmi" as const;
  private readonly qmicli: Qmicli;
  private readonly base: DataDriverBase;
  private readonly opts: Required<Pick<QmiDriverOptions, "dataFormat" | "sysfsRoot" | "startTimeoutMs">>;

  constructor(opts: QmiDriverOptions = {}) {
    const d = DATA_DRIVER_DEFAULTS;
    this.base = resolveBaseOptions(opts, "data-qmi");
    this.qmicli = new Qmicli({
      command: opts.qmicli ?? d.qmicli, run: this.base.run, useProxy: opts.useProxy ?? d.useQmiProxy, timeoutMs: opts.timeoutMs ?? d.qmiTimeoutMs,
    });
    this.opts = {
      dataFormat: opts.dataFormat ?? d.qmiDataFormat, sysfsRoot: opts.sysfsRoot ?? d.sysfsRoot, startTimeoutMs: opts.startTimeoutMs ?? d.qmiStartTimeoutMs,
    };
  }

  async start(modem: DataModem): Promise<DataSession> {
    checkDataModem(modem, "qmi");
    const dev = modem.qmiPath!;
    await this.ensureRawIp(modem.ifname, dev);

    const res = await this.qmicli.call(dev, [`--wds-start-network=${startNetworkArg(modem)}`, "--client-no-release-cid"], this.opts.startTimeoutMs);
    const started = parseQmiStartNetwork(res.stdout, res.stderr);
    if (res.code !== 0 || !started.ok || !started.value.started || started.value.cid === null) {
      // With --client-no-release-cid qmicli keeps the client even when the call fails: release it or it leaks.
      const leaked = leakedCid(res.stdout);
      if (leaked !== null) await this.releaseCid(dev, leaked);
      if (started.ok && !started.value.started) throw withImei(qmiErrorToAppError("--wds-start-network", dev, started.value.error), modem.imei);
      if (res.code !== 0) throw withImei(qmiFailure("--wds-start-network", dev, res), modem.imei);
      const why = started.ok ? "no CID (was --client-no-release-cid honoured?)" : started.error;
      throw new AppError("QMI_UNEXPECTED_OUTPUT", `qmicli --wds-start-network on ${dev}: ${why}`, { imei: modem.imei, device: dev });
    }
    const pdh = started.value.packetDataHandle;
    const cid = started.value.cid;
    const session: DataSession = {
      imei: modem.imei, ifname: modem.ifname, qmiPath: dev, address: "", prefix: 0, dns: [], mtu: this.base.defaultMtu,
      pdh, cid, driver: "qmi", startedAt: this.base.now(),
    };
    try {
      await this.readSettings(session);
      await applyInterfaceSettings(this.base.ip, session);
    } catch (error) {
      await this.stop(session).catch((e: unknown) => this.base.log.warn({ imei: modem.imei, err: (e as Error).message }, "cleanup stop failed"));
      throw error;
    }
    this.base.log.info({ imei: modem.imei, ifname: modem.ifname, cid, pdh, address: session.address }, "qmi data session up");
    return session;
  }

  async stop(session: DataSession): Promise<void> {
    const dev = session.qmiPath;
    let stopError: AppError | undefined;
    if (dev && session.pdh !== undefined && session.cid !== undefined) {
      const res = await this.qmicli.call(dev, [`--wds-stop-network=${session.pdh}`, `--client-cid=${session.cid}`]).catch((e: AppError) => e);
      if (res instanceof AppError) stopError = res;
      else if (res.code !== 0) stopError = qmiFailure("--wds-stop-network", dev, res);
      if (stopError) {
        // Releasing the client that started the call also ends it; if that works too the session is gone.
        const released = await this.releaseCid(dev, session.cid);
        if (released) stopError = undefined;
      }
    }
    await clearInterface(this.base.ip, session.ifname);
    if (stopError) throw withImei(stopError, session.imei);
  }

  async status(session: DataSession): Promise<DataStatus> {
    if (!session.qmiPath || session.cid === undefined) return "disconnected";
    try {
      const res = await this.qmicli.call(session.qmiPath, ["--wds-get-packet-service-status", `--client-cid=${session.cid}`, "--client-no-release-cid"]);
      const parsed = parseQmiPacketServiceStatus(res.stdout);
      return res.code === 0 && parsed.ok && parsed.value.connected ? "connected" : "disconnected";
    } catch (error) {
      this.base.log.warn({ imei: session.imei, err: (error as Error).message }, "qmi status failed");
      return "disconnected";
    }
  }

  /** Releases a WDS client id (`--wds-noop --client-cid=N`, ec25.md §5.4). True when qmicli succeeded. */
  async releaseCid(device: string, cid: number): Promise<boolean> {
    const res = await this.qmicli.call(device, ["--wds-noop", `--client-cid=${cid}`]).catch(() => undefined);
    const okay = res?.code === 0;
    // A device node that is gone took its client ids with it (the modem re-enumerated or was unplugged).
    const gone = !existsSync(device);
    if (!okay) this.base.log[gone ? "debug" : "warn"]({ device, cid, stderr: res?.stderr.trim() }, gone ? "WDS client id went with its device" : "cannot release WDS client id");
    return okay;
  }

  private async readSettings(session: DataSession): Promise<void> {
    const dev = session.qmiPath!;
    const res = await this.qmicli.call(dev, ["--wds-get-current-settings", `--client-cid=${session.cid}`, "--client-no-release-cid"]);
    if (res.code !== 0) throw withImei(qmiFailure("--wds-get-current-settings", dev, res), session.imei);
    const parsed = parseQmiCurrentSettings(res.stdout, res.stderr);
    const v4 = parsed.ok ? parsed.value.ipv4 : null;
    if (!parsed.ok || !v4 || v4.prefixLength === null) {
      const why = !parsed.ok ? parsed.error : !v4 ? "no IPv4 address" : `unusable subnet mask ${String(v4.subnetMask)}`;
      throw new AppError("QMI_NO_ADDRESS", `modem ${session.imei}: --wds-get-current-settings gave ${why}`, { imei: session.imei, device: dev });
    }
    session.address = v4.address;
    session.prefix = v4.prefixLength;
    session.gateway = v4.gateway ?? undefined;
    session.dns = v4.dns;
    const mtu = parsed.value.mtu;
    session.mtu = mtu !== null && mtu >= 576 && mtu <= 65_535 ? mtu : this.base.defaultMtu;
  }

  /** raw-ip must match on both ends; the kernel side can only change while the interface is down (ec25.md §5.3). */
  private async ensureRawIp(ifname: string, dev: string): Promise<void> {
    if (this.opts.dataFormat === "none") return;
    if (this.opts.dataFormat === "sysfs") {
      const file = join(this.opts.sysfsRoot, "class/net", ifname, "qmi/raw_ip");
      const current = (await readFile(file, "utf8").catch(() => undefined))?.trim();
      if (current === undefined) throw new AppError("QMI_NO_RAW_IP", `${file} does not exist: is ${ifname} a qmi_wwan interface?`, { ifname });
      if (current === "Y") return;
      await this.base.ip.exec(["link", "set", "dev", ifname, "down"]);
      await writeFile(file, "Y\n").catch((e: Error) => {
        throw new AppError("QMI_DATA_FORMAT_FAILED", `cannot set raw-ip on ${ifname}: ${e.message}`, { ifname });
      });
      return;
    }
    await this.base.ip.exec(["link", "set", "dev", ifname, "down"]).catch((e: Error) => {
      throw new AppError("DATA_IFACE_CONFIG_FAILED", `cannot take ${ifname} down: ${e.message}`, { ifname });
    });
    const res = await this.qmicli.call(dev, ["--set-expected-data-format=raw-ip"]);
    if (res.code !== 0) throw qmiFailure("--set-expected-data-format", dev, res);
  }
}

function withImei(e: AppError, imei: string): AppError {
  return new AppError(e.code, e.message, { ...e.details, imei }, { cause: e.cause });
}
