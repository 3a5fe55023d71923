/**
 * Network registration: AT+CREG? / AT+CGREG? / AT+CEREG? and their URCs (ec25.md §4.3).
 * Read form: `+CEREG: <n>,<stat>[,"<tac>","<ci>"[,<AcT>…]]`; URC form drops `<n>`: `+CEREG: <stat>[,"<tac>","<ci>"[,<AcT>]]`.
 */
import { cleanLines, findPrefixed, hexText, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export type RegistrationStatus =
  | "not_registered"
  | "home"
  | "searching"
  | "denied"
  | "unknown"
  | "roaming"
  | "home_sms_only"
  | "roaming_sms_only"
  | "emergency_only"
  | "home_csfb_not_preferred"
  | "roaming_csfb_not_preferred";

const STATUS: readonly RegistrationStatus[] = [
  "not_registered",
  "home",
  "searching",
  "denied",
  "unknown",
  "roaming",
  "home_sms_only",
  "roaming_sms_only",
  "emergency_only",
  "home_csfb_not_preferred",
  "roaming_csfb_not_preferred",
];

/** Name of a 27.007 `<stat>` value; "unknown" for values outside the table. */
export function registrationStatusName(stat: number): RegistrationStatus {
  return STATUS[stat] ?? "unknown";
}

const ACT_NAMES: readonly string[] = [
  "GSM",
  "GSM Compact",
  "UTRAN",
  "GSM/EGPRS",
  "UTRAN HSDPA",
  "UTRAN HSUPA",
  "UTRAN HSDPA+HSUPA",
  "E-UTRAN",
  "EC-GSM-IoT",
  "E-UTRAN NB-S1",
  "E-UTRA-5GCN",
  "NR-5GCN",
  "NG-RAN",
  "E-UTRA-NR",
];

/** Name of a 27.007 `<AcT>` value (7 = "E-UTRAN", i.e. LTE), or null. Shared with +COPS. */
export function accessTechnologyName(act: number | null): string | null {
  return act === null ? null : (ACT_NAMES[act] ?? null);
}

export interface RegistrationInfo {
  /** The URC mode `<n>` (read form only; null for URCs). */
  n: number | null;
  stat: number;
  status: RegistrationStatus;
  /** Registered on the home network or roaming (stat 1, 5, 6, 7, 9, 10). */
  registered: boolean;
  roaming: boolean;
  /** LAC (CREG/CGREG) or TAC (CEREG), upper-case hex as printed; null when absent. */
  area: string | null;
  areaValue: number | null;
  /** Cell id, upper-case hex; null when absent. */
  cellId: string | null;
  cellIdValue: number | null;
  act: number | null;
  actName: string | null;
}

const REGISTERED = new Set([1, 5, 6, 7, 9, 10]);
const ROAMING = new Set([5, 7, 10]);

function build(n: number | null, stat: number, rest: string[]): RegistrationInfo {
  const area = hexText(rest[0]);
  const cellId = hexText(rest[1]);
  const act = toInt(rest[2]);
  return {
    n,
    stat,
    status: registrationStatusName(stat),
    registered: REGISTERED.has(stat),
    roaming: ROAMING.has(stat),
    area,
    areaValue: area === null ? null : Number.parseInt(area, 16),
    cellId,
    cellIdValue: cellId === null ? null : Number.parseInt(cellId, 16),
    act,
    actName: accessTechnologyName(act),
  };
}

function parseRead(prefix: string, lines: readonly string[]): ParseResult<RegistrationInfo> {
  const payload = findPrefixed(cleanLines(lines), prefix);
  if (payload === null) return fail(`${prefix.slice(1)}: no ${prefix} line`);
  const f = splitFields(payload);
  const n = toInt(f[0]);
  const stat = toInt(f[1]);
  // A URC-shaped line (`<stat>,"<lac>",…`) has a quoted second field; refuse it rather than misread it.
  if (n === null || stat === null || stat < 0) return fail(`${prefix.slice(1)}: expected <n>,<stat>, got ${snippet(payload)}`);
  return ok(build(n, stat, f.slice(2)));
}

function parseUrc(prefix: string, line: string): ParseResult<RegistrationInfo> {
  const payload = findPrefixed(cleanLines([line]), prefix);
  if (payload === null) return fail(`${prefix.slice(1)}: no ${prefix} line`);
  const f = splitFields(payload);
  const stat = toInt(f[0]);
  // A read-shaped line (`<n>,<stat>,…`) has a short unquoted number second; the URC has a quoted LAC/TAC there.
  const looksRead = f.length >= 2 && !f[1].startsWith('"') && /^\d{1,2}$/.test(f[1]);
  if (stat === null || stat < 0 || looksRead)
    return fail(`${prefix.slice(1)}: expected URC <stat>[,"<lac>","<ci>"[,<AcT>]], got ${snippet(payload)}`);
  return ok(build(null, stat, f.slice(1)));
}

/** `AT+CREG?` → `+CREG: 0,1` [T 20], `+CREG: 2,1,"00A8","5355E8D",7`. */
export const parseCregRead = safe("CREG", (lines: readonly string[]) => parseRead("+CREG", lines));
/** `AT+CGREG?` → `+CGREG: 0,1`. */
export const parseCgregRead = safe("CGREG", (lines: readonly string[]) => parseRead("+CGREG", lines));
/** `AT+CEREG?` → `+CEREG: 0,1` [T 02], `+CEREG: 2,1,"61EA","A1A9566",7`. */
export const parseCeregRead = safe("CEREG", (lines: readonly string[]) => parseRead("+CEREG", lines));

/** URC `+CREG: 1` or `+CREG: 1,"00A8","5355E8D",7` (AT+CREG=1/2). */
export const parseCregUrc = safe("CREG", (line: string) => parseUrc("+CREG", line));
/** URC `+CGREG: <stat>[,"<lac>","<ci>"[,<AcT>]]`. */
export const parseCgregUrc = safe("CGREG", (line: string) => parseUrc("+CGREG", line));
/** URC `+CEREG: <stat>[,"<tac>","<ci>"[,<AcT>]]`. */
export const parseCeregUrc = safe("CEREG", (line: string) => parseUrc("+CEREG", line));
