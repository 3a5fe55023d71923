/**
 * A small SMS-DELIVER PDU decoder (3GPP 23.040 §9.2.2.1) for `AT+CMGL`/`AT+CMGR` in PDU mode (`AT+CMGF=0`):
 * SMSC, originating address (numeric or alphanumeric), timestamp, DCS, GSM 7-bit / UCS-2 / 8-bit user data and
 * the concatenation header. SMS-SUBMIT/STATUS-REPORT PDUs are reported as errors.
 */
import { fail, ok, safe, type ParseResult } from "./result.ts";
import { decodeGsm7Packed, decodeUcs2Bytes, hexToBytes, unpackSeptets, gsm7SeptetsToText } from "./text-encoding.ts";

export type SmsAlphabet = "gsm7" | "8bit" | "ucs2";

export interface SmsConcat {
  ref: number;
  total: number;
  seq: number;
}

export interface SmsDeliver {
  smsc: string | null;
  sender: string;
  senderType: "international" | "national" | "alphanumeric" | "unknown";
  pid: number;
  dcs: number;
  alphabet: SmsAlphabet;
  /** ISO 8601 with the sender's offset, e.g. "1999-03-29T15:16:59+02:00"; null when the BCD is invalid. */
  timestamp: string | null;
  /** Decoded text; for 8-bit data the user data as upper-case hex. */
  text: string;
  concat: SmsConcat | null;
}

/** Alphabet of an SMS data coding scheme (23.038 §4). Reserved groups fall back to GSM 7-bit. */
export function smsAlphabet(dcs: number): SmsAlphabet {
  const group = dcs >> 4;
  if (group <= 0x7) {
    const a = (dcs >> 2) & 3;
    return a === 1 ? "8bit" : a === 2 ? "ucs2" : "gsm7";
  }
  if (group === 0xe) return "ucs2";
  if (group === 0xf) return dcs & 0x04 ? "8bit" : "gsm7";
  return "gsm7";
}

const BCD_EXTRA = "*#abc";

/** Swapped-nibble BCD digits (`F` filler dropped). */
function semiOctets(bytes: Uint8Array, digits: number): string {
  let out = "";
  for (let i = 0; i < digits; i++) {
    const b = bytes[i >> 1];
    if (b === undefined) break;
    const n = i % 2 === 0 ? b & 0x0f : b >> 4;
    if (n === 0x0f) continue;
    out += n <= 9 ? String(n) : BCD_EXTRA[n - 10];
  }
  return out;
}

function bcdOctet(b: number): number | null {
  const lo = b & 0x0f;
  const hi = b >> 4;
  return lo > 9 || hi > 9 ? null : lo * 10 + hi;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Decodes the 7-octet service centre time stamp (23.040 §9.2.3.11). */
export function decodeScts(bytes: Uint8Array): string | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < 7) return null;
  const v = [0, 1, 2, 3, 4, 5].map((i) => bcdOctet(bytes[i]));
  if (v.some((x) => x === null)) return null;
  const [yy, mo, dd, hh, mi, ss] = v as number[];
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return null;
  const tzByte = bytes[6];
  // The sign is bit 3 of the first (low) semi-octet; the value is in quarter hours.
  const quarters = (tzByte & 0x07) * 10 + (tzByte >> 4);
  if ((tzByte >> 4) > 9) return null;
  const sign = tzByte & 0x08 ? "-" : "+";
  const year = yy >= 90 ? 1900 + yy : 2000 + yy;
  const tz = `${sign}${pad(Math.floor(quarters / 4))}:${pad((quarters % 4) * 15)}`;
  return `${year}-${pad(mo)}-${pad(dd)}T${pad(hh)}:${pad(mi)}:${pad(ss)}${tz}`;
}

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(what: string): number {
    if (this.pos >= this.b.length) throw new PduError(`truncated PDU at ${what}`);
    return this.b[this.pos++];
  }
  take(n: number, what: string): Uint8Array {
    if (this.pos + n > this.b.length) throw new PduError(`truncated PDU at ${what}`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

class PduError extends Error {}

function parseConcat(udh: Uint8Array): SmsConcat | null {
  let i = 0;
  while (i + 1 < udh.length) {
    const iei = udh[i];
    const len = udh[i + 1];
    const data = udh.subarray(i + 2, i + 2 + len);
    if (iei === 0x00 && len === 3 && data.length === 3) return { ref: data[0], total: data[1], seq: data[2] };
    if (iei === 0x08 && len === 4 && data.length === 4) return { ref: (data[0] << 8) | data[1], total: data[2], seq: data[3] };
    i += 2 + len;
  }
  return null;
}

function decode(hex: string): SmsDeliver {
  const bytes = hexToBytes(typeof hex === "string" ? hex.trim() : "");
  if (!bytes || bytes.length === 0) throw new PduError("PDU is not a non-empty hex string");
  const r = new Reader(bytes);
  const smscLen = r.byte("SMSC length");
  let smsc: string | null = null;
  if (smscLen > 0) {
    const s = r.take(smscLen, "SMSC");
    const digits = semiOctets(s.subarray(1), (smscLen - 1) * 2);
    smsc = (s[0] & 0x70) === 0x10 ? `+${digits}` : digits;
  }
  const first = r.byte("first octet");
  if ((first & 0x03) !== 0x00) throw new PduError(`not an SMS-DELIVER (MTI ${first & 0x03})`);
  const udhi = (first & 0x40) !== 0;
  const oaDigits = r.byte("OA length");
  const toa = r.byte("OA type");
  const oa = r.take(Math.ceil(oaDigits / 2), "OA");
  let sender: string;
  let senderType: SmsDeliver["senderType"];
  if ((toa & 0x70) === 0x50) {
    senderType = "alphanumeric";
    sender = decodeGsm7Packed(oa, Math.floor((oaDigits * 4) / 7));
  } else {
    const digits = semiOctets(oa, oaDigits);
    senderType = (toa & 0x70) === 0x10 ? "international" : (toa & 0x70) === 0x20 ? "national" : "unknown";
    sender = senderType === "international" ? `+${digits}` : digits;
  }
  const pid = r.byte("PID");
  const dcs = r.byte("DCS");
  const timestamp = decodeScts(r.take(7, "SCTS"));
  const udl = r.byte("UDL");
  const alphabet = smsAlphabet(dcs);
  const udBytes = r.b.subarray(r.pos);
  let concat: SmsConcat | null = null;
  let udhLen = 0;
  if (udhi && udBytes.length > 0) {
    udhLen = udBytes[0] + 1;
    if (udhLen > udBytes.length) throw new PduError("truncated PDU at UDH");
    concat = parseConcat(udBytes.subarray(1, udhLen));
  }
  let text: string;
  if (alphabet === "gsm7") {
    // UDL counts septets including the header; the header is padded to a septet boundary.
    const skip = udhLen > 0 ? Math.ceil((udhLen * 8) / 7) : 0;
    const septets = unpackSeptets(udBytes, udl, skip);
    text = gsm7SeptetsToText(septets);
  } else {
    const body = udBytes.subarray(udhLen, Math.max(udhLen, Math.min(udl, udBytes.length)));
    text = alphabet === "ucs2" ? decodeUcs2Bytes(body) : Buffer.from(body).toString("hex").toUpperCase();
  }
  return { smsc, sender, senderType, pid, dcs, alphabet, timestamp, text, concat };
}

/**
 * Decodes an SMS-DELIVER PDU as printed by `AT+CMGR`/`AT+CMGL` in PDU mode (hex, SMSC info first).
 * Example: `07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37` → sender `27838890001`, text "hellohello".
 */
export const decodeSmsDeliverPdu = safe("PDU", (hex: string): ParseResult<SmsDeliver> => {
  try {
    return ok(decode(hex));
  } catch (e) {
    if (e instanceof PduError) return fail(`PDU: ${e.message}`);
    throw e;
  }
});
