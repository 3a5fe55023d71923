/**
 * The `at-rmnet` data-connection driver: `AT$QCRMCALL=1,1` starts an RmNet call without a QMI client, then DHCP on
 * the modem's interface gives the address (ec25.md §4.5, §5.5). Stop is `AT$QCRMCALL=0,1` plus removing the address.
 */
import type { AtChannel } from "../../modem/at/types.ts";
import { parseQcrmcallRead } from "../../modem/parsers/qcrmcall.ts";
import { AppError } from "../../lib/errors.ts";
import { applyInterfaceSettings, clearInterface } from "./interface-config.ts";
import { DATA_DRIVER_DEFAULTS, type DataDriverBase, type DataDriverBaseOptions, resolveBaseOptions } from "./driver-options.ts";
import { checkDataModem } from "./modem-checks.ts";
import { ensureUdhcpcScript, obtainLease, type UdhcpcOptions } from "./udhcpc.ts";
import type { DataConnectionDriver, DataModem, DataSession, DataStatus } from "./types.ts";

export interface AtRmnetDriverOptions extends Omit<UdhcpcOptions, "netns" | "run">, DataDriverBaseOptions {
  /** Where the udhcpc lease script is written (config paths.runtime_dir). */
  runtimeDir: string;
  /** Finds the AT channel of a modem for stop/status after a restart (sessions started here are remembered). */
  atFor?: (imei: string) => AtChannel | undefined;
  /** Default DATA_DRIVER_DEFAULTS.rmnetCallTimeoutMs. */
  callTimeoutMs?: number;
}

/** Data sessions through AT$QCRMCALL and DHCP. */
export class AtRmnetDriver implements DataConnectionDriver {
  readonly name = "at-rmnet" as const;
  private readonly base: DataDriverBase;
  private readonly channels = new Map<string, AtChannel>();

  constructor(private readonly opts: AtRmnetDriverOptions) {
    this.base = resolveBaseOptions(opts, "data-rmnet");
  }

  async start(modem: DataModem): Promise<DataSession> {
    checkDataModem(modem, "at-rmnet");
    const at = modem.at!;
    this.channels.set(modem.imei, at);
    // A call that is already up (control-plane restart) is reused: a second =1,1 would answer ERROR.
    if ((await this.query(at, modem.imei)) !== "connected") {
      const res = await at.send("AT$QCRMCALL=1,1", { timeoutMs: this.opts.callTimeoutMs ?? DATA_DRIVER_DEFAULTS.rmnetCallTimeoutMs });
      if (!res.ok) {
        throw new AppError("AT_RMNET_CALL_FAILED", `AT$QCRMCALL=1,1 on modem ${modem.imei} failed: ${res.final}`, {
          imei: modem.imei, final: res.final, errorCode: res.errorCode,
        });
      }
    }
    try {
      await this.base.ip.exec(["link", "set", "dev", modem.ifname, "up"]);
      const script = await ensureUdhcpcScript(this.opts.runtimeDir);
      const lease = await obtainLease(modem.ifname, script, { ...this.opts, run: this.base.run, netns: this.base.ip.netns });
      const session: DataSession = {
        imei: modem.imei, ifname: modem.ifname, address: lease.address, prefix: lease.prefix, gateway: lease.gateway,
        dns: lease.dns, mtu: lease.mtu && lease.mtu >= 576 ? lease.mtu : this.base.defaultMtu,
        driver: "at-rmnet", startedAt: this.base.now(),
      };
      await applyInterfaceSettings(this.base.ip, session);
      this.base.log.info({ imei: modem.imei, ifname: modem.ifname, address: session.address }, "rmnet data session up");
      return session;
    } catch (error) {
      await at.send("AT$QCRMCALL=0,1").catch(() => undefined);
      throw error instanceof AppError ? error : new AppError("DATA_START_FAILED", (error as Error).message, { imei: modem.imei }, { cause: error });
    }
  }

  async stop(session: DataSession): Promise<void> {
    const at = this.channels.get(session.imei) ?? this.opts.atFor?.(session.imei);
    let failure: AppError | undefined;
    if (at) {
      const res = await at.send("AT$QCRMCALL=0,1").catch((e: Error) => e);
      // ERROR on stop with no call up means it is already gone; check before calling it a failure.
      if (res instanceof Error || !res.ok) {
        if ((await this.query(at, session.imei)) !== "disconnected") {
          failure = new AppError("AT_RMNET_STOP_FAILED", `AT$QCRMCALL=0,1 on modem ${session.imei} failed: ${res instanceof Error ? res.message : res.final}`, {
            imei: session.imei,
          });
        }
      }
    } else {
      this.base.log.warn({ imei: session.imei }, "no AT channel to stop the rmnet call; only removing the address");
    }
    this.channels.delete(session.imei);
    await clearInterface(this.base.ip, session.ifname);
    if (failure) throw failure;
  }

  async status(session: DataSession): Promise<DataStatus> {
    const at = this.channels.get(session.imei) ?? this.opts.atFor?.(session.imei);
    if (!at) return "disconnected";
    const s = await this.query(at, session.imei);
    return s === "connected" ? "connected" : "disconnected";
  }

  /** `AT$QCRMCALL?`: "$QCRMCALL: 1,V4" while a call is up, bare OK when none. "unknown" on errors. */
  private async query(at: AtChannel, imei: string): Promise<DataStatus | "unknown"> {
    try {
      const res = await at.send("AT$QCRMCALL?");
      if (!res.ok) return "unknown";
      const parsed = parseQcrmcallRead(res.lines);
      if (!parsed.ok) return "unknown";
      return parsed.value.ipv4 ? "connected" : "disconnected";
    } catch (error) {
      this.base.log.warn({ imei, err: (error as Error).message }, "AT$QCRMCALL? failed");
      return "unknown";
    }
  }
}
