/**
 * One simulated Quectel EC25-EUX: two AT ports on real ptys, a QMI endpoint, radio/SIM/data state and its USB life
 * (enumerate, reboot, crash, unplug, USB reset). The lab (src/sim/lab.ts) creates them; the control API
 * (ctl/actions.ts, fault-ops.ts) and tests drive them. Timings come from timings.ts, already scaled by the lab.
 */
import { childLogger, type Logger } from "../../lib/logger.ts";
import type { ModemIdentity } from "../identity.ts";
import type { LabNetwork } from "../net/types.ts";
import { QmiClients, type QmiService } from "../qmi/clients.ts";
import { runQmicli } from "../qmi/exec.ts";
import { QmiSocketServer } from "../qmi/server.ts";
import { Rng } from "../rng.ts";
import type { SimTimings } from "../timings.ts";
import type { SlotTopology } from "../topology.ts";
import type { Enumeration, UsbHost } from "../usb/usb-host.ts";
import type { AtCommand } from "./at-parse.ts";
import { AtEngine, type EngineHost } from "./at-engine.ts";
import { COMMANDS } from "./commands/index.ts";
import { DataCalls } from "./data-call.ts";
import { PtyPort } from "./pty-port.ts";
import { RadioModel, type RadioHost } from "./radio-model.ts";
import { summarize, type Faults, type ModemSummary } from "./summary.ts";
import { SmsStore } from "./sms-store.ts";
import {
  cme, ERROR, FACTORY_MODEM_SETTINGS, FACTORY_PORT_SETTINGS, type AtResult, type ModemSettings, type NvState,
  type PortName, type PortSettings,
} from "./types.ts";

export type { Faults, ModemSummary } from "./summary.ts";

/** Where the modem is in its USB life. */
export type UsbState = "attached" | "rebooting" | "crashed" | "unplugged" | "hub-failed" | "deauthorized" | "powered-down" | "stopped";

export interface SimModemOptions {
  index: number;
  seed: number;
  identity: ModemIdentity;
  topology: SlotTopology;
  timings: SimTimings;
  usb: UsbHost;
  net?: LabNetwork;
  /** AT+CGMR / ATI revision. */
  firmware: string;
  /** AT+QGMR. */
  qgmr: string;
}

interface Port {
  pty: PtyPort;
  engine: AtEngine;
}

const PORT_NAMES: readonly PortName[] = ["at", "modem"];

export class SimModem implements EngineHost, RadioHost {
  readonly index: number;
  readonly identity: ModemIdentity;
  readonly topology: SlotTopology;
  readonly timings: SimTimings;
  readonly firmware: string;
  readonly qgmr: string;
  readonly rng: Rng;
  readonly radio: RadioModel;
  readonly data: DataCalls;
  readonly sms = new SmsStore();
  readonly qmi: QmiClients;
  readonly faults: Faults = { hang: false, wedge: false, slowMs: 0, garbage: false, sticky: 0, cme: new Map(), linkDown: false };
  readonly nv: NvState = {
    usbnet: 0,
    contexts: new Map([[1, { cid: 1, type: "IP", apn: "internet", user: "", password: "", auth: 0 }]]),
    savedPort: { ...FACTORY_PORT_SETTINGS },
    savedModem: structuredClone(FACTORY_MODEM_SETTINGS),
  };
  modemSettings: ModemSettings = structuredClone(FACTORY_MODEM_SETTINGS);
  readonly portSettings: Record<PortName, PortSettings> = { at: { ...FACTORY_PORT_SETTINGS }, modem: { ...FACTORY_PORT_SETTINGS } };
  readonly sRegisters: Record<number, number> = { 0: 0, 3: 13, 4: 10, 5: 8, 7: 0, 10: 15 };
  /** Internal TCP/IP stack contexts (AT+QIACT). */
  readonly qiContexts = new Map<number, string>();
  ussdReply = "Ihr Guthaben betraegt 12,34 EUR.";
  /** Kernel side: does qmi_wwan expect raw-ip on the netdev (qmicli --set-expected-data-format)? */
  rawIp = false;
  usbState: UsbState = "stopped";
  enumeration?: Enumeration;
  readonly log: Logger;

  readonly net?: LabNetwork;
  private readonly usb: UsbHost;
  private ports = new Map<PortName, Port>();
  private qmiServer?: QmiSocketServer;
  private unwatchAuthorized?: () => void;
  /** Timers of the running firmware (dropped on reboot, crash, unplug). */
  private powerEpoch = 0;
  /** Pending USB life steps (a newer action cancels older ones). */
  private lifeEpoch = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private driftTimer?: ReturnType<typeof setInterval>;
  private messageReference = 0;
  private readonly garbageRng: Rng;

  constructor(opts: SimModemOptions) {
    this.index = opts.index;
    this.identity = opts.identity;
    this.topology = opts.topology;
    this.timings = opts.timings;
    this.firmware = opts.firmware;
    this.qgmr = opts.qgmr;
    this.usb = opts.usb;
    this.net = opts.net;
    this.rng = Rng.stream(opts.seed, `modem/${opts.index}`);
    this.garbageRng = Rng.stream(opts.seed, `garbage/${opts.index}`);
    this.log = childLogger("sim", { slot: opts.topology.slot, modem: opts.index });
    this.radio = new RadioModel(this, opts.identity, Rng.stream(opts.seed, `radio/${opts.index}`), opts.timings);
    this.qmi = new QmiClients(Rng.stream(opts.seed, `qmi/${opts.index}`));
    this.data = new DataCalls({
      index: opts.index,
      net: opts.net,
      rng: Rng.stream(opts.seed, `data/${opts.index}`),
      blocker: () => (!this.radio.simReady ? "no-sim" : !this.radio.registered || !this.radio.psAttached ? "no-service" : undefined),
      sticky: () => this.faults.sticky,
      dataCallMs: () => this.timings.dataCallMs,
      log: (msg, extra) => this.log.warn(extra ?? {}, msg),
    });
  }

  // ---------------------------------------------------------------- timers

  /** A timer of the running firmware: skipped when the modem rebooted, crashed or vanished meanwhile. */
  after(ms: number, fn: () => void): void {
    const epoch = this.powerEpoch;
    this.schedule(ms, () => { if (epoch === this.powerEpoch) fn(); });
  }

  private afterLife(ms: number, fn: () => void | Promise<void>): void {
    const epoch = this.lifeEpoch;
    this.schedule(ms, () => {
      if (epoch !== this.lifeEpoch) return;
      Promise.resolve(fn()).catch((error) => this.log.error({ error: String(error) }, "sim life step failed"));
    });
  }

  private schedule(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  // ---------------------------------------------------------------- EngineHost / RadioHost

  get hung(): boolean {
    return this.faults.hang;
  }

  get wedged(): boolean {
    return this.faults.wedge;
  }

  garbage(): Uint8Array | undefined {
    return this.faults.garbage ? this.noise(this.garbageRng.int(4, 24)) : undefined;
  }

  /** Random line noise: any byte value, now and then a stray CR/LF. */
  noise(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.garbageRng.chance(0.1) ? this.garbageRng.pick([0x0d, 0x0a]) : this.garbageRng.int(0, 255);
    return out;
  }

  latencyMs(): number {
    return this.rng.float(this.timings.queryMinMs, this.timings.queryMaxMs) + this.faults.slowMs;
  }

  finalGapMs(): number {
    return this.timings.finalGapMs;
  }

  async execute(cmd: AtCommand, port: PortName, settings: PortSettings): Promise<AtResult> {
    const forced = this.forcedCme(cmd);
    if (forced !== undefined) return cme(forced);
    const handler = COMMANDS[cmd.name];
    if (!handler) return ERROR; // unknown command [T 04]
    return handler(cmd, { modem: this, port, settings });
  }

  /** The canonical text of a command ("+COPS?", "+CGDCONT=1,\"IP\"") and the injected CME error matching it. */
  private forcedCme(cmd: AtCommand): number | undefined {
    if (this.faults.cme.size === 0) return undefined;
    const suffix = cmd.kind === "read" ? "?" : cmd.kind === "test" ? "=?" : cmd.kind === "write" ? `=${cmd.params}` : cmd.params;
    const canonical = `${cmd.name}${suffix}`.toUpperCase();
    for (const [key, code] of this.faults.cme) if (canonical.startsWith(key)) return code;
    return undefined;
  }

  settings(): ModemSettings {
    return this.modemSettings;
  }

  onDeregistered(): void {
    if (this.data.active) void this.data.stop();
  }

  dataActive(): boolean {
    return this.data.active;
  }

  /** Sends an unsolicited result code to the configured URC port(s) (AT+QURCCFG="urcport"). */
  emitUrc(lines: string[]): void {
    const target = this.modemSettings.urcPort;
    for (const name of PORT_NAMES) {
      if (target === "all" || (target === "usbat" && name === "at") || (target === "usbmodem" && name === "modem")) {
        this.ports.get(name)?.engine.urc(lines);
      }
    }
  }

  nextMessageReference(): number {
    this.messageReference = (this.messageReference + 1) % 256;
    return this.messageReference;
  }

  // ---------------------------------------------------------------- radio actions used by commands and QMI

  /** AT+CFUN=0/1/4 (and qmicli --dms-set-operating-mode). Resolves when the module would answer OK. */
  async setCfun(fun: 0 | 1 | 4): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.timings.cfunMs));
    const from = this.radio.cfun;
    if (from === fun) return;
    this.radio.setCfun(fun);
    // Back from CFUN=0 the SIM is powered again: the URC burst follows [T 20].
    if (fun === 1 && from === 0 && this.radio.simPresent) this.after(this.timings.simInitMs, () => this.simBurst());
  }

  /** The SIM init URC burst [T 20]; at boot "+CFUN: 1" comes between +QUSIM and +QIND [T 37]. */
  /** (Internal: also used by fault injection.) */
  simBurst(boot = false): void {
    if (!this.radio.simPresent) return;
    const urcs = ["+CPIN: READY", "+QUSIM: 1", ...(boot ? [`+CFUN: ${this.radio.cfun}`] : []), "+QIND: SMS DONE", "+QIND: PB DONE"];
    for (const urc of urcs) this.emitUrc([urc]);
    this.radio.simInitialised();
  }

  /** AT+CFUN=1,1 or qmicli reset: OK first, ports gone ~vanishMs later, back after rebootMs. */
  reboot(): void {
    this.lifeEpoch++;
    this.afterLife(this.timings.vanishMs, async () => {
      await this.vanish("rebooting", { firmwareOff: true });
      this.afterLife(this.timings.rebootMs, () => this.enumerate({ boot: true }));
    });
  }

  /** AT+QPOWD: "POWERED DOWN" (usually lost with the port), then off until replugged. */
  powerDown(graceful: boolean): void {
    this.lifeEpoch++;
    this.afterLife(this.timings.vanishMs / 2, async () => {
      if (graceful) this.emitUrc(["POWERED DOWN"]);
      await this.vanish("powered-down", { firmwareOff: true });
    });
  }

  setRawIp(on: boolean): void {
    this.rawIp = on;
    if (this.enumeration) {
      this.enumeration.rawIp = on;
      this.usb.sysfs.setRawIp(this.enumeration);
    }
  }

  /** A qmicli run released its client: a data call started by that WDS client ends with it (ec25.md §5.4). */
  async releaseQmiClient(service: QmiService, cid: number): Promise<void> {
    this.qmi.release(service, cid);
    const s = this.data.session;
    if (service === "wds" && s && s.owner.kind === "qmi" && s.owner.cid === cid) await this.data.stop();
  }

  // ---------------------------------------------------------------- USB life

  /** First power-on at lab start. */
  async powerOn(): Promise<void> {
    this.lifeEpoch++;
    this.driftTimer ??= setInterval(() => this.drift(), Math.max(10, this.timings.driftMs));
    this.driftTimer.unref?.();
    await this.enumerate({ boot: true });
  }

  private drift(): void {
    if (this.usbState !== "attached" && this.usbState !== "deauthorized") return;
    this.radio.drift();
    this.data.tick();
  }

  /** Ports, qmi socket and files appear; with `boot` the firmware starts from scratch (URC burst, registration). */
  private async enumerate({ boot, withDevice = true }: { boot: boolean; withDevice?: boolean }): Promise<void> {
    if (this.usb.hubFailed(this.topology.hub)) { this.usbState = "hub-failed"; return; }
    if (this.enumeration) return;
    const en = this.usb.allocate(this.topology, { qmi: this.nv.usbnet === 0, rawIp: this.rawIp });
    if (boot) this.firmwareBoot();
    const ports = new Map<PortName, Port>();
    for (const name of PORT_NAMES) {
      let engine!: AtEngine;
      const pty = new PtyPort((bytes) => engine.feed(bytes));
      engine = new AtEngine(this, name, pty, this.portSettings[name]);
      engine.settings = this.portSettings[name];
      ports.set(name, { pty, engine });
    }
    this.ports = ports;
    if (en.qmiSocket) this.qmiServer = QmiSocketServer.listen(en.qmiSocket, (argv) => runQmicli(this, argv));
    this.usb.publish(en, { at: ports.get("at")!.pty.slavePath, modem: ports.get("modem")!.pty.slavePath }, { withDevice });
    this.enumeration = en;
    this.usbState = "attached";
    // After a USB reset the device dir (and its watch) survived; otherwise watch the new `authorized` file.
    this.unwatchAuthorized ??= this.usb.watchAuthorized(en, (v) => this.onAuthorizedWrite(v));
    if (boot) this.bootUrcs();
  }

  private firmwareBoot(): void {
    this.powerEpoch++;
    this.modemSettings = structuredClone(this.nv.savedModem);
    for (const name of PORT_NAMES) Object.assign(this.portSettings[name], this.nv.savedPort);
    this.qmi.reset();
    this.qiContexts.clear();
    this.radio.boot();
  }

  /** RDY, then the SIM burst with +CFUN: 1 inside (ec25.md §3.5, [T 37]); registration follows in RadioModel. */
  private bootUrcs(): void {
    this.after(this.timings.rdyMs, () => this.emitUrc(["RDY"]));
    this.after(this.timings.rdyMs + this.timings.simInitMs, () => {
      if (this.radio.simPresent) return this.simBurst(true);
      this.emitUrc([`+CFUN: ${this.radio.cfun}`]);
      this.radio.simInitialised();
    });
  }

  /** Every port of the modem disappears. `firmwareOff`: the module lost power/rebooted (state resets on boot). */
  private async vanish(next: UsbState, { firmwareOff, keepDevice = false }: { firmwareOff: boolean; keepDevice?: boolean }): Promise<void> {
    if (firmwareOff) {
      this.powerEpoch++;
      this.radio.regStat = 0;
    }
    if (!keepDevice) {
      this.unwatchAuthorized?.();
      this.unwatchAuthorized = undefined;
    }
    const en = this.enumeration;
    this.enumeration = undefined;
    this.usbState = next;
    if (en) this.usb.unpublish(en, { keepDevice });
    const ports = [...this.ports.values()];
    this.ports = new Map();
    for (const p of ports) p.engine.close();
    this.qmiServer?.stop();
    this.qmiServer = undefined;
    await Promise.all(ports.map((p) => p.pty.close()));
    if (en) this.usb.release(en);
    this.qmi.reset();
    await this.data.stop();
  }

  private onAuthorizedWrite(value: string): void {
    if (value === "0" && this.usbState === "attached") this.deauthorize();
    else if (value === "1" && this.usbState === "deauthorized") this.authorize();
    else if (value === "1" && this.usbState === "attached") {
      // The "0" was written and overwritten before we looked: still a reset.
      this.deauthorize();
      this.authorize();
    }
  }

  /** sysfs authorized=0: interfaces go away, the firmware keeps running (registration survives). */
  deauthorize(): void {
    this.lifeEpoch++;
    this.afterLife(0, () => this.vanish("deauthorized", { firmwareOff: false, keepDevice: true }));
  }

  /** sysfs authorized=1 after 0: the interfaces re-enumerate under new names. */
  authorize(): void {
    this.lifeEpoch++;
    this.afterLife(this.timings.enumerateMs, async () => {
      if (this.usbState === "attached") await this.vanish("deauthorized", { firmwareOff: false, keepDevice: true });
      if (this.usbState === "deauthorized") await this.enumerate({ boot: false, withDevice: false });
    });
  }

  /** Firmware crash: every port vanishes without an answer; the module restarts after rebootMs. */
  async crash(): Promise<void> {
    this.lifeEpoch++;
    await this.vanish("crashed", { firmwareOff: true });
    this.afterLife(this.timings.rebootMs, () => this.enumerate({ boot: true }));
  }

  async unplug(state: "unplugged" | "hub-failed" = "unplugged"): Promise<void> {
    this.lifeEpoch++;
    await this.vanish(state, { firmwareOff: true });
  }

  /** Plugged back (or its hub came back): enumerates after enumerateMs and boots. */
  replug(): void {
    if (this.usbState === "attached") return;
    this.lifeEpoch++;
    this.afterLife(this.timings.enumerateMs, async () => {
      if (this.usbState === "deauthorized") await this.vanish("unplugged", { firmwareOff: true, keepDevice: false });
      await this.enumerate({ boot: true });
    });
  }

  /** Lab shutdown: everything this modem made goes away, the network forgets its session. */
  async stop(): Promise<void> {
    this.lifeEpoch++;
    this.powerEpoch++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.driftTimer) clearInterval(this.driftTimer);
    this.driftTimer = undefined;
    await this.vanish("stopped", { firmwareOff: true });
  }

  /** Sends garbage bytes now on every open port (fault injection). */
  garbageBurst(): void {
    for (const p of this.ports.values()) p.engine.raw(this.noise(this.garbageRng.int(16, 64)));
  }

  /** What `sim ctl list` shows (summary.ts). */
  summary(): ModemSummary {
    return summarize(this);
  }
}
