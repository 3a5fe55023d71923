/**
 * Fault injection and control actions (`lteproxy sim ctl <slot|imei|index|all> <action> [args]`), shared by the HTTP
 * control API, the CLI and the programmatic `lab.ctl()`. Every action returns per-modem results; bad input is an
 * AppError with a stable code (SIM_UNKNOWN_TARGET, SIM_UNKNOWN_ACTION, SIM_BAD_ARGS).
 */
import { AppError } from "../../lib/errors.ts";
import { deliverSms, insertSim, linkFault, removeSim } from "../modem/fault-ops.ts";
import type { SimModem } from "../modem/modem.ts";

export interface ActionLab {
  readonly modems: readonly SimModem[];
  failHub(hub: number): Promise<number>;
  restoreHub(hub: number): number;
}

export interface ActionTargetResult {
  slot: string;
  imei: string;
  ok: boolean;
  error?: string;
  detail?: unknown;
}

export interface ActionResult {
  action: string;
  targets: ActionTargetResult[];
}

type ModemAction = (m: SimModem, args: string[]) => unknown;

function num(args: string[], i: number, name: string, lo = -Infinity, hi = Infinity): number {
  const v = Number(args[i]);
  if (args[i] === undefined || !Number.isFinite(v) || v < lo || v > hi) {
    throw new AppError("SIM_BAD_ARGS", `${name} must be a number in [${lo}, ${hi}], got ${JSON.stringify(args[i] ?? null)}`);
  }
  return v;
}

function text(args: string[], from: number, name: string): string {
  const t = args.slice(from).join(" ");
  if (t === "") throw new AppError("SIM_BAD_ARGS", `${name} is required`);
  return t;
}

/** "AT+CPIN?" / "+cpin?" / "CPIN?" → "+CPIN?" (the key the modem matches command prefixes against). */
export function cmeKey(command: string): string {
  let k = command.trim().toUpperCase().replace(/^AT/, "");
  if (/^[A-Z]/.test(k) && k.length > 1) k = `+${k}`;
  return k;
}

export const MODEM_ACTIONS: Record<string, ModemAction> = {
  hang: (m) => { m.faults.hang = true; },
  wedge: (m) => { m.faults.wedge = true; },
  slow: (m, a) => { m.faults.slowMs = num(a, 0, "slow <ms>", 0, 600_000); },
  garbage: (m) => { m.faults.garbage = true; m.garbageBurst(); },
  clear: (m) => {
    Object.assign(m.faults, { hang: false, wedge: false, slowMs: 0, garbage: false });
    m.faults.cme.clear();
  },
  unplug: (m) => m.unplug(),
  replug: (m) => m.replug(),
  reboot: (m) => m.reboot(),
  crash: (m) => m.crash(),
  "usb-reset": (m) => { m.deauthorize(); m.authorize(); },
  "no-service": (m) => m.radio.setNoService(true),
  service: (m) => m.radio.setNoService(false),
  "no-sim": (m) => removeSim(m),
  sim: (m) => insertSim(m),
  sticky: (m, a) => { m.faults.sticky = num(a, 0, "sticky <0..1>", 0, 1); },
  signal: (m, a) => m.radio.setSignalCenter(num(a, 0, "signal <rsrp>", -140, -44)),
  temp: (m, a) => m.radio.setTemperature(num(a, 0, "temp <celsius>", -40, 120)),
  operator: (m, a) => m.radio.setOperatorName(text(a, 0, "operator name")),
  cme: (m, a) => {
    if (!a[0]) throw new AppError("SIM_BAD_ARGS", "cme <command> <code|off>");
    const key = cmeKey(a[0]);
    if (a[1] === "off" || a[1] === "clear") { m.faults.cme.delete(key); return; }
    m.faults.cme.set(key, num(a, 1, "cme code", 0, 65535));
  },
  sms: (m, a) => {
    if (!a[0]) throw new AppError("SIM_BAD_ARGS", "sms <from> <text>");
    return deliverSms(m, a[0], text(a, 1, "sms text"));
  },
  "ussd-reply": (m, a) => { m.ussdReply = text(a, 0, "ussd-reply text"); },
  urc: (m, a) => m.emitUrc([text(a, 0, "urc line")]),
  "link-down": (m) => linkFault(m, true),
  "link-up": (m) => linkFault(m, false),
};

export const ACTION_NAMES = [...Object.keys(MODEM_ACTIONS), "hub-fail", "hub-restore"].sort();

/** Modems matching a target: "all", a slot name, an IMEI, or a 0-based index. */
export function resolveTarget(lab: ActionLab, target: string): SimModem[] {
  if (target === "all") return [...lab.modems];
  const found = lab.modems.filter((m) => m.topology.slot === target || m.identity.imei === target);
  if (found.length > 0) return found;
  if (/^\d{1,4}$/.test(target)) {
    const m = lab.modems[Number(target)];
    if (m) return [m];
  }
  throw new AppError("SIM_UNKNOWN_TARGET", `no modem with slot, IMEI or index ${JSON.stringify(target)}`);
}

export async function runAction(lab: ActionLab, target: string, action: string, args: string[]): Promise<ActionResult> {
  if (action === "hub-fail" || action === "hub-restore") {
    const hub = num(args, 0, `${action} <hub>`, 1, 1000);
    const count = action === "hub-fail" ? await lab.failHub(hub) : lab.restoreHub(hub);
    return { action, targets: [{ slot: `hub ${hub}`, imei: "", ok: true, detail: { modems: count } }] };
  }
  const fn = MODEM_ACTIONS[action];
  if (!fn) throw new AppError("SIM_UNKNOWN_ACTION", `unknown action ${JSON.stringify(action)}; known: ${ACTION_NAMES.join(", ")}`);
  const modems = resolveTarget(lab, target);
  const targets = await Promise.all(modems.map(async (m): Promise<ActionTargetResult> => {
    try {
      const detail = await fn(m, args);
      return { slot: m.topology.slot, imei: m.identity.imei, ok: true, ...(detail === undefined ? {} : { detail }) };
    } catch (error) {
      if (error instanceof AppError && error.code === "SIM_BAD_ARGS") throw error;
      return { slot: m.topology.slot, imei: m.identity.imei, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }));
  return { action, targets };
}
