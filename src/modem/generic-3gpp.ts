/**
 * The generic 3GPP TS 27.007/27.005 modem layer over one AtChannel (ModemManager's "generic" broadband modem):
 * identity, SIM, registration, operator, signal, radio power, PDP activation, SMS in text mode and USSD.
 * Vendor drivers (ec25.ts) subclass it and override only the hooks where their firmware differs.
 */
import { AppError } from "../lib/errors.ts";
import type { AtChannel, AtResponse } from "./at/types.ts";
import { expectOk, isGoneError } from "./at-result.ts";
import type {
  DataCallResult, ModemDriver, ModemIdentity, ModemStatus, RadioMode, RegistrationState, SimStatus, UssdOptions,
} from "./driver-types.ts";
import { lookupCmeError } from "./parsers/error-codes.ts";
import { parseCgmiExec, parseCgmmExec, parseCgmrExec, parseCgsnExec, parseCimiExec, parseGsnExec, parseQccidExec } from "./parsers/identity.ts";
import { parseCfunRead } from "./parsers/functionality.ts";
import { parseCopsRead } from "./parsers/operator.ts";
import { parseCeregRead, parseCregRead, type RegistrationInfo } from "./parsers/registration.ts";
import { parseCsqExec } from "./parsers/signal.ts";
import { parseCpinRead, type SimState } from "./parsers/sim.ts";
import { parseCmglWrite, parseCmgrWrite, parseCmgsWrite, type SmsMessage } from "./parsers/sms.ts";
import { parseCusdUrc, parseCusdWrite, type CusdInfo } from "./parsers/ussd.ts";
import { registerUssd } from "./ussd-wait.ts";

const SIM_STATES: Partial<Record<SimState, SimStatus>> = {
  READY: "READY", PIN_REQUIRED: "PIN_REQUIRED", PIN2_REQUIRED: "PIN_REQUIRED", PH_SIM_PIN_REQUIRED: "PIN_REQUIRED",
  PUK_REQUIRED: "PUK_REQUIRED", PUK2_REQUIRED: "PUK_REQUIRED", NOT_READY: "NOT_READY", NOT_INSERTED: "NOT_INSERTED",
};

/** +CME ERROR answers of AT+CPIN? (ec25.md §4.2): 10 no SIM, 13 SIM failure/powered off, 14 busy during init. */
const SIM_ERRORS: Record<string, SimStatus> = { SIM_NOT_INSERTED: "NOT_INSERTED", SIM_FAILURE: "FAILURE", SIM_BUSY: "BUSY" };

const SMS_FILTERS = ["ALL", "REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"] as const;

function badArgument(message: string): AppError {
  return new AppError("MODEM_BAD_ARGUMENT", message);
}

function registrationState(info: RegistrationInfo, source: "CEREG" | "CREG"): RegistrationState {
  return {
    stat: info.stat, status: info.status, registered: info.registered, roaming: info.roaming,
    tac: info.area, ci: info.cellId, act: info.act, source,
  };
}

export class Generic3gppDriver implements ModemDriver {
  readonly kind: string = "generic";

  constructor(readonly channel: AtChannel) {}

  /** Sends a command; an answer other than OK gives null (optional information), transport errors throw. */
  protected async query(command: string, timeoutMs?: number): Promise<AtResponse | null> {
    const r = await this.channel.send(command, timeoutMs === undefined ? undefined : { timeoutMs });
    return r.ok ? r : null;
  }

  protected async command(command: string, opts?: { timeoutMs?: number; body?: string }): Promise<AtResponse> {
    return expectOk(await this.channel.send(command, opts));
  }

  // ------------------------------------------------------------------ identity

  async readImei(): Promise<string> {
    // AT+CGSN is 27.007; AT+GSN is the V.25ter form some firmware answers instead (ec25.md §4.1).
    for (const [cmd, parse] of [["AT+CGSN", parseCgsnExec], ["AT+GSN", parseGsnExec]] as const) {
      const r = await this.query(cmd);
      const p = r ? parse(r.lines) : null;
      if (p?.ok) return p.value.imei;
    }
    throw new AppError("MODEM_NO_IMEI", "the modem did not report an IMEI (AT+CGSN / AT+GSN)");
  }

  async identify(known: { imei?: string } = {}): Promise<ModemIdentity> {
    const imei = known.imei ?? (await this.readImei());
    const model = await this.readModelInfo();
    const sim = await this.readSimIdentity();
    return { imei, ...sim, ...model };
  }

  async readSimIdentity(): Promise<{ iccid: string | null; imsi: string | null }> {
    const iccid = await this.readIccid();
    const r = await this.query("AT+CIMI");
    const imsi = r ? parseCimiExec(r.lines) : null;
    return { iccid, imsi: imsi?.ok ? imsi.value.imsi : null };
  }

  /** 27.007 has no ICCID command; +CCID is the common vendor spelling. Vendors override. */
  protected async readIccid(): Promise<string | null> {
    const r = await this.query("AT+CCID");
    const p = r ? parseQccidExec(r.lines) : null;
    return p?.ok ? p.value.iccid : null;
  }

  protected async readModelInfo(): Promise<Pick<ModemIdentity, "manufacturer" | "model" | "firmware">> {
    const [mi, mm, mr] = [await this.query("AT+CGMI"), await this.query("AT+CGMM"), await this.query("AT+CGMR")];
    const m1 = mi ? parseCgmiExec(mi.lines) : null;
    const m2 = mm ? parseCgmmExec(mm.lines) : null;
    const m3 = mr ? parseCgmrExec(mr.lines) : null;
    return {
      manufacturer: m1?.ok ? m1.value.manufacturer : null,
      model: m2?.ok ? m2.value.model : null,
      firmware: m3?.ok ? m3.value.revision : null,
    };
  }

  // ------------------------------------------------------------------ status

  async status(): Promise<ModemStatus> {
    const s: ModemStatus = {
      sim: await this.readSim(), radio: await this.readRadio(), registration: await this.readRegistration(),
      operator: null, rat: null, band: null, earfcn: null, cellId: null, csq: null, rssi: null, rsrp: null,
      rsrq: null, sinrRaw: null, temperature: null, readAt: Date.now(),
    };
    const cops = await this.query("AT+COPS?");
    const op = cops ? parseCopsRead(cops.lines) : null;
    if (op?.ok && op.value.operator !== null) {
      s.operator = { name: op.value.numeric === null ? op.value.operator : null, numeric: op.value.numeric };
      s.rat = op.value.act === 7 ? "LTE" : op.value.actName;
    }
    const csq = await this.query("AT+CSQ");
    const q = csq ? parseCsqExec(csq.lines) : null;
    if (q?.ok && q.value.dbm !== null) {
      s.csq = q.value.rssi;
      s.rssi = q.value.dbm;
    }
    s.cellId = s.registration?.ci ?? null;
    await this.readRadioDetails(s);
    s.temperature = await this.readTemperature();
    return s;
  }

  protected async readSim(): Promise<SimStatus> {
    const r = await this.channel.send("AT+CPIN?");
    if (r.ok) {
      const p = parseCpinRead(r.lines);
      return p.ok ? (SIM_STATES[p.value.state] ?? "UNKNOWN") : "UNKNOWN";
    }
    if (r.kind === "CME_ERROR") return SIM_ERRORS[lookupCmeError(r.errorCode ?? r.errorText ?? "").code] ?? "UNKNOWN";
    return "UNKNOWN";
  }

  protected async readRadio(): Promise<ModemStatus["radio"]> {
    const r = await this.query("AT+CFUN?");
    const p = r ? parseCfunRead(r.lines) : null;
    if (!p?.ok) return null;
    return p.value.fun === 1 ? "on" : p.value.fun === 4 ? "airplane" : p.value.fun === 0 ? "off" : "other";
  }

  /** EPS registration (LTE) first; CS registration when EPS is not registered (3G/2G fallback, ec25.md §4.3). */
  protected async readRegistration(): Promise<RegistrationState | null> {
    const ce = await this.query("AT+CEREG?");
    const eps = ce ? parseCeregRead(ce.lines) : null;
    if (eps?.ok && eps.value.registered) return registrationState(eps.value, "CEREG");
    const c = await this.query("AT+CREG?");
    const cs = c ? parseCregRead(c.lines) : null;
    if (cs?.ok && cs.value.registered) return registrationState(cs.value, "CREG");
    if (eps?.ok) return registrationState(eps.value, "CEREG");
    return cs?.ok ? registrationState(cs.value, "CREG") : null;
  }

  /** Vendor hook: band, EARFCN, RSRP/RSRQ/SINR from a serving-cell query. Generic 27.007 has none. */
  protected async readRadioDetails(_status: ModemStatus): Promise<void> {}

  /** Vendor hook: module temperature. */
  protected async readTemperature(): Promise<number | null> {
    return null;
  }

  // ------------------------------------------------------------------ power and data

  async setRadio(mode: RadioMode): Promise<void> {
    const fun = { on: 1, airplane: 4, off: 0 }[mode];
    if (fun === undefined) throw badArgument(`radio mode must be on, airplane or off, got ${JSON.stringify(mode)}`);
    await this.command(`AT+CFUN=${fun}`);
  }

  async reboot(): Promise<void> {
    try {
      await this.command("AT+CFUN=1,1");
    } catch (e) {
      // OK comes first and the USB device disconnects within ~1 s (ec25.md §3.5, [T 29]); if the port is gone
      // before we read the OK, the reset happened all the same.
      if (!isGoneError(e)) throw e;
    }
  }

  /** 27.007 PDP context activation of cid 1. */
  async dataCall(action: "start" | "stop"): Promise<DataCallResult> {
    if (action !== "start" && action !== "stop") throw badArgument(`data call action must be start or stop`);
    await this.command(action === "start" ? "AT+CGACT=1,1" : "AT+CGACT=0,1");
    const up = action === "start";
    return { connected: up, ipv4: up, ipv6: false };
  }

  // ------------------------------------------------------------------ SMS (text mode, ec25.md §4.6)

  /** Text mode is set by the init sequence, but a reboot or a console user may have changed it. */
  protected async textMode(): Promise<void> {
    await this.command("AT+CMGF=1");
  }

  async listSms(filter: (typeof SMS_FILTERS)[number] = "ALL"): Promise<SmsMessage[]> {
    if (!SMS_FILTERS.includes(filter)) throw badArgument(`SMS filter must be one of ${SMS_FILTERS.join(", ")}`);
    await this.textMode();
    const r = await this.command(`AT+CMGL="${filter}"`);
    const p = parseCmglWrite(r.lines);
    if (!p.ok) throw new AppError("MODEM_BAD_ANSWER", p.error);
    return p.value;
  }

  async readSms(index: number): Promise<SmsMessage | null> {
    if (!Number.isInteger(index) || index < 0 || index > 9999) throw badArgument("SMS index must be an integer 0-9999");
    await this.textMode();
    const r = await this.command(`AT+CMGR=${index}`);
    const p = parseCmgrWrite(r.lines);
    return p.ok ? { ...p.value, index } : null;
  }

  async sendSms(to: string, text: string): Promise<{ messageReference: number }> {
    if (typeof to !== "string" || !/^\+?\d{1,20}$/.test(to)) throw badArgument("SMS recipient must be digits with an optional leading +");
    if (typeof text !== "string" || text.length === 0 || text.length > 160) throw badArgument("SMS text must be 1-160 characters");
    await this.textMode();
    const r = await this.command(`AT+CMGS="${to}"`, { body: text });
    const p = parseCmgsWrite(r.lines);
    if (!p.ok) throw new AppError("MODEM_BAD_ANSWER", p.error);
    return p.value;
  }

  async deleteSms(index: number | "all"): Promise<void> {
    if (index === "all") {
      await this.command("AT+CMGD=0,4"); // delflag 4: every message [T 38]
      return;
    }
    if (!Number.isInteger(index) || index < 0 || index > 9999) throw badArgument("SMS index must be an integer 0-9999 or \"all\"");
    await this.command(`AT+CMGD=${index}`);
  }

  // ------------------------------------------------------------------ USSD

  async ussd(code: string, opts: UssdOptions = {}): Promise<CusdInfo> {
    if (typeof code !== "string" || !/^[0-9*#+]{1,64}$/.test(code)) throw badArgument("USSD code may contain only 0-9, *, # and +");
    const timeoutMs = opts.timeoutMs ?? 30_000;
    // Listen before sending: the answer may arrive as a URC right behind the OK (ec25.md §4.6).
    const wait = registerUssd(this.channel, parseCusdUrc, timeoutMs);
    try {
      const r = await this.command(`AT+CUSD=1,"${code}",15`);
      // Some networks answer inside the response, before OK.
      const inline = parseCusdWrite(r.lines);
      if (inline.ok) return inline.value;
      return await wait.result();
    } catch (e) {
      if (e instanceof AppError && e.code === "USSD_TIMEOUT") this.channel.send("AT+CUSD=2").catch(() => undefined);
      throw e;
    } finally {
      wait.cancel();
    }
  }

  // ------------------------------------------------------------------ console

  raw(command: string, opts: { timeoutMs?: number } = {}): Promise<AtResponse> {
    return this.channel.send(command, opts.timeoutMs === undefined ? undefined : { timeoutMs: opts.timeoutMs });
  }
}
