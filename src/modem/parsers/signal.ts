/**
 * Signal quality: AT+CSQ (ec25.md §4.3). rssi 0 → ≤ −113 dBm, 2…30 → −113 + 2·rssi, 31 → ≥ −51 dBm,
 * 99 → unknown; 100…191 are TD-SCDMA RSCP (−116 + (rssi − 100) dBm), 199 unknown. ber 0…7, 99 unknown.
 */
import { cleanLines, findPrefixed, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

/** dBm for a +CSQ rssi value, or null when unknown/out of range. */
export function csqToDbm(rssi: number): number | null {
  if (!Number.isInteger(rssi)) return null;
  if (rssi >= 0 && rssi <= 31) return -113 + 2 * rssi;
  // TD-SCDMA RSCP per 27.007: 100 = < −115 dBm … 191 = ≥ −25 dBm.
  if (rssi >= 100 && rssi <= 191) return -216 + rssi;
  return null;
}

export interface CsqInfo {
  rssi: number;
  ber: number;
  /** Null when rssi is 99/199/out of range (no service or not yet measured). */
  dbm: number | null;
  /** Null when ber is 99 (always on LTE). */
  berClass: number | null;
}

/** `AT+CSQ` → `+CSQ: 20,99` [T 05], `+CSQ: 99,99` when not registered [T 09]. */
export const parseCsqExec = safe("CSQ", (lines: readonly string[]): ParseResult<CsqInfo> => {
  const payload = findPrefixed(cleanLines(lines), "+CSQ");
  if (payload === null) return fail("CSQ: no +CSQ line");
  const f = splitFields(payload);
  const rssi = toInt(f[0]);
  const ber = toInt(f[1]);
  if (rssi === null || ber === null || rssi < 0 || ber < 0) return fail(`CSQ: expected <rssi>,<ber>, got ${snippet(payload)}`);
  return ok({ rssi, ber, dbm: csqToDbm(rssi), berClass: ber <= 7 ? ber : null });
});
