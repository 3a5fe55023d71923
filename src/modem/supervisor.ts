/**
 * One modem's life in one slot, from the moment its `at` port appears until it vanishes (or the manager stops):
 * open the port and run the init sequence, read the IMEI and claim the modem's row, identify, then poll status and
 * move the state (lifecycle.ts). Unplug, reboot and crash all end a supervisor; the next appearance starts a new one,
 * which finds the same row by IMEI.
 *
 * State writes are serialised through one promise chain per supervisor, so a modem's `modem.state` events are in
 * the order the changes happened even when a poll and the data-plane hook race.
 */
import { AppError } from "../lib/errors.ts";
import { childLogger, type Logger } from "../lib/logger.ts";
import type { Sql } from "../db/client.ts";
import {
  transitionModem, updateModemIdentity, updateModemPaths, updateModemRadio, upsertSeenModem,
  type ModemState, type ModemStateRow, type RadioColumns, type Transition,
} from "../db/queries/modem-state.ts";
import { DEFAULT_INIT_COMMANDS } from "./at/init-sequence.ts";
import type { AtChannel } from "./at/types.ts";
import { isGoneError } from "./at-result.ts";
import type { ModemDriver, ModemIdentity, ModemStatus } from "./driver-types.ts";
import { changedColumns, desiredState, mayDegrade, pollMayMove, radioColumns, reportedColumns } from "./lifecycle.ts";
import type { SlotPaths } from "./sysfs.ts";

/** An AT channel as the manager opens it: the engine's extras (init, metrics) are optional for fakes. */
export type ManagedChannel = AtChannel & { init?(commands?: readonly string[]): Promise<unknown>; metrics?(): unknown };

/**
 * The init sequence (at/init-sequence.ts) runs after the IMEI and identity are read, so that a new modem has its
 * row within a few commands of appearing (30 modems enumerating at once share two cores with the lab). Until then
 * the port only gets the wake-up `AT`: the engine strips the factory-default echo, and without AT+CMEE=1 a missing
 * SIM answers plain ERROR, which identify() reads as "no ICCID" just the same.
 */
const EARLY_INIT: readonly string[] = [];
const LATE_INIT = DEFAULT_INIT_COMMANDS;

export interface SupervisorTimings {
  /** Status poll period once registered (ms). */
  pollMs: number;
  /** Poll period while searching, degraded or identifying (ms). */
  fastPollMs: number;
  /** Consecutive failed polls before `degraded`. */
  degradedAfter: number;
  /** First retry delay when the port cannot be opened or does not answer (doubles up to 5 s). */
  retryMs: number;
}

/** What a supervisor needs from its manager. */
export interface SupervisorHost {
  readonly sql: Sql;
  readonly nodeId: string;
  readonly timings: SupervisorTimings;
  openChannel(path: string): Promise<ManagedChannel>;
  createDriver(channel: AtChannel): ModemDriver;
  /** The IMEI is known and its row loaded: returns false if this supervisor must give way. */
  claim(sup: Supervisor, row: ModemStateRow, created: boolean): boolean;
  /** True when this supervisor still owns its row (not superseded by the same IMEI elsewhere). */
  owns(sup: Supervisor): boolean;
  /** First sight of the row in this process and its state came from a previous run. */
  adoptable(row: ModemStateRow): boolean;
  transitioned(sup: Supervisor, t: Transition): void;
  identified(sup: Supervisor): void;
  updated(sup: Supervisor, changed: Partial<RadioColumns> | null): void;
  registered(sup: Supervisor, adopted: boolean): void;
  ended(sup: Supervisor): void;
}

const URC_KICK = /^(\+CEREG|\+CREG|\+CGREG|\+CPIN|\+CFUN|\+QUSIM|\+QIND|\+QSIMSTAT|RDY)\b/i;

export class Supervisor {
  readonly log: Logger;
  channel: ManagedChannel | null = null;
  driver: ModemDriver | null = null;
  row: ModemStateRow | null = null;
  identity: ModemIdentity | null = null;
  status: ModemStatus | null = null;
  /** Consecutive failed polls. */
  failures = 0;
  lastError: string | null = null;
  ended = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private pollAgain = false;
  private reported: RadioColumns | null = null;
  private adopting = false;
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly host: SupervisorHost, public paths: SlotPaths) {
    this.log = childLogger("modem", { slot: paths.slot });
  }

  get slot(): string {
    return this.paths.slot;
  }

  get state(): ModemState | "detected" {
    return this.row?.state ?? "detected";
  }

  /** Runs until the port is identified and polling; retries a port that does not answer yet. */
  async run(): Promise<void> {
    for (let attempt = 0; !this.ended; attempt++) {
      try {
        await this.connect();
        return;
      } catch (e) {
        if (this.ended) return;
        await this.closeChannel();
        this.lastError = e instanceof Error ? e.message : String(e);
        const delay = Math.min(5000, this.host.timings.retryMs * 2 ** Math.min(attempt, 6));
        this.log.warn({ err: this.lastError, attempt, retryInMs: delay }, "modem port not usable yet");
        // Known modem (IMEI read) that stopped answering during identification: show it, as a failed poll would.
        if (this.row && attempt + 1 >= this.host.timings.degradedAfter) {
          const why = e instanceof AppError ? e.code : "AT_FAILED";
          await this.enqueue(async () => (mayDegrade(this.state as ModemState) ? this.write("degraded", `${why} while identifying`) : null))
            .catch(() => undefined);
        }
        await Bun.sleep(delay);
      }
    }
  }

  private async connect(): Promise<void> {
    const channel = await this.host.openChannel(this.paths.atPath);
    if (this.ended) {
      await channel.close().catch(() => undefined);
      return;
    }
    this.channel = channel;
    this.unsubscribe.push(channel.onClose((reason) => void this.end(reason === "unplugged" ? "port vanished" : "port closed")));
    await channel.init?.(EARLY_INIT);
    const driver = this.host.createDriver(channel);
    this.driver = driver;
    const imei = await driver.readImei();
    if (this.ended) return;
    const { row, created } = await upsertSeenModem(this.host.sql, this.host.nodeId, {
      imei, slot: this.slot, hub: this.paths.hub, atPath: this.paths.atPath, qmiPath: this.paths.qmiPath,
      ifname: this.paths.ifname, usbDevice: this.paths.usbDevice,
    });
    this.adopting = !created && this.host.adoptable(row);
    this.row = row;
    if (!this.host.claim(this, row, created)) {
      await this.end("superseded", { silent: true });
      return;
    }
    this.log.info({ imei, modemId: row.id, adopted: this.adopting }, "modem identified by IMEI");
    // A disabled modem stays disabled (an admin's decision); everything else is (re)identified.
    if (!this.adopting && row.state !== "disabled") await this.transition("identifying", `appeared in ${this.slot}`);
    this.identity = await driver.identify({ imei });
    await updateModemIdentity(this.host.sql, this.host.nodeId, row.id, this.identity);
    this.host.identified(this);
    this.unsubscribe.push(channel.onUrc((line) => this.onUrc(line)));
    await channel.init?.(LATE_INIT);
    await this.poll();
  }

  /** Sysfs shows more than at appearance (netdev after tty). */
  async updatePaths(paths: SlotPaths): Promise<void> {
    this.paths = paths;
    if (!this.row) return;
    await updateModemPaths(this.host.sql, this.host.nodeId, this.row.id, {
      slot: paths.slot, hub: paths.hub, atPath: paths.atPath, qmiPath: paths.qmiPath, ifname: paths.ifname, usbDevice: paths.usbDevice,
    }).catch((e) => this.log.warn({ err: String(e) }, "could not store modem paths"));
  }

  private onUrc(line: string): void {
    try {
      if (URC_KICK.test(line)) this.schedule(20);
    } catch (e) {
      this.log.warn({ err: String(e) }, "URC handling failed");
    }
  }

  /** Polls now (or right after the running poll). Never rejects. */
  async poll(): Promise<void> {
    if (this.ended || !this.driver || !this.row) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    this.clearTimer();
    try {
      await this.pollOnce();
    } catch (e) {
      this.log.error({ err: e }, "status poll failed unexpectedly");
    } finally {
      this.polling = false;
      if (!this.ended) {
        if (this.pollAgain) {
          this.pollAgain = false;
          this.schedule(0);
        } else if (!this.timer) {
          this.schedule(this.nextPollMs());
        }
      }
    }
  }

  private nextPollMs(): number {
    const s = this.state;
    return s === "searching" || s === "degraded" || s === "identifying" || s === "detected" ? this.host.timings.fastPollMs : this.host.timings.pollMs;
  }

  private async pollOnce(): Promise<void> {
    const driver = this.driver!;
    let status: ModemStatus;
    try {
      status = await driver.status();
    } catch (e) {
      if (this.ended || isGoneError(e)) return;
      this.failures++;
      this.lastError = e instanceof AppError ? `${e.code}: ${e.message}` : String(e);
      this.log.warn({ err: this.lastError, failures: this.failures }, "status poll failed");
      if (this.failures >= this.host.timings.degradedAfter) {
        const code = e instanceof AppError ? e.code : "AT_FAILED";
        await this.enqueue(async () => {
          if (mayDegrade(this.state as ModemState)) await this.write("degraded", `${code} on ${this.failures} polls in a row`);
        });
      }
      return;
    }
    if (this.ended) return;
    this.failures = 0;
    this.lastError = null;
    this.status = status;
    const modemId = this.row!.id;
    if (status.sim === "READY" && this.identity && (this.identity.iccid === null || this.identity.imsi === null)) {
      const sim = await driver.readSimIdentity().catch(() => null);
      if (sim && (sim.iccid || sim.imsi)) {
        this.identity = { ...this.identity, iccid: sim.iccid ?? this.identity.iccid, imsi: sim.imsi ?? this.identity.imsi };
        await updateModemIdentity(this.host.sql, this.host.nodeId, modemId, this.identity);
        this.host.identified(this);
      }
    }
    const cols = radioColumns(status);
    const changed = changedColumns(this.reported, cols);
    await updateModemRadio(this.host.sql, this.host.nodeId, modemId, cols, changed);
    this.reported = reportedColumns(this.reported, cols, changed);
    if (changed) this.host.updated(this, changed);
    const want = desiredState(status);
    const adopting = this.adopting;
    this.adopting = false;
    await this.enqueue(async () => {
      const cur = this.state as ModemState;
      if (pollMayMove(cur, want.state)) {
        const t = await this.write(want.state, cur === "degraded" ? `recovered: ${want.reason}` : want.reason);
        if (t && want.state === "registered") this.host.registered(this, false);
      } else if (adopting && want.state === "registered" && (cur === "registered" || cur === "connecting" || cur === "online")) {
        this.host.registered(this, true);
      }
    });
  }

  /** A state change requested from outside (data-plane hook, heal ladder, admin). */
  setState(to: ModemState, reason: string): Promise<Transition | null> {
    return this.enqueue(() => this.write(to, reason));
  }

  private transition(to: ModemState, reason: string): Promise<Transition | null> {
    return this.enqueue(() => this.write(to, reason));
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Writes one transition (row + event in one transaction). A DB failure is logged; the next poll retries. */
  private async write(to: ModemState, reason: string): Promise<Transition | null> {
    if (!this.row || !this.host.owns(this)) return null;
    let t: Transition | null;
    try {
      t = await transitionModem(this.host.sql, this.host.nodeId, this.row.id, to, reason);
    } catch (e) {
      if (e instanceof AppError && e.code === "MODEM_NOT_FOUND") throw e;
      this.log.error({ err: String(e), to }, "could not store modem state; will retry");
      return null;
    }
    if (t) {
      this.row = { ...this.row, state: t.to, state_reason: reason, state_since: t.at };
      this.log.info({ from: t.from, to: t.to, reason }, "modem state");
      this.host.transitioned(this, t);
    }
    return t;
  }

  private schedule(ms: number): void {
    if (this.ended) return;
    if (this.polling) {
      if (ms <= 50) this.pollAgain = true;
      return;
    }
    if (this.timer && ms > 50) return;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async closeChannel(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    const ch = this.channel;
    this.channel = null;
    this.driver = null;
    await ch?.close().catch(() => undefined);
  }

  /**
   * Ends this supervisor: closes the port and, unless `silent` (manager stop, superseded), records `unplugged`.
   * Idempotent.
   */
  async end(reason: string, { silent = false } = {}): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.clearTimer();
    // The state first: closing a port can take up to the engine's close timeout, unplugged must show within 1 s.
    const closing = this.closeChannel();
    if (!silent && this.row && this.state !== "disabled") {
      await this.enqueue(() => this.write("unplugged", reason)).catch((e) => this.log.warn({ err: String(e) }, "unplug not stored"));
    }
    await closing;
    this.host.ended(this);
  }
}
