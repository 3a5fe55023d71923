/**
 * USSD (ec25.md §4.6): `AT+CUSD=1,"*100#",15` → OK, then URC `+CUSD: <m>[,"<str>",<dcs>]`. Some networks put the
 * answer before the OK (parseCusdWrite). With `AT+CSCS="UCS2"`, or a UCS-2 DCS, the text is UCS-2 hex.
 */
import { cleanLines, findPrefixed, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";
import { decodeUcs2Hex, looksLikeUcs2Hex } from "./text-encoding.ts";

export type UssdStatus = "done" | "action_required" | "terminated" | "other_client" | "not_supported" | "timeout" | "unknown";

const STATUS: readonly UssdStatus[] = ["done", "action_required", "terminated", "other_client", "not_supported", "timeout"];

export interface CusdInfo {
  /** `<m>`: 0 done, 1 further action required, 2 terminated by network, 4 not supported, 5 timeout. */
  m: number;
  status: UssdStatus;
  /** Decoded text, or null when the answer carried none. */
  text: string | null;
  /** The string as printed. */
  raw: string | null;
  dcs: number | null;
}

export interface UssdParseOptions {
  /** The `AT+CSCS` character set in force. */
  charset?: "GSM" | "UCS2" | "IRA";
}

/** Alphabet of a cell-broadcast/USSD data coding scheme (23.038 §5): 15 → gsm7, 72 (0x48) → ucs2. */
export function cbsAlphabet(dcs: number): "gsm7" | "8bit" | "ucs2" {
  const group = dcs >> 4;
  if (dcs === 0x11) return "ucs2";
  if (group === 0x4 || group === 0x5 || group === 0x6 || group === 0x7 || group === 0x9) {
    const a = (dcs >> 2) & 3;
    return a === 1 ? "8bit" : a === 2 ? "ucs2" : "gsm7";
  }
  if (group === 0xf) return dcs & 0x04 ? "8bit" : "gsm7";
  return "gsm7";
}

function decodeText(raw: string, dcs: number | null, opts: UssdParseOptions): string {
  const ucs2 = opts.charset === "UCS2" || (dcs !== null && cbsAlphabet(dcs) === "ucs2");
  if (ucs2 && looksLikeUcs2Hex(raw)) {
    const t = decodeUcs2Hex(raw);
    // dcs 0x11: the first character is a language indication (23.038 §5).
    if (t !== null) return dcs === 0x11 ? t.slice(1) : t;
  }
  return raw;
}

function cusd(payload: string | null, opts: UssdParseOptions): ParseResult<CusdInfo> {
  if (payload === null) return fail("CUSD: no +CUSD line");
  const f = splitFields(payload);
  const m = toInt(f[0]);
  if (m === null) return fail(`CUSD: expected <m>[,"<str>",<dcs>], got ${snippet(payload)}`);
  const raw = f[1] === undefined ? null : unquote(f[1]);
  const dcs = toInt(f[2]);
  return ok({ m, status: STATUS[m] ?? "unknown", text: raw === null ? null : decodeText(raw, dcs, opts), raw, dcs });
}

/** URC `+CUSD: 0,"Your balance is 5.00",15`. Takes the single URC line. */
export const parseCusdUrc = safe("CUSD", (line: string, opts: UssdParseOptions = {}) => cusd(findPrefixed(cleanLines([line]), "+CUSD"), opts));

/** `AT+CUSD=1,"…",15` when the network answers before OK: `+CUSD: 0,"…",15` among the response lines. */
export const parseCusdWrite = safe("CUSD", (lines: readonly string[], opts: UssdParseOptions = {}) =>
  cusd(findPrefixed(cleanLines(lines), "+CUSD"), opts),
);

/** `AT+CUSD?` → `+CUSD: <n>` (result presentation enabled or not). */
export const parseCusdRead = safe("CUSD", (lines: readonly string[]): ParseResult<{ n: number }> => {
  const p = findPrefixed(cleanLines(lines), "+CUSD");
  const n = toInt(p === null ? undefined : splitFields(p)[0]);
  return n === null ? fail("CUSD: no +CUSD: <n> line") : ok({ n });
});
