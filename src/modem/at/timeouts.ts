/**
 * Per-command timeouts from Quectel's "maximum response time" (ec25.md §3.7). Rules match the upper-cased
 * command by prefix; the longest matching prefix wins. Configurable as a whole table.
 */

export interface TimeoutRule {
  /** Upper-case command prefix, e.g. "AT+COPS=?" or "AT+CFUN". */
  prefix: string;
  ms: number;
}

export interface TimeoutTable {
  /**
   * Everything else. The manual's class is 300 ms (ATI, +CSQ, +CREG?, +QENG, ...) and answers take < 50 ms
   * on USB, but a loaded host with 100 ports adds latency, so the default is ten times that.
   */
  defaultMs: number;
  rules: TimeoutRule[];
}

export const DEFAULT_TIMEOUTS: TimeoutTable = {
  defaultMs: 3000,
  rules: [
    { prefix: "AT+CPIN", ms: 5_000 }, // SIM access [§3.7]
    { prefix: "AT+CLCK", ms: 5_000 }, // SIM PIN lock, same SIM access as CPIN [? MAN]
    { prefix: "AT+CPWD", ms: 5_000 },
    { prefix: "AT+CFUN", ms: 15_000 }, // radio on/off, confirmed [§3.7]
    { prefix: "AT+CFUN?", ms: 3_000 },
    { prefix: "AT+COPS=", ms: 180_000 }, // =? scan and manual selection, confirmed [§3.7; T 10 "hangs" on reject]
    { prefix: "AT+CGATT", ms: 140_000 }, // confirmed [§3.7]
    { prefix: "AT+CGATT?", ms: 3_000 },
    { prefix: "AT+CGACT", ms: 150_000 },
    { prefix: "AT+CGACT?", ms: 3_000 },
    { prefix: "AT+QIACT", ms: 150_000 },
    { prefix: "AT+QIACT?", ms: 3_000 },
    { prefix: "AT+QIDEACT", ms: 40_000 },
    { prefix: "AT$QCRMCALL", ms: 150_000 }, // brings up a PDN like CGACT [?]
    { prefix: "AT$QCRMCALL?", ms: 3_000 },
    { prefix: "AT+CMGS", ms: 120_000 }, // [§3.7, §4.6]
    { prefix: "AT+CMGW", ms: 120_000 },
    { prefix: "AT+CMGL", ms: 15_000 }, // a full SIM of messages takes seconds [?]
    { prefix: "AT+CMGD", ms: 15_000 }, // CMGD=0,4 deletes all [T 38]
    { prefix: "AT+CUSD", ms: 30_000 }, // network-dependent [§3.7]
    { prefix: "AT+CUSD?", ms: 3_000 },
    { prefix: "AT+QPOWD", ms: 5_000 },
  ],
};

/** Builds a table: `rules` extend (and by prefix override) the defaults. */
export function timeoutTable(overrides: Partial<TimeoutTable> = {}, base: TimeoutTable = DEFAULT_TIMEOUTS): TimeoutTable {
  const rules = new Map(base.rules.map((r) => [r.prefix.toUpperCase(), r.ms]));
  for (const r of overrides.rules ?? []) rules.set(r.prefix.toUpperCase(), r.ms);
  return {
    defaultMs: overrides.defaultMs ?? base.defaultMs,
    rules: [...rules].map(([prefix, ms]) => ({ prefix, ms })),
  };
}

/** The timeout for one command line. */
export function timeoutFor(command: string, table: TimeoutTable = DEFAULT_TIMEOUTS): number {
  const upper = command.toUpperCase();
  let best: TimeoutRule | undefined;
  for (const rule of table.rules) {
    if (upper.startsWith(rule.prefix) && (!best || rule.prefix.length > best.prefix.length)) best = rule;
  }
  return best?.ms ?? table.defaultMs;
}
