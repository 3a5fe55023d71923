/**
 * Radio, SIM and registration state of one simulated modem (ec25.md §3.5, §4.3, §4.4, §7):
 * power-on → SIM burst → searching (+CEREG: 0,2, +COPS: 0, +CSQ: 99,99) → registered (home 1 / roaming 5).
 * CFUN=0 switches RF and SIM off, CFUN=4 only RF; CFUN=1 re-registers after `registerMs`. Leaving "registered" tears
 * the data call down (the modem calls back through `onDeregistered`).
 */
import type { ModemIdentity, Network } from "../identity.ts";
import { NETWORKS } from "../identity.ts";
import type { Rng } from "../rng.ts";
import type { SimTimings } from "../timings.ts";
import { driftSignal, driftTemperatures, hex, hex4, initialSignal, pickCell, rssiOf, type ServingCell, type Signal, type Temperatures } from "./radio.ts";
import type { ModemSettings } from "./types.ts";

export type SimState = "absent" | "init" | "ready" | "off";

export interface RadioHost {
  emitUrc(lines: string[]): void;
  settings(): ModemSettings;
  /** A timer bound to the current power cycle (dropped on reboot/unplug). */
  after(ms: number, fn: () => void): void;
  onDeregistered(): void;
  /** True while a data call is up (RRC "CONNECT" in +QENG). */
  dataActive(): boolean;
}

export class RadioModel {
  cfun: 0 | 1 | 4 = 1;
  simPresent = true;
  simState: SimState = "init";
  /** 27.007 <stat>: 0 not registered, 1 home, 2 searching, 3 denied, 5 roaming. */
  regStat = 0;
  psAttached = true;
  copsMode: 0 | 1 | 2 = 0;
  manualPlmn?: string;
  noService = false;
  cell?: ServingCell;
  signal: Signal;
  signalCenter: number;
  temps: Temperatures;
  tempCenter: number;
  /** srxlev is "-" on some firmware/cells [T 02, T 27]; a per-modem trait. */
  readonly srxlevDash: boolean;
  private regEpoch = 0;
  private registering = false;

  constructor(private readonly host: RadioHost, readonly identity: ModemIdentity, private readonly rng: Rng,
    private readonly timings: SimTimings) {
    this.signalCenter = rng.int(-105, -75);
    this.signal = initialSignal(rng, this.signalCenter, 3);
    this.tempCenter = rng.int(36, 44);
    this.temps = { pmic: this.tempCenter, xo: this.tempCenter - 3, pa: this.tempCenter - 4 };
    this.srxlevDash = rng.chance(0.3);
  }

  get registered(): boolean {
    return this.regStat === 1 || this.regStat === 5;
  }

  get simReady(): boolean {
    return this.simState === "ready";
  }

  /** The network the modem is (or would be) on: manual selection wins. */
  private targetNetwork(): Network {
    if (this.copsMode === 1 && this.manualPlmn) {
      const n = NETWORKS.find((x) => `${x.mcc}${x.mnc}` === this.manualPlmn);
      if (n) return n;
    }
    return this.identity.network;
  }

  /** Firmware start: RF on, SIM initialising; the modem schedules the SIM burst. */
  boot(): void {
    this.cfun = 1;
    this.simState = this.simPresent ? "init" : "absent";
    this.regStat = 0;
    this.psAttached = true;
    this.copsMode = 0;
    this.manualPlmn = undefined;
    this.cell = undefined;
    this.regEpoch++;
    this.registering = false;
  }

  /** The SIM finished initialising (end of the URC burst). */
  simInitialised(): void {
    if (this.simPresent && this.simState === "init") this.simState = "ready";
    this.update();
  }

  /** Re-evaluates registration after any change of CFUN, SIM, service or operator selection. */
  update(): void {
    const rfOn = this.cfun === 1;
    if (!rfOn) return this.setReg(0, true);
    if (this.noService) return this.setReg(2, true);
    if (!this.cell || this.cell.network !== this.targetNetwork()) this.cell = pickCell(this.rng, this.targetNetwork());
    if (!this.simReady || this.copsMode === 2) return this.setReg(0, true);
    if (this.registered) return;
    this.setReg(2, false);
    if (this.registering) return;
    this.registering = true;
    const epoch = this.regEpoch;
    this.host.after(this.timings.registerMs, () => {
      if (epoch !== this.regEpoch) return;
      this.registering = false;
      if (this.cfun !== 1 || this.noService || !this.simReady || this.copsMode === 2) return;
      this.signal = initialSignal(this.rng, this.signalCenter, this.cell!.band.bwIndex);
      this.setReg(this.identity.roaming ? 5 : 1, false);
    });
  }

  /** Sets <stat>, cancels a pending registration when `cancel`, and emits +CREG/+CGREG/+CEREG URCs. */
  private setReg(stat: number, cancel: boolean): void {
    if (cancel && this.registering) { this.regEpoch++; this.registering = false; }
    if (stat === this.regStat) return;
    const wasRegistered = this.registered;
    this.regStat = stat;
    if (wasRegistered && !this.registered) this.host.onDeregistered();
    this.emitRegUrcs();
  }

  /** URCs per <n>: 1 on a <stat> change, 2 also when only the cell (location) changed (27.007 §7.2). */
  private emitRegUrcs(locationOnly = false): void {
    const s = this.host.settings();
    for (const [name, n] of [["+CREG", s.cregN], ["+CGREG", s.cgregN], ["+CEREG", s.ceregN]] as const) {
      if (n <= 0 || (locationOnly && n < 2)) continue;
      // The URC has no <n> field (ec25.md §3.6): "+CEREG: 1" or "+CEREG: 1,"61EA","A1A9566",7".
      const loc = this.location(name);
      this.host.emitUrc([n >= 2 && loc ? `${name}: ${this.statFor(name)},${loc}` : `${name}: ${this.statFor(name)}`]);
    }
  }

  /** <stat> for CREG (CS) vs CGREG/CEREG (PS: 0 while detached with AT+CGATT=0). */
  statFor(name: "+CREG" | "+CGREG" | "+CEREG"): number {
    if (name !== "+CREG" && !this.psAttached && this.registered) return 0;
    return this.regStat;
  }

  /** `"<tac>","<ci>",7` while registered, else undefined. */
  location(name: "+CREG" | "+CGREG" | "+CEREG"): string | undefined {
    if (!this.cell || this.statFor(name) === 0 || this.statFor(name) === 2) return undefined;
    return `"${hex4(this.cell.tac)}","${hex(this.cell.cellId)}",7`;
  }

  setCfun(fun: 0 | 1 | 4): void {
    const from = this.cfun;
    this.cfun = fun;
    if (fun === 0 && this.simState !== "absent") this.simState = "off"; // CFUN=0 deactivates the SIM (ec25.md §4.4)
    if (fun === 1 && from === 0 && this.simPresent) this.simState = "init";
    this.update();
  }

  removeSim(): void {
    this.simPresent = false;
    this.simState = "absent";
    this.update();
  }

  insertSim(): void {
    this.simPresent = true;
    if (this.simState === "absent") this.simState = this.cfun === 0 ? "off" : "init";
    this.update();
  }

  setNoService(on: boolean): void {
    this.noService = on;
    this.update();
  }

  /** AT+COPS=0 / =1,…,"<plmn>" / =2. */
  selectOperator(mode: 0 | 1 | 2, plmn?: string): void {
    this.copsMode = mode;
    this.manualPlmn = mode === 1 ? plmn : undefined;
    if (mode !== 2 && this.registered && this.cell?.network !== this.targetNetwork()) this.setReg(2, true);
    this.update();
  }

  setPsAttached(on: boolean): void {
    if (this.psAttached === on) return;
    const wasData = this.registered && this.psAttached;
    this.psAttached = on;
    if (wasData && !on) this.host.onDeregistered();
    this.emitRegUrcs();
  }

  /** One drift step: signal walks, sometimes a handover (new cell/band, +CEREG URC with n=2), temperatures follow. */
  drift(): void {
    this.temps = driftTemperatures(this.rng, this.temps, this.tempCenter, this.host.dataActive());
    if (!this.registered || !this.cell) return;
    // A stationary modem rarely changes cell: about one handover per 100 drift periods (~8 min at 5 s).
    if (this.rng.chance(0.01)) {
      this.cell = pickCell(this.rng, this.cell.network);
      this.signal = initialSignal(this.rng, this.signalCenter, this.cell.band.bwIndex);
      this.emitRegUrcs(true);
      return;
    }
    this.signal = driftSignal(this.rng, this.signal, this.signalCenter, this.cell.band.bwIndex);
  }

  setSignalCenter(rsrp: number): void {
    this.signalCenter = Math.max(-140, Math.min(-44, Math.round(rsrp)));
    const { rsrq, sinr } = this.signal;
    this.signal = { rsrp: this.signalCenter, rsrq, sinr, rssi: rssiOf(this.signalCenter, rsrq, this.cell?.band.bwIndex ?? 3) };
  }

  /**
   * The home network's name as the modem reports it (AT+COPS?): networks do rename themselves (NITZ/EONS), and the
   * name is text from the radio, so the lab can put anything there. Registration is kept: same PLMN, same cell.
   */
  setOperatorName(longName: string): void {
    const old = this.identity.network;
    const renamed: Network = { ...old, longName, shortName: longName.slice(0, 16) };
    (this.identity as { network: Network }).network = renamed;
    if (this.cell && this.cell.network === old) this.cell = { ...this.cell, network: renamed };
  }

  setTemperature(c: number): void {
    this.tempCenter = Math.round(c);
    this.temps = { pmic: this.tempCenter, xo: this.tempCenter - 3, pa: this.tempCenter - 4 };
  }

  /** +QENG state: SEARCH / LIMSRV (camped without SIM) / NOCONN / CONNECT (ec25.md §4.3). */
  qengState(): "SEARCH" | "LIMSRV" | "NOCONN" | "CONNECT" | undefined {
    if (this.cfun !== 1 || this.noService || !this.cell) return "SEARCH";
    if (!this.simReady) return "LIMSRV";
    if (!this.registered) return "SEARCH";
    return this.host.dataActive() ? "CONNECT" : "NOCONN";
  }
}
