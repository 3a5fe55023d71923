/**
 * The modem manager of one node: the detector's slots → one Supervisor per present modem → rows in `modems`
 * (by node and IMEI) with every state change in `modem_events`. The rest of lteproxy uses this object:
 *
 *   const manager = new ModemManager({ sql, nodeId, deviceDir, sysfsRoot, onRegistered: dataPlaneUp });
 *   manager.on("state", (e) => ...);            // every committed transition, in order per modem
 *   await manager.start();
 *   manager.list(); manager.get(id); manager.driver(id).setRadio("airplane");
 *   await manager.setState(id, "online", "data call up");
 *   await manager.stop();                       // closes ports, leaves states as they are
 *
 * Restart safety: state lives in PostgreSQL. A modem found again after a control-plane restart keeps its row,
 * port and table and is adopted (no detected/identifying round trip); rows of this node whose modem is absent at
 * start become `unplugged`. A manager only reads and writes rows with its own node_id.
 */
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import type { Sql } from "../db/client.ts";
import {
  loadNodeModems, transitionModem, tryLockNodeModems, isModemState, type ModemState, type NodeModemLock, type ModemStateRow, type RadioColumns, type Transition,
} from "../db/queries/modem-state.ts";
import { openAtChannel, type OpenAtChannelOptions } from "./at/open-at-channel.ts";
import type { AtChannel } from "./at/types.ts";
import { runConsoleCommand, type ConsoleReply } from "./console-run.ts";
import { SlotDetector } from "./detector.ts";
import type { ModemDriver, ModemIdentity, ModemStatus } from "./driver-types.ts";
import { Ec25Driver } from "./ec25.ts";
import { Emitter } from "./emitter.ts";
import { Supervisor, type ManagedChannel, type SupervisorHost, type SupervisorTimings } from "./supervisor.ts";
import type { SlotPaths } from "./sysfs.ts";

/** A modem as the rest of the system sees it. */
export interface ManagedModem {
  id: number;
  imei: string;
  slot: string | null;
  state: ModemState;
  stateReason: string | null;
  stateSince: Date;
  /** A supervisor holds its AT port right now. */
  present: boolean;
  paths: SlotPaths | null;
  identity: ModemIdentity | null;
  status: ModemStatus | null;
  proxyPort: number | null;
  routeTable: number | null;
  /** Consecutive failed status polls, and the last error. */
  atFailures: number;
  lastError: string | null;
}

export interface StateEvent extends Transition {
  modem: ManagedModem;
}

export type ManagerEvents = {
  state: (e: StateEvent) => void;
  updated: (modem: ManagedModem, changed: Partial<RadioColumns>) => void;
  identified: (modem: ManagedModem) => void;
  appeared: (slot: string, paths: SlotPaths) => void;
  vanished: (slot: string) => void;
};

/** The data plane's hook: called when a modem reaches `registered` (and on adoption after a restart). */
export type RegisteredHook = (modem: ManagedModem, ctx: { adopted: boolean }) => Promise<void>;

export interface ModemManagerOptions {
  sql: Sql;
  nodeId: string;
  /** LTEPROXY_DEVICE_DIR (default /dev/modems). */
  deviceDir?: string;
  /** LTEPROXY_SYSFS_ROOT (default /sys). */
  sysfsRoot?: string;
  devRoot?: string;
  /** Safety-net rescan of the device dir (default 30 s). */
  rescanMs?: number;
  pollMs?: number;
  fastPollMs?: number;
  degradedAfter?: number;
  retryMs?: number;
  /** How long after start() rows whose slot is occupied may wait for identification before counting as gone. */
  startupGraceMs?: number;
  /** Options of every AT channel (timeouts, resync). */
  channel?: OpenAtChannelOptions;
  /** Replaces openAtChannel (tests). */
  openChannel?: (path: string) => Promise<ManagedChannel>;
  /** Replaces the EC25 driver. */
  createDriver?: (channel: AtChannel) => ModemDriver;
  /** Default: leave the modem in `registered`. */
  onRegistered?: RegisteredHook;
  /** How long start() waits for this node's modem lock (held by another manager or `lteproxy at`); default 15 s. */
  lockWaitMs?: number;
}

const log = childLogger("modems");

export class ModemManager extends Emitter<ManagerEvents> implements SupervisorHost {
  readonly sql: Sql;
  readonly nodeId: string;
  readonly timings: SupervisorTimings;
  readonly detector: SlotDetector;
  onRegistered: RegisteredHook;
  private readonly opts: ModemManagerOptions;
  private readonly rows = new Map<number, ModemStateRow>();
  private readonly bySlot = new Map<string, Supervisor>();
  private readonly byId = new Map<number, Supervisor>();
  /** Rows this process has already identified: later sightings are replugs, not adoptions. */
  private readonly touched = new Set<number>();
  private readonly hooks = new Map<number, Promise<void>>();
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private lock: NodeModemLock | null = null;
  private lockTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;

  constructor(opts: ModemManagerOptions) {
    super(log);
    this.opts = opts;
    this.sql = opts.sql;
    this.nodeId = opts.nodeId;
    if (!opts.nodeId) throw new AppError("MODEM_NO_NODE", "the modem manager needs a node id");
    this.timings = {
      pollMs: opts.pollMs ?? 15_000,
      fastPollMs: opts.fastPollMs ?? 2_000,
      degradedAfter: opts.degradedAfter ?? 2,
      retryMs: opts.retryMs ?? 250,
    };
    this.onRegistered = opts.onRegistered ?? (async () => undefined);
    this.detector = new SlotDetector({
      deviceDir: opts.deviceDir ?? "/dev/modems", sysfsRoot: opts.sysfsRoot ?? "/sys", devRoot: opts.devRoot,
      rescanMs: opts.rescanMs,
    });
    this.detector.on("appeared", (slot, paths) => this.onAppeared(slot, paths));
    this.detector.on("vanished", (slot) => this.onVanished(slot));
    this.detector.on("changed", (slot, paths) => void this.bySlot.get(slot)?.updatePaths(paths));
  }

  /** Loads this node's rows, starts watching the device dir and supervising every present modem. */
  async start(): Promise<void> {
    if (this.running) return;
    this.lock = await this.takeLock(this.opts.lockWaitMs ?? 15_000);
    try {
      for (const row of await loadNodeModems(this.sql, this.nodeId)) this.rows.set(row.id, row);
    } catch (e) {
      await this.lock.release();
      this.lock = null;
      throw e;
    }
    this.lockTimer = setInterval(() => void this.checkLock(), 10_000);
    this.running = true;
    this.detector.start();
    await this.markAbsent(false);
    this.graceTimer = setTimeout(() => void this.markAbsent(true), this.opts.startupGraceMs ?? 10_000);
    log.info({ node: this.nodeId, rows: this.rows.size, present: this.bySlot.size }, "modem manager started");
  }

  /** Stops supervising. Ports are closed; states stay as they are (a restart adopts them). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.detector.stop();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.lockTimer) clearInterval(this.lockTimer);
    await Promise.all([...this.bySlot.values()].map((s) => s.end("manager stopped", { silent: true })));
    await Promise.all([...this.hooks.values()]);
    await this.lock?.release();
    this.lock = null;
  }

  /**
   * One process drives a node's modems: a second `serve` with the same node id, or a `lteproxy at` talking to a
   * port directly, would fight over the ttys. Throws MODEM_NODE_BUSY when the lock stays taken.
   */
  private async takeLock(waitMs: number): Promise<NodeModemLock> {
    const until = Date.now() + waitMs;
    for (;;) {
      const lock = await tryLockNodeModems(this.sql, this.nodeId);
      if (lock) return lock;
      if (Date.now() >= until) {
        throw new AppError("MODEM_NODE_BUSY", `another process drives the modems of node ${this.nodeId} (a second lteproxy serve with the same node id?)`);
      }
      await Bun.sleep(250);
    }
  }

  /** The lock dies with its connection (PostgreSQL restart): take it again. */
  private async checkLock(): Promise<void> {
    if (!this.running || (this.lock && (await this.lock.alive()))) return;
    await this.lock?.release().catch(() => undefined);
    this.lock = await tryLockNodeModems(this.sql, this.nodeId).catch(() => null);
    if (!this.lock) log.error({ node: this.nodeId }, "lost the node's modem lock and could not take it again");
  }

  // ------------------------------------------------------------------ queries

  list(): ManagedModem[] {
    return [...this.rows.values()].map((r) => this.view(r));
  }

  /** By row id, IMEI or slot. */
  get(target: number | string): ManagedModem | undefined {
    const row = this.findRow(target);
    return row ? this.view(row) : undefined;
  }

  /** The driver of a present modem; MODEM_NOT_FOUND for an unknown one, MODEM_NOT_PRESENT when its port is gone. */
  driver(target: number | string): ModemDriver {
    const row = this.findRow(target);
    if (!row) throw new AppError("MODEM_NOT_FOUND", `no modem ${JSON.stringify(target)} on this node`);
    const d = this.byId.get(row.id)?.driver;
    if (!d) throw new AppError("MODEM_NOT_PRESENT", `modem ${row.imei} is ${row.state}: its AT port is not open`, { state: row.state });
    return d;
  }

  channel(target: number | string): AtChannel {
    return this.driver(target).channel;
  }

  /** AT metrics of every open port, by modem id. */
  metrics(): Record<number, unknown> {
    const out: Record<number, unknown> = {};
    for (const [id, s] of this.byId) if (s.channel?.metrics) out[id] = s.channel.metrics();
    return out;
  }

  /** Moves a modem of this node to `state` (row + modem.state event in one transaction). */
  async setState(target: number | string, state: ModemState, reason: string): Promise<Transition | null> {
    if (!isModemState(state)) throw new AppError("MODEM_BAD_STATE", `unknown modem state ${JSON.stringify(state)}`);
    const row = this.findRow(target);
    if (!row) throw new AppError("MODEM_NOT_FOUND", `no modem ${JSON.stringify(target)} on this node`);
    const sup = this.byId.get(row.id);
    if (sup) return sup.setState(state, reason);
    const t = await transitionModem(this.sql, this.nodeId, row.id, state, reason);
    if (t) this.applyTransition(row.id, t);
    return t;
  }

  /** Polls a present modem now and returns its status. */
  async refresh(target: number | string): Promise<ModemStatus | null> {
    const row = this.findRow(target);
    const sup = row ? this.byId.get(row.id) : undefined;
    if (!sup) throw new AppError("MODEM_NOT_PRESENT", `modem ${JSON.stringify(target)} is not present`);
    await sup.poll();
    return sup.status;
  }

  /** Runs one console command on a present modem through the console policy, audited (console-run.ts). */
  async runConsole(target: string, command: string, who: { actor: string; userId?: number | null; ip?: string | null; control?: boolean }): Promise<ConsoleReply> {
    const row = this.findRow(target);
    const sup = row ? this.byId.get(row.id) : undefined;
    return runConsoleCommand({
      sql: this.sql, nodeId: this.nodeId, target, command, ...who,
      send: (cmd) => {
        if (!row) throw new AppError("MODEM_NOT_FOUND", `no modem ${JSON.stringify(target)} on this node`);
        if (!sup?.driver) throw new AppError("MODEM_NOT_PRESENT", `modem ${row.imei} is ${row.state}: its AT port is not open`);
        return sup.driver.raw(cmd);
      },
    });
  }

  private findRow(target: number | string): ModemStateRow | undefined {
    if (typeof target === "number") return this.rows.get(target);
    const t = String(target);
    for (const r of this.rows.values()) if (r.imei === t || r.slot === t || r.usb_device === t) return r;
    return /^\d{1,12}$/.test(t) ? this.rows.get(Number(t)) : undefined;
  }

  private view(row: ModemStateRow): ManagedModem {
    const sup = this.byId.get(row.id);
    return {
      id: row.id, imei: row.imei, slot: row.slot, state: row.state, stateReason: row.state_reason, stateSince: row.state_since,
      present: !!sup?.driver, paths: sup?.paths ?? null, identity: sup?.identity ?? null, status: sup?.status ?? null,
      proxyPort: row.proxy_port, routeTable: row.route_table, atFailures: sup?.failures ?? 0, lastError: sup?.lastError ?? null,
    };
  }

  // ------------------------------------------------------------------ detector

  private onAppeared(slot: string, paths: SlotPaths): void {
    if (!this.running) return;
    this.emit("appeared", slot, paths);
    const old = this.bySlot.get(slot);
    if (old) void old.end("port renamed");
    const sup = new Supervisor(this, paths);
    this.bySlot.set(slot, sup);
    void sup.run();
  }

  private onVanished(slot: string): void {
    this.emit("vanished", slot);
    void this.bySlot.get(slot)?.end("slot removed");
  }

  /**
   * Rows of this node whose modem is not here become `unplugged`: at start for slots that are empty, and after the
   * grace period for slots whose port never identified as that modem.
   */
  private async markAbsent(afterGrace: boolean): Promise<void> {
    if (!this.running) return;
    const present = new Set(this.detector.present().map((p) => p.slot));
    for (const row of [...this.rows.values()]) {
      if (this.touched.has(row.id) || row.state === "unplugged" || row.state === "disabled") continue;
      const inSlot = !!row.slot && present.has(row.slot);
      if (!afterGrace && inSlot) continue;
      // A port in its slot that never answered with an IMEI is most likely this modem, hung: degraded, not gone.
      const [to, reason] = !inSlot ? ["unplugged", "not present at control-plane start"] as const
        : row.state === "degraded" ? [null, ""] as const
        : ["degraded", "its slot's port has not answered since the control plane started"] as const;
      if (!to) continue;
      await this.setState(row.id, to, reason).catch((e) => log.warn({ err: String(e), modem: row.id }, "could not mark absent modem"));
    }
  }

  // ------------------------------------------------------------------ SupervisorHost

  openChannel(path: string): Promise<ManagedChannel> {
    if (this.opts.openChannel) return this.opts.openChannel(path);
    return openAtChannel(path, { hangupPollMs: 100, ...this.opts.channel });
  }

  createDriver(channel: AtChannel): ModemDriver {
    return this.opts.createDriver ? this.opts.createDriver(channel) : new Ec25Driver(channel);
  }

  claim(sup: Supervisor, row: ModemStateRow, _created: boolean): boolean {
    if (!this.running || this.bySlot.get(sup.slot) !== sup) return false;
    this.rows.set(row.id, row);
    const other = this.byId.get(row.id);
    if (other && other !== sup) {
      // Same IMEI in a new slot before the old slot's removal was seen (a modem moved): the old session is stale.
      log.info({ imei: row.imei, from: other.slot, to: sup.slot }, "modem moved to another slot");
      this.byId.delete(row.id);
      void other.end("moved to another slot", { silent: true });
    }
    this.byId.set(row.id, sup);
    this.touched.add(row.id);
    // Another row that claimed this slot belongs to a modem that is no longer here.
    for (const r of this.rows.values()) {
      if (r.id !== row.id && r.slot === sup.slot && !this.byId.has(r.id) && r.state !== "unplugged" && r.state !== "disabled") {
        void this.setState(r.id, "unplugged", `slot now holds IMEI ${row.imei}`).catch(() => undefined);
      }
    }
    return true;
  }

  owns(sup: Supervisor): boolean {
    return !!sup.row && this.byId.get(sup.row.id) === sup;
  }

  adoptable(row: ModemStateRow): boolean {
    return !this.touched.has(row.id) && !["detected", "identifying", "unplugged"].includes(row.state);
  }

  transitioned(sup: Supervisor, t: Transition): void {
    this.applyTransition(t.modemId, t, sup.row ?? undefined);
  }

  private applyTransition(id: number, t: Transition, row?: ModemStateRow): void {
    const cur = row ?? this.rows.get(id);
    if (!cur) return;
    const next = { ...cur, state: t.to, state_reason: t.reason, state_since: t.at };
    this.rows.set(id, next);
    this.emit("state", { ...t, modem: this.view(next) });
  }

  identified(sup: Supervisor): void {
    if (sup.row) this.emit("identified", this.view(sup.row));
  }

  updated(sup: Supervisor, changed: Partial<RadioColumns> | null): void {
    if (sup.row && changed) this.emit("updated", this.view(sup.row), changed);
  }

  /** Runs the data-plane hook once at a time per modem; its failure is logged, never thrown into a poll. */
  registered(sup: Supervisor, adopted: boolean): void {
    const row = sup.row;
    if (!row || this.hooks.has(row.id)) return;
    const p = this.onRegistered(this.view(this.rows.get(row.id) ?? row), { adopted })
      .catch((e) => log.error({ err: e, modem: row.id }, "onRegistered hook failed"))
      .finally(() => this.hooks.delete(row.id));
    this.hooks.set(row.id, p);
  }

  ended(sup: Supervisor): void {
    if (this.bySlot.get(sup.slot) === sup) this.bySlot.delete(sup.slot);
    if (sup.row && this.byId.get(sup.row.id) === sup) this.byId.delete(sup.row.id);
  }
}
