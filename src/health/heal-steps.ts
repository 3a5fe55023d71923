/**
 * The rungs of the heal ladder (heal-ladder.ts), cheapest first (ec25.md §6 table, same methods as rotation):
 *   data      restart the data call: healing → searching makes the data-plane router stop the session; the next
 *             status poll moves the modem to registered and the router starts a new call on the same port
 *   airplane  AT+CFUN=4, hold, AT+CFUN=1 (hold ≥ 5 s: shorter radio-off periods often fail to re-register or keep
 *             the same session [ec25.md §6, proxidize-android #17/#39/#100]), then as `data`
 *   reboot    AT+CFUN=1,1: OK, the USB device is gone ~1 s later and re-enumerates after 15–30 s [ec25.md §3.5, T 29];
 *             the manager finds the row by IMEI again, so the port and table stay the same
 *   usb-reset sysfs authorized 0 → 1 of the modem's USB device (usb-reset.ts): what still works when AT does not
 * A step only *acts*; the ladder then waits for the modem to be online and verified.
 */
import { AppError } from "../lib/errors.ts";
import type { ModemState } from "../db/queries/modem-state.ts";
import type { AtChannel, AtResponse } from "../modem/at/types.ts";
import { isGoneError } from "../modem/at-result.ts";
import type { ManagedModem } from "../modem/manager.ts";
import { usbReset } from "./usb-reset.ts";

export type HealStep = "data" | "airplane" | "reboot" | "usb-reset";
export const HEAL_STEPS: readonly HealStep[] = ["data", "airplane", "reboot", "usb-reset"];

/** What the ladder needs from the modem manager (ModemManager satisfies it). */
export interface HealModems {
  get(target: number): ManagedModem | undefined;
  channel(target: number): AtChannel;
  setState(target: number, state: ModemState, reason: string): Promise<unknown>;
  refresh(target: number): Promise<unknown>;
}

export interface StepContext {
  modemId: number;
  modems: HealModems;
  sysfsRoot: string;
  usbDevice: string | null;
  /** AT+CFUN answer limit (ec25.md §3.7: up to 15 s). */
  atTimeoutMs: number;
  airplaneHoldMs: number;
  usbHoldMs: number;
  sleep(ms: number): Promise<void>;
  /** Tells the hub watcher that this modem's coming vanish is ours. */
  expectVanish(ms: number): void;
}

export interface StepOutcome {
  /** "acted": the step did its thing, now wait for recovery; "failed": it could not; "skipped": not applicable. */
  result: "acted" | "failed" | "skipped";
  detail: string;
}

/**
 * Sends one command, bounded by `ms` including time queued behind other commands (a hung modem's queue).
 * A command given up on may still be sent later; CFUN is idempotent and a reboot clears the queue.
 */
async function at(channel: AtChannel, command: string, ms: number): Promise<AtResponse> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sent = channel.send(command, { timeoutMs: ms });
  sent.catch(() => undefined);
  try {
    return await Promise.race([sent, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError("AT_TIMEOUT", `${command}: not answered within ${ms} ms`)), ms * 2);
    })]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function why(e: unknown): string {
  return e instanceof AppError ? `${e.code}: ${e.message}` : String(e);
}

function channelOf(ctx: StepContext): AtChannel | null {
  try {
    return ctx.modems.channel(ctx.modemId);
  } catch {
    return null;
  }
}

/** Hands the modem back to the lifecycle: the router drops the old session, the next poll re-registers it. */
async function handBack(ctx: StepContext, reason: string): Promise<void> {
  await ctx.modems.setState(ctx.modemId, "searching", reason);
  await ctx.modems.refresh(ctx.modemId).catch(() => undefined);
}

async function dataStep(ctx: StepContext): Promise<StepOutcome> {
  if (!ctx.modems.get(ctx.modemId)?.present) return { result: "skipped", detail: "AT port not open: nothing can bring a call up" };
  await handBack(ctx, "heal: restarting the data call");
  return { result: "acted", detail: "session dropped; the router starts a new call once the modem reports registered" };
}

async function airplaneStep(ctx: StepContext): Promise<StepOutcome> {
  const ch = channelOf(ctx);
  if (!ch) return { result: "skipped", detail: "AT port not open" };
  try {
    const off = await at(ch, "AT+CFUN=4", ctx.atTimeoutMs);
    if (!off.ok) return { result: "failed", detail: `AT+CFUN=4 answered ${off.final}` };
  } catch (e) {
    return { result: "failed", detail: `AT+CFUN=4: ${why(e)}` };
  }
  await ctx.sleep(ctx.airplaneHoldMs);
  // Never leave the radio off: CFUN=1 is tried twice.
  let lastError = "";
  for (let i = 0; i < 2; i++) {
    try {
      const on = await at(ch, "AT+CFUN=1", ctx.atTimeoutMs);
      if (on.ok) {
        await handBack(ctx, "heal: airplane toggle done, re-registering");
        return { result: "acted", detail: `radio off for ${ctx.airplaneHoldMs} ms, back on` };
      }
      lastError = `answered ${on.final}`;
    } catch (e) {
      lastError = why(e);
    }
  }
  return { result: "failed", detail: `AT+CFUN=1 after the hold: ${lastError}` };
}

async function rebootStep(ctx: StepContext): Promise<StepOutcome> {
  const ch = channelOf(ctx);
  if (!ch) return { result: "skipped", detail: "AT port not open" };
  ctx.expectVanish(ctx.atTimeoutMs * 2 + 120_000);
  try {
    const r = await at(ch, "AT+CFUN=1,1", ctx.atTimeoutMs);
    if (!r.ok) return { result: "failed", detail: `AT+CFUN=1,1 answered ${r.final}` };
  } catch (e) {
    // OK comes first and the port vanishes within ~1 s [T 29]: a port gone before we read OK still rebooted.
    if (!isGoneError(e)) return { result: "failed", detail: `AT+CFUN=1,1: ${why(e)}` };
  }
  return { result: "acted", detail: "module rebooting" };
}

async function usbResetStep(ctx: StepContext): Promise<StepOutcome> {
  if (!ctx.usbDevice) return { result: "skipped", detail: "USB device of this modem unknown" };
  ctx.expectVanish(ctx.usbHoldMs + 120_000);
  try {
    const r = await usbReset(ctx.sysfsRoot, ctx.usbDevice, ctx.usbHoldMs, ctx.sleep);
    if (r === "no-device") return { result: "failed", detail: `no USB device ${ctx.usbDevice} in sysfs` };
  } catch (e) {
    return { result: "failed", detail: why(e) };
  }
  return { result: "acted", detail: `USB device ${ctx.usbDevice} re-authorized` };
}

export const STEP_ACTIONS: Record<HealStep, (ctx: StepContext) => Promise<StepOutcome>> = {
  data: dataStep,
  airplane: airplaneStep,
  reboot: rebootStep,
  "usb-reset": usbResetStep,
};
