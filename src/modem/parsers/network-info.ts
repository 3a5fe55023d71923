/**
 * AT+QNWINFO (ec25.md §4.3): `+QNWINFO: "FDD LTE","22288","LTE BAND 7",3350` or `+QNWINFO: No Service`.
 */
import { cleanLines, findPrefixed, optText, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export type RatFamily = "LTE" | "WCDMA" | "GSM" | "TDSCDMA" | "CDMA" | "NR" | null;

export interface QnwinfoInfo {
  noService: boolean;
  /** As printed: "FDD LTE", "TDD LTE", "WCDMA", "HSPA+", "GSM", "EDGE", … */
  act: string | null;
  family: RatFamily;
  /** Numeric operator (MCC+MNC). */
  operator: string | null;
  /** As printed, e.g. "LTE BAND 7". */
  band: string | null;
  /** Band number parsed from the band text (7 for "LTE BAND 7"). */
  bandNumber: number | null;
  /** EARFCN / UARFCN / ARFCN. */
  channel: number | null;
}

/** Maps a QNWINFO/QENG access-technology string to a RAT family. */
export function ratFamily(act: string | null): RatFamily {
  if (!act) return null;
  const a = act.toUpperCase();
  if (a.includes("NR5G") || a === "NR") return "NR";
  if (a.includes("LTE") || a.includes("CAT-M") || a.includes("NB-IOT") || a.includes("EMTC")) return "LTE";
  if (a.includes("TDSCDMA") || a.includes("TD-SCDMA") || a.startsWith("TDS")) return "TDSCDMA";
  if (a.includes("WCDMA") || a.includes("HSPA") || a.includes("HSDPA") || a.includes("HSUPA") || a.includes("UMTS")) return "WCDMA";
  if (a.includes("CDMA") || a.includes("EVDO") || a.includes("HDR")) return "CDMA";
  if (a.includes("GSM") || a.includes("EDGE") || a.includes("GPRS")) return "GSM";
  return null;
}

const NO_SERVICE: QnwinfoInfo = {
  noService: true,
  act: null,
  family: null,
  operator: null,
  band: null,
  bandNumber: null,
  channel: null,
};

/** `AT+QNWINFO` → `+QNWINFO: "FDD LTE","12301","LTE BAND 3",1802` [T 28]; `+QNWINFO: No Service` [T 09]. */
export const parseQnwinfoExec = safe("QNWINFO", (lines: readonly string[]): ParseResult<QnwinfoInfo> => {
  const payload = findPrefixed(cleanLines(lines), "+QNWINFO");
  if (payload === null) return fail("QNWINFO: no +QNWINFO line");
  if (/^"?no service"?$/i.test(payload.trim())) return ok({ ...NO_SERVICE });
  const f = splitFields(payload);
  const act = optText(f[0]);
  if (act === null || f.length < 2) return fail(`QNWINFO: expected <act>,<oper>,<band>,<channel>, got ${snippet(payload)}`);
  const band = optText(f[2]);
  const bandMatch = band ? /(\d+)\s*$/.exec(unquote(band)) : null;
  return ok({
    noService: false,
    act,
    family: ratFamily(act),
    operator: optText(f[1]),
    band,
    bandNumber: bandMatch ? Number.parseInt(bandMatch[1], 10) : null,
    channel: toInt(f[3]),
  });
});
