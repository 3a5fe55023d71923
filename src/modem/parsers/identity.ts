/**
 * Identity commands (ec25.md §4.1): ATI, AT+GSN/AT+CGSN (IMEI), AT+CIMI (IMSI), AT+QCCID (ICCID),
 * AT+CGMR/AT+GMR and AT+QGMR (firmware), AT+CGMI/AT+CGMM.
 */
import { afterPrefix, cleanLines, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

/** Lines without a `+XYZ:` prefix and not an echoed `AT…` command: the payload of bare responses. */
function bareLines(lines: readonly string[]): string[] {
  return cleanLines(lines).filter((l) => !/^[+$][A-Za-z0-9_]+:/.test(l) && !/^AT/i.test(l));
}

/** Luhn (mod 10) check over a digit string; false for empty or non-digit input. Used for IMEI and ICCID. */
export function luhnValid(digits: string): boolean {
  if (typeof digits !== "string" || !/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that completes `body` (e.g. the 15th IMEI digit of a 14-digit body). */
export function luhnCheckDigit(body: string): number | null {
  if (typeof body !== "string" || !/^\d+$/.test(body)) return null;
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return d;
  return null;
}

/** True for a 15-digit IMEI with a valid check digit. */
export function isValidImei(imei: string): boolean {
  return typeof imei === "string" && /^\d{15}$/.test(imei) && luhnValid(imei);
}

export interface AtiInfo {
  manufacturer: string | null;
  model: string | null;
  revision: string | null;
}

/** `ATI` → `Quectel` / `EC25` / `Revision: EC25AUFAR02A04M4G` [T 01, T 24]. */
export const parseAtiExec = safe("ATI", (lines: readonly string[]): ParseResult<AtiInfo> => {
  let revision: string | null = null;
  const names: string[] = [];
  for (const l of bareLines(lines)) {
    const m = /^Revision:\s*(.+)$/i.exec(l);
    if (m) revision = m[1].trim();
    else names.push(l);
  }
  const info: AtiInfo = { manufacturer: names[0] ?? null, model: names[1] ?? null, revision };
  if (!info.manufacturer && !info.revision) return fail("ATI: no identification lines");
  return ok(info);
});

export interface ImeiInfo {
  imei: string;
  /** Luhn check digit is correct. A modem with a bad check digit has a rewritten/corrupt IMEI. */
  checksumValid: boolean;
}

function findImei(lines: readonly string[], label: string): ParseResult<ImeiInfo> {
  for (const raw of cleanLines(lines)) {
    const payload = afterPrefix(raw, "+CGSN") ?? afterPrefix(raw, "+GSN") ?? afterPrefix(raw, "+EGMR") ?? raw;
    const v = unquote(payload).trim();
    if (/^\d{15}$/.test(v)) return ok({ imei: v, checksumValid: luhnValid(v) });
  }
  return fail(`${label}: no 15-digit IMEI in ${snippet(cleanLines(lines).join(" | "))}`);
}

/** `AT+GSN` → bare `864394041083561` (ec25.md §4.1). Also accepts `+GSN:`/`+CGSN:` prefixed and quoted forms. */
export const parseGsnExec = safe("GSN", (lines: readonly string[]) => findImei(lines, "GSN"));

/** `AT+CGSN` → same as AT+GSN; `AT+CGSN=1` on newer firmware → `+CGSN: "<imei>"`. */
export const parseCgsnExec = safe("CGSN", (lines: readonly string[]) => findImei(lines, "CGSN"));

export interface ImsiInfo {
  imsi: string;
  /** First three digits. The MNC length (2 or 3) is not derivable from the IMSI alone. */
  mcc: string;
}

/** `AT+CIMI` → bare `295050902070619` [T 10]. */
export const parseCimiExec = safe("CIMI", (lines: readonly string[]): ParseResult<ImsiInfo> => {
  for (const l of bareLines(lines)) {
    const v = unquote(l).trim();
    if (/^\d{6,15}$/.test(v)) return ok({ imsi: v, mcc: v.slice(0, 3) });
  }
  return fail("CIMI: no IMSI digits");
});

export interface IccidInfo {
  /** Digits only, trailing `F` padding removed: `8939560000000806706`. */
  iccid: string;
  /** As printed: `8939560000000806706F`. */
  raw: string;
  checksumValid: boolean;
}

/** `AT+QCCID` → `+QCCID: 8939560000000806706F` (20 chars, 19-digit ICCIDs F-padded) [T 27]. */
export const parseQccidExec = safe("QCCID", (lines: readonly string[]): ParseResult<IccidInfo> => {
  for (const l of cleanLines(lines)) {
    const payload = afterPrefix(l, "+QCCID") ?? afterPrefix(l, "+ICCID") ?? afterPrefix(l, "+CCID");
    if (payload === null) continue;
    const raw = unquote(payload).trim();
    const m = /^(\d{18,22})F*$/i.exec(raw);
    if (!m) return fail(`QCCID: malformed ICCID ${snippet(raw)}`);
    return ok({ iccid: m[1], raw, checksumValid: luhnValid(m[1]) });
  }
  return fail("QCCID: no +QCCID line");
});

export interface RevisionInfo {
  revision: string;
}

function firstBare(lines: readonly string[], prefixes: string[], label: string): ParseResult<RevisionInfo> {
  for (const l of cleanLines(lines)) {
    for (const p of prefixes) {
      const v = afterPrefix(l, p);
      if (v !== null && v !== "") return ok({ revision: unquote(v).trim() });
    }
  }
  for (const l of bareLines(lines)) {
    const v = l.replace(/^Revision:\s*/i, "").trim();
    if (/^[\x21-\x7e][\x20-\x7e]{0,99}$/.test(v)) return ok({ revision: v });
  }
  return fail(`${label}: no revision line`);
}

/** `AT+CGMR` / `AT+GMR` → bare `EC25EFAR06A04M4G` [T 03]. */
export const parseCgmrExec = safe("CGMR", (lines: readonly string[]) => firstBare(lines, ["+CGMR", "+GMR"], "CGMR"));

/** `AT+QGMR` → bare `EG25GGBR07A08M2G_30.203.30.203` [T 24]. */
export const parseQgmrExec = safe("QGMR", (lines: readonly string[]) => firstBare(lines, ["+QGMR"], "QGMR"));

/** `AT+CGMI` → `Quectel` [T 03]; `AT+CGMM` → `EC25`. Returns the first bare line. */
export const parseCgmiExec = safe("CGMI", (lines: readonly string[]): ParseResult<{ manufacturer: string }> => {
  const r = firstBare(lines, ["+CGMI", "+GMI"], "CGMI");
  return r.ok ? ok({ manufacturer: r.value.revision }) : r;
});

export const parseCgmmExec = safe("CGMM", (lines: readonly string[]): ParseResult<{ model: string }> => {
  const r = firstBare(lines, ["+CGMM", "+GMM"], "CGMM");
  return r.ok ? ok({ model: r.value.revision }) : r;
});
