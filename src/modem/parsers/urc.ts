/**
 * Unsolicited result codes (ec25.md §3.6) and the answer-vs-URC decision for prefixes that exist both as
 * solicited answers and as URCs (§3.4 item 4): +CREG/+CGREG/+CEREG, +CPIN, +QSIMSTAT, +QNETDEVSTATUS,
 * +CFUN, +CUSD.
 */
import { commandVerbs, type CommandForm, type CommandVerb } from "./command.ts";
import { isQuoted, normaliseLine, splitFields } from "./fields.ts";

type Shape = "answer" | "urc";

export interface UrcSpec {
  /** `+CEREG` (prefixed lines `+CEREG: …`) or a whole line such as `RDY`. */
  prefix: string;
  whole?: boolean;
  /** Forms of a pending command with the same verb whose answer uses this prefix. Absent: always a URC. */
  answerForms?: readonly CommandForm[];
  /** When a same-verb command is pending, decides by the line's fields (read form has `<n>` first). */
  shape?: (fields: string[]) => Shape;
  /** Lines that belong to this URC after its first line (+CMT/+CDS/+CBM carry the PDU or text on the next line). */
  followLines?: number;
  description: string;
}

/**
 * `+CREG: <n>,<stat>[,"<lac>","<ci>"[,<AcT>]]` (answer) vs `+CREG: <stat>[,"<lac>","<ci>"[,<AcT>]]` (URC):
 * the first quoted field sits at index 2 in the answer and at index 1 in the URC; without location fields the
 * answer has 2 fields and the URC 1. Test answers carry parentheses. Anything else is taken as the answer.
 */
function registrationShape(fields: string[]): Shape {
  if (fields.some((f) => f.startsWith("("))) return "answer";
  const q = fields.findIndex((f) => isQuoted(f) || f.startsWith('"'));
  if (q === 1) return "urc";
  if (q === 2) return "answer";
  if (q === -1 && fields.length === 1) return "urc";
  return "answer";
}

const READ_TEST: readonly CommandForm[] = ["read", "test"];

/** The URC table. Prefix entries match `<prefix>:`; whole entries match the entire line. */
export const URC_TABLE: readonly UrcSpec[] = [
  { prefix: "RDY", whole: true, description: "AT interface ready after boot" },
  { prefix: "POWERED DOWN", whole: true, description: "after AT+QPOWD" },
  { prefix: "RING", whole: true, description: "incoming call" },
  { prefix: "+CREG", answerForms: READ_TEST, shape: registrationShape, description: "CS registration (AT+CREG=1/2)" },
  { prefix: "+CGREG", answerForms: READ_TEST, shape: registrationShape, description: "PS registration" },
  { prefix: "+CEREG", answerForms: READ_TEST, shape: registrationShape, description: "EPS registration" },
  { prefix: "+CPIN", answerForms: READ_TEST, description: "SIM state change" },
  { prefix: "+QSIMSTAT", answerForms: READ_TEST, description: "SIM hot-plug" },
  { prefix: "+QNETDEVSTATUS", answerForms: ["read", "test", "write"], description: "RmNet/ECM call state" },
  { prefix: "+CFUN", answerForms: READ_TEST, description: "functionality after boot" },
  { prefix: "+CUSD", answerForms: ["read", "test", "write"], description: "USSD answer (may also come before OK)" },
  { prefix: "+QUSIM", description: "SIM type" },
  { prefix: "+QIND", description: "SMS DONE / PB DONE / csq / act / FOTA" },
  { prefix: "+CMTI", description: "new SMS stored" },
  { prefix: "+CMT", followLines: 1, description: "SMS delivered directly" },
  { prefix: "+CDSI", description: "status report stored" },
  { prefix: "+CDS", followLines: 1, description: "status report delivered directly" },
  { prefix: "+CBM", followLines: 1, description: "cell broadcast" },
  { prefix: "+CGEV", description: "PDP/PDN events (AT+CGEREP=2,1)" },
  { prefix: "+CLIP", description: "calling line identification" },
  { prefix: "+CRING", description: "extended ring" },
  { prefix: "+CCWA", description: "call waiting" },
  { prefix: "+CTZV", description: "time zone change" },
  { prefix: "+CTZE", description: "extended time zone change" },
  { prefix: "+QPING", answerForms: ["test"], description: "internal TCP/IP stack ping results" },
  { prefix: "+QIURC", description: "internal TCP/IP stack events" },
  { prefix: "+QGPSURC", description: "GNSS events" },
];

const BY_PREFIX = new Map<string, UrcSpec>(URC_TABLE.filter((s) => !s.whole).map((s) => [s.prefix, s]));
const WHOLE = new Map<string, UrcSpec>(URC_TABLE.filter((s) => s.whole).map((s) => [s.prefix, s]));

/** Basic/extended verbs after which `NO CARRIER` is the final result, not a URC. */
const DIAL_VERBS = new Set(["D", "A", "O", "+CGDATA"]);

/** The `+XYZ` / `$XYZ` prefix of a line (upper-cased), or null. */
export function linePrefix(line: string): string | null {
  const m = /^([+$][A-Za-z0-9_]+):/.exec(line);
  return m ? m[1].toUpperCase() : null;
}

/** The URC table entry a line matches (regardless of any pending command), or null. */
export function urcSpec(line: string): UrcSpec | null {
  if (typeof line !== "string") return null;
  const l = normaliseLine(line);
  const whole = WHOLE.get(l);
  if (whole) return whole;
  const p = linePrefix(l);
  return p ? (BY_PREFIX.get(p) ?? null) : null;
}

function pendingMatches(spec: UrcSpec, verbs: CommandVerb[]): boolean {
  return verbs.some((v) => v.verb === spec.prefix && (spec.answerForms ?? []).includes(v.form));
}

/**
 * True when `line` is an unsolicited result code rather than part of the response to `pendingCommand`
 * (the command as sent, e.g. `AT+CEREG?`; undefined when nothing is pending).
 *
 * - Known URC prefixes (ec25.md §3.6) are URCs, except a dual prefix whose verb is pending in a form that
 *   answers with it (`+CPIN: READY` while `AT+CPIN?` is pending is the answer; while `AT+CPIN=1234` is pending
 *   it is a URC); for +CREG/+CGREG/+CEREG the field count/shape decides too (`+CEREG: 1,"1A2B","0C3D4E5",7`
 *   is a URC even while `AT+CEREG?` is pending).
 * - `NO CARRIER` is a URC unless a dial command (ATD/ATA/ATO/AT+CGDATA) is pending.
 * - Any other line returns false (the engine decides what to do with lines arriving while nothing is pending).
 */
export function isUrc(line: string, pendingCommand?: string): boolean {
  if (typeof line !== "string") return false;
  const l = normaliseLine(line);
  if (l === "NO CARRIER") {
    if (!pendingCommand) return true;
    return !commandVerbs(pendingCommand).some((v) => DIAL_VERBS.has(v.verb));
  }
  const spec = urcSpec(l);
  if (!spec) return false;
  if (spec.whole || !spec.answerForms || !pendingCommand) return true;
  if (!pendingMatches(spec, commandVerbs(pendingCommand))) return true;
  if (!spec.shape) return false;
  const payload = l.slice(l.indexOf(":") + 1).trim();
  return spec.shape(splitFields(payload)) === "urc";
}

/**
 * How many lines after `line` belong to the same URC (1 for `+CMT:`/`+CDS:`/`+CBM:`, whose PDU or text follows
 * on the next line; 0 otherwise). The engine should hand those lines to the URC listener, not to the response.
 */
export function urcFollowLines(line: string): number {
  return urcSpec(line)?.followLines ?? 0;
}
