/** Shared setup for the AT engine tests: scripted modems and channels that are always cleaned up. */
import { afterEach } from "bun:test";
import { openAtChannel, type OpenAtChannel, type OpenAtChannelOptions } from "../../../src/modem/at/open-at-channel.ts";
import { startScriptedModem, type ScriptedModem, type ScriptedModemOptions } from "../../helpers/scripted-modem.ts";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Test-friendly engine defaults: short resync so failures show quickly. */
export const FAST: OpenAtChannelOptions = { resyncTimeoutMs: 300, resyncQuietMs: 50, hangupPollMs: 50 };

export async function rig(modemOpts: ScriptedModemOptions = {}, channelOpts: OpenAtChannelOptions = {}):
  Promise<{ modem: ScriptedModem; ch: OpenAtChannel; urcs: string[] }> {
  const modem = startScriptedModem(modemOpts);
  cleanups.push(() => modem.close());
  const ch = await openAtChannel(modem.path, { ...FAST, ...channelOpts });
  cleanups.push(() => ch.close());
  const urcs: string[] = [];
  ch.onUrc((l) => urcs.push(l));
  return { modem, ch, urcs };
}

/** The error code a promise rejects with ("resolved" if it does not). */
export function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(() => "resolved", (e: { code?: string }) => e.code ?? String(e));
}

/** Polls until `cond` holds (generous bound; fails the test with `what` otherwise). */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
