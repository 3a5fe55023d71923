/**
 * One rotation attempt on one modem, as steps on the modem manager and the data-plane router's state machine:
 *
 *   online ─▶ rotating (held: polls never move it; the router keeps the session, the port refuses "rotating")
 *     data      ─▶ searching: leaving rotating makes the router stop the session; the next poll finds the modem
 *                  registered and the router starts a new call, probes the public IP and goes online
 *     airplane  ─▶ AT+CFUN=4, hold ≥ 5 s (ec25.md §6), AT+CFUN=1 ─▶ searching ─▶ registered ─▶ … ─▶ online
 *     reboot    ─▶ searching until the router stopped the call ─▶ rotating ─▶ AT+CFUN=1,1: the port vanishes
 *                  (unplugged), the modem re-enumerates and comes up the usual way
 *
 * The public IP is cleared at the start, so the one found once the modem is online again is the new session's.
 * Every step that writes waits out a PostgreSQL outage (retryDb / holdState) instead of failing the rotation.
 */
import type { Sql } from "../db/client.ts";
import type { ModemState } from "../db/queries/modem-state.ts";
import { rotationModemAddress, type RotationMethod } from "../db/queries/rotations.ts";
import { savePublicIp } from "../db/queries/data-plane.ts";
import { lastEventSeq } from "../db/queries/events.ts";
import { AppError } from "../lib/errors.ts";
import { sleepUnlessAborted as sleep } from "./abortable-sleep.ts";
import { isConnectionError, retryDb, withDbTimeout } from "./outage-errors.ts";

/** What rotation needs of the modem manager (ModemManager satisfies it). */
export interface RotationModems {
  get(id: number): { id: number; imei: string; slot: string | null; state: ModemState; present: boolean } | undefined;
  list(): Array<{ id: number; state: ModemState }>;
  setState(id: number, state: ModemState, reason: string): Promise<unknown>;
  driver(id: number): { setRadio(mode: "on" | "airplane" | "off"): Promise<void>; reboot(): Promise<void> };
  /** Polls the modem now (registration back sooner than the next scheduled poll). */
  refresh?(id: number): Promise<unknown>;
}

export type PublicIpProbe = (address: string) => Promise<{ ip: string; rttMs: number } | null>;

export interface StepContext {
  sql: Sql;
  modems: RotationModems;
  modemId: number;
  signal: AbortSignal;
  airplaneHoldMs: number;
  onlineTimeoutMs: number;
  /** How long a step waits for PostgreSQL before the attempt fails. */
  dbWaitMs: number;
  /** How often a modem that is searching again is polled while we wait. */
  refreshMs: number;
  probePublicIp?: PublicIpProbe;
  /** Applies the data-plane config now (DataPlaneRouter.sync), so the port serves when the attempt reports. */
  syncDataPlane?: () => Promise<void>;
  event(kind: string, payload: Record<string, unknown>): Promise<unknown>;
}

export const METHOD_LABEL: Record<RotationMethod, string> = {
  data: "data-call restart",
  airplane: "airplane mode",
  reboot: "modem reboot",
};

function checkAborted(ctx: StepContext): void {
  if (ctx.signal.aborted) throw new AppError("ROTATION_CANCELLED", "the rotation was cancelled (control plane stopping)");
}

/**
 * Puts the modem in `state` and makes sure it got there. The manager logs and swallows a failed write (PostgreSQL
 * away) and retries on its next poll; a rotation must not continue on a state it does not have, so it retries.
 */
export async function holdState(ctx: StepContext, state: ModemState, reason: string): Promise<void> {
  const deadline = Date.now() + ctx.dbWaitMs;
  for (;;) {
    const m = ctx.modems.get(ctx.modemId);
    if (!m) throw new AppError("MODEM_NOT_FOUND", `modem ${ctx.modemId} is not on this node`);
    if (m.state === state) return;
    try {
      await withDbTimeout(ctx.modems.setState(ctx.modemId, state, reason), 20_000);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
    }
    if (ctx.modems.get(ctx.modemId)?.state === state) return;
    if (Date.now() >= deadline) throw new AppError("DB_UNAVAILABLE", `could not store state ${state} for modem ${m.imei}`);
    await sleep(250);
  }
}

/** The attempt's modem action; the modem is `rotating` when this starts. */
export async function performMethod(ctx: StepContext, method: RotationMethod): Promise<void> {
  checkAborted(ctx);
  if (method === "data") {
    await holdState(ctx, "searching", "rotating: restarting the data call");
    void ctx.modems.refresh?.(ctx.modemId).catch(() => undefined);
    return;
  }
  const driver = ctx.modems.driver(ctx.modemId);
  if (method === "reboot") {
    await stopSession(ctx, "rotating: stopping the data call before the reboot");
    await holdState(ctx, "rotating", "modem reboot for a new IP");
    // Announced before the port vanishes, so the USB hub watcher does not count a planned reboot as a failure.
    await ctx.event("rotation.rebooting", {});
    await driver.reboot();
    return;
  }
  await driver.setRadio("airplane");
  try {
    await sleep(ctx.airplaneHoldMs, ctx.signal);
  } finally {
    // Never leave a modem in airplane mode: retry the radio-on a few times (a busy AT port can time out once).
    let lastError: unknown;
    for (let i = 0; i < 3; i++) {
      try {
        await driver.setRadio("on");
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
        await sleep(500);
      }
    }
    if (lastError) throw lastError;
  }
  await holdState(ctx, "searching", "rotating: radio back on, waiting for the network");
  void ctx.modems.refresh?.(ctx.modemId).catch(() => undefined);
}

/**
 * Ends the data call through the router before a reboot: leaving `rotating` makes it stop the session (qmicli stop,
 * address off the interface). A reboot without this leaves the call to die with the modem; the carrier holds the
 * session until it times out, and the router, seeing the modem unplugged, skips the stop and leaves the old address
 * on the interface.
 */
async function stopSession(ctx: StepContext, reason: string): Promise<void> {
  const after = await retryDb(() => lastEventSeq(ctx.sql), { waitMs: ctx.dbWaitMs });
  await holdState(ctx, "searching", reason);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    checkAborted(ctx);
    const rows = await retryDb(() => ctx.sql`
      select 1 from modem_events where modem_id = ${ctx.modemId} and kind = 'data.down' and seq > ${after} limit 1`, { waitMs: ctx.dbWaitMs });
    if (rows.length) return;
    await sleep(100, ctx.signal);
  }
  throw new AppError("ROTATION_TIMEOUT", "the data call did not stop within 30 s");
}

/** Waits until the router has the modem online again (new session, public IP probed). */
export async function waitOnline(ctx: StepContext): Promise<void> {
  const deadline = Date.now() + ctx.onlineTimeoutMs;
  let lastRefresh = Date.now();
  for (;;) {
    checkAborted(ctx);
    const m = ctx.modems.get(ctx.modemId);
    if (m?.state === "online") {
      // The router declares online, then applies the proxy config on the event: serve before reporting back.
      if (ctx.syncDataPlane) await withDbTimeout(ctx.syncDataPlane(), 10_000).catch(() => undefined);
      return;
    }
    if (Date.now() >= deadline) {
      throw new AppError("ROTATION_TIMEOUT", `not online again within ${Math.round(ctx.onlineTimeoutMs / 1000)} s (${m?.state ?? "gone"})`);
    }
    if (m && (m.state === "searching" || m.state === "offline") && Date.now() - lastRefresh >= ctx.refreshMs) {
      lastRefresh = Date.now();
      void ctx.modems.refresh?.(ctx.modemId).catch(() => undefined);
    }
    await sleep(100, ctx.signal);
  }
}

/** The public IP of the new session: the router's probe, else our own probe of the WAN address. */
export async function readNewIp(ctx: StepContext): Promise<string> {
  const row = await retryDb(() => rotationModemAddress(ctx.sql, ctx.modemId), { waitMs: ctx.dbWaitMs, signal: ctx.signal });
  if (row?.public_ip) return row.public_ip;
  if (ctx.probePublicIp && row?.wan_ip) {
    // The router's probe failed (a slow echo under load): a couple more tries before the attempt counts as failed.
    let probe: Awaited<ReturnType<PublicIpProbe>> = null;
    for (let i = 0; i < 3 && !probe && !ctx.signal.aborted; i++) {
      probe = await ctx.probePublicIp(row.wan_ip).catch(() => null);
      if (!probe) await sleep(500, ctx.signal);
    }
    if (probe) {
      await retryDb(() => savePublicIp(ctx.sql, ctx.modemId, probe.ip, probe.rttMs), { waitMs: ctx.dbWaitMs });
      await ctx.event("data.public_ip", { ip: probe.ip, rttMs: probe.rttMs, by: "rotation" });
      return probe.ip;
    }
  }
  throw new AppError("ROTATION_NO_PUBLIC_IP", "online again, but its public IP could not be determined");
}
