/**
 * Operator selection and names (ec25.md §4.3): AT+COPS?, AT+COPS=? and AT+QSPN.
 */
import { cleanLines, findPrefixed, optText, splitFields, toInt, unquote } from "./fields.ts";
import { accessTechnologyName } from "./registration.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

const MODES: Record<number, string> = { 0: "automatic", 1: "manual", 2: "deregister", 3: "set_format", 4: "manual_automatic" };
const FORMATS: Record<number, string> = { 0: "long", 1: "short", 2: "numeric" };

export interface CopsInfo {
  mode: number;
  modeName: string | null;
  /** Null when not registered (`+COPS: 0`). */
  format: number | null;
  formatName: string | null;
  /** The operator in the reported format; null when not registered. */
  operator: string | null;
  /** The operator when the format is numeric (MCC+MNC, e.g. "25099"). */
  numeric: string | null;
  act: number | null;
  actName: string | null;
}

/**
 * `AT+COPS?` → `+COPS: 0,0,"AT&T Twilio",7` [T 05], `+COPS: 0,0,"IND airtel airtel",7` [T 20],
 * `+COPS: 0` (not registered) [T 20].
 */
export const parseCopsRead = safe("COPS", (lines: readonly string[]): ParseResult<CopsInfo> => {
  const payload = findPrefixed(cleanLines(lines), "+COPS");
  if (payload === null) return fail("COPS: no +COPS line");
  if (payload.startsWith("(")) return fail("COPS: got a test (list) answer, not a read answer");
  const f = splitFields(payload);
  const mode = toInt(f[0]);
  if (mode === null) return fail(`COPS: expected <mode>, got ${snippet(payload)}`);
  const format = toInt(f[1]);
  const operator = optText(f[2]);
  const act = toInt(f[3]);
  return ok({
    mode,
    modeName: MODES[mode] ?? null,
    format,
    formatName: format === null ? null : (FORMATS[format] ?? null),
    operator,
    numeric: format === 2 ? operator : null,
    act,
    actName: accessTechnologyName(act),
  });
});

export interface CopsNetwork {
  /** 0 unknown, 1 available, 2 current, 3 forbidden. */
  stat: number;
  statName: "unknown" | "available" | "current" | "forbidden";
  longName: string | null;
  shortName: string | null;
  numeric: string | null;
  act: number | null;
  actName: string | null;
}

export interface CopsTestInfo {
  networks: CopsNetwork[];
  /** Supported modes as printed, e.g. "0-4"; null when absent. */
  modes: string | null;
  /** Supported formats as printed, e.g. "0-2"; null when absent. */
  formats: string | null;
}

const STAT_NAMES = ["unknown", "available", "current", "forbidden"] as const;

/**
 * `AT+COPS=?` → `+COPS: (1,"Telstra Mobile","Telstra","50501",2),(1,"vodafone AU","voda AU","50503",7),(0-4),(0-2)`
 * [T 10; the EC25 prints one comma before the ranges, 27.007 puts an empty field there — both accepted].
 */
export const parseCopsTest = safe("COPS", (lines: readonly string[]): ParseResult<CopsTestInfo> => {
  const payload = findPrefixed(cleanLines(lines), "+COPS");
  if (payload === null) return fail("COPS: no +COPS line");
  const networks: CopsNetwork[] = [];
  const ranges: string[] = [];
  for (const group of splitFields(payload)) {
    if (group === "") continue; // the empty field before the ranges (27.007 layout)
    if (!group.startsWith("(")) return fail(`COPS: unexpected list element ${snippet(group)}`);
    const inner = group.replace(/^\(/, "").replace(/\)$/, "");
    if (inner.includes('"')) {
      const f = splitFields(inner);
      const stat = toInt(f[0]);
      if (stat === null) return fail(`COPS: bad network entry ${snippet(group)}`);
      const act = toInt(f[4]);
      networks.push({
        stat,
        statName: STAT_NAMES[stat] ?? "unknown",
        longName: optText(f[1]),
        shortName: optText(f[2]),
        numeric: optText(f[3]),
        act,
        actName: accessTechnologyName(act),
      });
    } else if (inner.trim() !== "") {
      ranges.push(unquote(inner).trim());
    }
  }
  return ok({ networks, modes: ranges[0] ?? null, formats: ranges[1] ?? null });
});

export interface QspnInfo {
  fullName: string | null;
  shortName: string | null;
  spn: string | null;
  alphabet: number | null;
  /** Registered PLMN, numeric. */
  rplmn: string | null;
}

/** `AT+QSPN` → `+QSPN: "spusu","spusu","spusu",0,"22288"` [T 27]. */
export const parseQspnExec = safe("QSPN", (lines: readonly string[]): ParseResult<QspnInfo> => {
  const payload = findPrefixed(cleanLines(lines), "+QSPN");
  if (payload === null) return fail("QSPN: no +QSPN line");
  const f = splitFields(payload);
  if (f.length < 2) return fail(`QSPN: too few fields in ${snippet(payload)}`);
  return ok({
    fullName: optText(f[0]),
    shortName: optText(f[1]),
    spn: optText(f[2]),
    alphabet: toInt(f[3]),
    rplmn: optText(f[4]),
  });
});
