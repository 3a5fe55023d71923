/**
 * How long the simulated EC25 takes for things (ms, before scaling). Defaults follow ec25.md §3.5, §3.7 and §7:
 * simple queries 10–50 ms, CFUN 0.5–5 s, registration 2–20 s, COPS=? 30–180 s, reboot 15–30 s, USB gone ~1 s after
 * the OK of AT+CFUN=1,1 [T 29]. A lab multiplies every value by `timeScale` (0.01 for fast tests).
 */
export interface SimTimings {
  /** Per-command answer time, uniform in [min, max]. */
  queryMinMs: number;
  queryMaxMs: number;
  /** Gap between an answer's information lines and its final result code (where URCs may land). */
  finalGapMs: number;
  /** AT+CFUN=0/1/4 answer time. */
  cfunMs: number;
  /** From radio on (boot, CFUN=1, service back) to registered. */
  registerMs: number;
  /** From boot / CFUN 0→1 to the SIM URC burst (+CPIN: READY, +QUSIM: 1, +QIND ...). */
  simInitMs: number;
  /** From the OK of AT+CFUN=1,1 (or a crash) until every port is gone. */
  vanishMs: number;
  /** From the ports vanishing until the modem enumerates again. */
  rebootMs: number;
  /** After a (re-)enumeration: until "RDY". */
  rdyMs: number;
  /** Re-enumeration after a USB reset (sysfs authorized 0 → 1) or replug. */
  enumerateMs: number;
  /** AT+COPS=? network scan. */
  copsScanMs: number;
  /** Data call setup (AT$QCRMCALL=1,1, qmicli --wds-start-network). */
  dataCallMs: number;
  /** AT+CMGS submit. */
  smsSendMs: number;
  /** AT+CUSD: from OK to the +CUSD URC. */
  ussdMs: number;
  /** Period of signal / temperature drift. */
  driftMs: number;
  /** What a qmicli request to a hung modem waits before it reports a timeout (libqmi default 10 s). */
  qmiTimeoutMs: number;
}

export const DEFAULT_TIMINGS: Readonly<SimTimings> = {
  queryMinMs: 10,
  queryMaxMs: 50,
  finalGapMs: 2,
  cfunMs: 1_000,
  registerMs: 4_000,
  simInitMs: 1_500,
  vanishMs: 400,
  rebootMs: 20_000,
  rdyMs: 500,
  enumerateMs: 1_500,
  copsScanMs: 45_000,
  dataCallMs: 800,
  smsSendMs: 1_500,
  ussdMs: 2_500,
  driftMs: 5_000,
  qmiTimeoutMs: 10_000,
};

/** Defaults, overridden by `overrides`, all multiplied by `timeScale` (values stay ≥ 0; fractions of a ms are kept). */
export function scaledTimings(timeScale = 1, overrides: Partial<SimTimings> = {}): SimTimings {
  if (!(timeScale > 0)) throw new Error(`timeScale must be > 0, got ${timeScale}`);
  const merged = { ...DEFAULT_TIMINGS, ...overrides };
  const out = {} as SimTimings;
  for (const key of Object.keys(merged) as (keyof SimTimings)[]) out[key] = Math.max(0, merged[key] * timeScale);
  return out;
}
