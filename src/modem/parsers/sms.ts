/**
 * Stored SMS (ec25.md §4.6): AT+CMGL (list) and AT+CMGR (read) in text mode (`AT+CMGF=1`: header line + text
 * line(s)) and PDU mode (`AT+CMGF=0`: header line + hex PDU line). Also AT+CMGS's `+CMGS: <mr>`.
 */
import { afterPrefix, cleanLines, findPrefixed, optText, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";
import { decodeSmsDeliverPdu, type SmsConcat } from "./sms-pdu.ts";
import { decodeUcs2Hex, looksLikeUcs2Hex } from "./text-encoding.ts";

export interface SmsParseOptions {
  /** The `AT+CSCS` character set in force; with "UCS2" text and addresses are UCS-2 hex and get decoded. */
  charset?: "GSM" | "UCS2" | "IRA";
}

export type SmsStatus = "REC UNREAD" | "REC READ" | "STO UNSENT" | "STO SENT";

const STATUS_BY_CODE: readonly SmsStatus[] = ["REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"];

export interface SmsMessage {
  /** Storage index (CMGL); null for CMGR, whose caller knows the index. */
  index: number | null;
  status: SmsStatus | null;
  mode: "text" | "pdu";
  /** Originating address (received) or destination (stored outgoing). */
  sender: string | null;
  /** ISO 8601 with offset when known. */
  timestamp: string | null;
  /** As printed in text mode, e.g. "21/05/12,10:37:39+08". */
  timestampRaw: string | null;
  text: string | null;
  /** The hex PDU (PDU mode). */
  pdu: string | null;
  concat: SmsConcat | null;
  /** Why the body could not be decoded (the message is still listed). */
  decodeError: string | null;
}

/** Text-mode SCTS `yy/MM/dd,hh:mm:ss±zz` (zz in quarter hours) → ISO 8601, or null. */
export function sctsTextToIso(scts: string): string | null {
  const m = /^(\d{2})\/(\d{2})\/(\d{2}),(\d{2}):(\d{2}):(\d{2})(?:([+-])(\d{1,2}))?$/.exec(unquote(scts ?? "").trim());
  if (!m) return null;
  const yy = Number(m[1]);
  const q = m[8] === undefined ? 0 : Number(m[8]);
  const tz = `${m[7] ?? "+"}${String(Math.floor(q / 4)).padStart(2, "0")}:${String((q % 4) * 15).padStart(2, "0")}`;
  return `${yy >= 90 ? 1900 + yy : 2000 + yy}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${tz}`;
}

/** String lines with only trailing CR/LF removed (message bodies keep their spaces); [] for non-arrays. */
function rawLines(lines: readonly unknown[]): string[] {
  if (!Array.isArray(lines)) return [];
  return lines.filter((l): l is string => typeof l === "string").map((l) => l.replace(/[\r\n]+$/, ""));
}

function maybeUcs2(s: string | null, opts: SmsParseOptions): string | null {
  if (s === null || opts.charset !== "UCS2" || !looksLikeUcs2Hex(s)) return s;
  return decodeUcs2Hex(s) ?? s;
}

function statusOf(tok: string | undefined): SmsStatus | null {
  const n = toInt(tok);
  if (n !== null) return STATUS_BY_CODE[n] ?? null;
  const t = unquote(tok).trim().toUpperCase() as SmsStatus;
  return STATUS_BY_CODE.includes(t) ? t : null;
}

function empty(index: number | null, mode: "text" | "pdu"): SmsMessage {
  return { index, status: null, mode, sender: null, timestamp: null, timestampRaw: null, text: null, pdu: null, concat: null, decodeError: null };
}

/** header = fields after the index (CMGL) or all fields (CMGR); body = following lines. */
function buildMessage(index: number | null, header: string[], body: string[], opts: SmsParseOptions): SmsMessage {
  const pduMode = header[0] !== undefined && toInt(header[0]) !== null && !header[0].startsWith('"');
  const msg = empty(index, pduMode ? "pdu" : "text");
  msg.status = statusOf(header[0]);
  if (pduMode) {
    const pdu = body.find((l) => /^[0-9a-fA-F]+$/.test(l)) ?? null;
    msg.pdu = pdu;
    if (pdu === null) {
      msg.decodeError = "missing PDU line";
      return msg;
    }
    const d = decodeSmsDeliverPdu(pdu);
    if (!d.ok) {
      msg.decodeError = d.error;
      return msg;
    }
    msg.sender = d.value.sender;
    msg.timestamp = d.value.timestamp;
    msg.text = d.value.text;
    msg.concat = d.value.concat;
    return msg;
  }
  // Text mode: <stat>,<oa>,[<alpha>],<scts>[,…]
  msg.sender = maybeUcs2(optText(header[1]), opts);
  msg.timestampRaw = optText(header[3]);
  msg.timestamp = msg.timestampRaw ? sctsTextToIso(msg.timestampRaw) : null;
  msg.text = body.length ? maybeUcs2(body.join("\n"), opts) : "";
  return msg;
}

function parseList(lines: readonly string[], opts: SmsParseOptions): ParseResult<SmsMessage[]> {
  const out: SmsMessage[] = [];
  let cur: { index: number | null; header: string[]; body: string[] } | null = null;
  const flush = () => {
    if (cur) out.push(buildMessage(cur.index, cur.header, cur.body, opts));
  };
  // Keep body lines exactly (only CR/LF trimmed): a text message may have leading spaces.
  for (const line of rawLines(lines)) {
    const p = afterPrefix(line, "+CMGL");
    if (p !== null) {
      flush();
      const f = splitFields(p);
      cur = { index: toInt(f[0]), header: f.slice(1), body: [] };
    } else if (cur && line.trim() !== "") {
      cur.body.push(line);
    }
  }
  flush();
  if (out.length === 0 && cleanLines(lines).length > 0) return fail("CMGL: no +CMGL line");
  return ok(out);
}

/**
 * `AT+CMGL="ALL"` (text) → `+CMGL: 1,"REC UNREAD","+15551230000",,"21/05/12,10:37:39+08"` / `Hello`;
 * `AT+CMGL=4` (PDU) → `+CMGL: <index>,<stat>,,<length>` / `<hex PDU>`. No lines = no messages.
 */
export const parseCmglWrite = safe("CMGL", (lines: readonly string[], opts: SmsParseOptions = {}) => parseList(lines, opts));

/** `AT+CMGL` without arguments (lists REC UNREAD); same layout. */
export const parseCmglExec = safe("CMGL", (lines: readonly string[], opts: SmsParseOptions = {}) => parseList(lines, opts));

/**
 * `AT+CMGR=<i>` → `+CMGR: "REC READ","<oa>",,"<scts>"` + text (text mode) or `+CMGR: <stat>,,<len>` + PDU.
 * An empty slot answers with just OK → `{ ok: false }`.
 */
export const parseCmgrWrite = safe("CMGR", (lines: readonly string[], opts: SmsParseOptions = {}): ParseResult<SmsMessage> => {
  let header: string[] | null = null;
  const body: string[] = [];
  for (const line of rawLines(lines)) {
    const p = afterPrefix(line, "+CMGR");
    if (p !== null && header === null) header = splitFields(p);
    else if (header !== null && line.trim() !== "") body.push(line);
  }
  if (header === null) return fail("CMGR: no +CMGR line (empty slot?)");
  return ok(buildMessage(null, header, body, opts));
});

/** `AT+CMGS=…` → `+CMGS: 13` (message reference) [T 23]. */
export const parseCmgsWrite = safe("CMGS", (lines: readonly string[]): ParseResult<{ messageReference: number }> => {
  const p = findPrefixed(cleanLines(lines), "+CMGS");
  const mr = toInt(p === null ? undefined : splitFields(p)[0]);
  if (mr === null) return fail(`CMGS: expected +CMGS: <mr>, got ${snippet(cleanLines(lines).join(" | "))}`);
  return ok({ messageReference: mr });
});
