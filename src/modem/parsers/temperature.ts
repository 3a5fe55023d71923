/**
 * AT+QTEMP (ec25.md §4.3): EC25 `+QTEMP: <pmic>,<xo>,<pa>` in °C [T 02]; EC200T prints 255 for a missing sensor
 * [T 28]; 5G-family modules print one `+QTEMP:"<sensor>","<value>"` line per sensor [3ginfo #56].
 */
import { allPrefixed, cleanLines, optText, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export interface TemperatureSensor {
  name: string;
  /** Null for 255 (sensor not available) or unparsable values. */
  celsius: number | null;
}

export interface QtempInfo {
  /** The EC25 3-value form; null in the per-sensor form or when the sensor reads 255. */
  pmic: number | null;
  xo: number | null;
  pa: number | null;
  /** Every sensor, in both forms (3-value form: pmic, xo, pa). */
  sensors: TemperatureSensor[];
  /** Highest available reading, or null when none. */
  max: number | null;
}

/** 255 (and the −273 some firmwares print) mean "sensor not available". */
function celsius(tok: string | undefined): number | null {
  const v = toInt(tok);
  if (v === null || v === 255 || v <= -273) return null;
  return v;
}

/** `AT+QTEMP` → `+QTEMP: 42,38,38` [T 02], `+QTEMP: 38,255,255` [T 28], or `+QTEMP:"modem-lte-sub6-pa1","33"` lines. */
export const parseQtempExec = safe("QTEMP", (lines: readonly string[]): ParseResult<QtempInfo> => {
  const payloads = allPrefixed(cleanLines(lines), "+QTEMP");
  if (payloads.length === 0) return fail("QTEMP: no +QTEMP line");
  const sensors: TemperatureSensor[] = [];
  let triple: [number | null, number | null, number | null] | null = null;
  for (const p of payloads) {
    const f = splitFields(p);
    if (f[0]?.startsWith('"')) {
      const name = optText(f[0]);
      if (name !== null) sensors.push({ name, celsius: celsius(f[1]) });
    } else if (triple === null && f.length >= 3 && f.slice(0, 3).every((x) => toInt(x) !== null)) {
      triple = [celsius(f[0]), celsius(f[1]), celsius(f[2])];
      sensors.push({ name: "pmic", celsius: triple[0] }, { name: "xo", celsius: triple[1] }, { name: "pa", celsius: triple[2] });
    }
  }
  if (sensors.length === 0) return fail(`QTEMP: no readable sensor in ${snippet(payloads[0])}`);
  const values = sensors.map((s) => s.celsius).filter((v): v is number => v !== null);
  return ok({
    pmic: triple?.[0] ?? null,
    xo: triple?.[1] ?? null,
    pa: triple?.[2] ?? null,
    sensors,
    max: values.length ? Math.max(...values) : null,
  });
});
