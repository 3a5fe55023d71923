/**
 * SMS encodings the simulated modem needs (pure): SMS-DELIVER PDUs for PDU-mode listings (AT+CMGF=0), GSM 7-bit
 * packing, UCS-2 hex for AT+CSCS="UCS2", and the +CMGL/+CMGR timestamp "yy/MM/dd,hh:mm:ss+zz" (3GPP 23.040, 27.005).
 */

/** GSM 03.38 default alphabet positions of the characters we encode (no extension table; others → UCS-2). */
const GSM7: Record<string, number> = { "@": 0x00, "£": 0x01, $: 0x02, "\n": 0x0a, "\r": 0x0d, _: 0x11, " ": 0x20 };
for (const ch of "!\"#%&'()*+,-./0123456789:;<=>?") GSM7[ch] = ch.charCodeAt(0);
for (let c = 65; c <= 90; c++) GSM7[String.fromCharCode(c)] = c;
for (let c = 97; c <= 122; c++) GSM7[String.fromCharCode(c)] = c;

export function isGsm7(text: string): boolean {
  for (const ch of text) if (GSM7[ch] === undefined) return false;
  return true;
}

/** Packs septets into octets (LSB first), returns hex. */
export function packSeptets(septets: number[]): string {
  const out: number[] = [];
  let acc = 0, bits = 0;
  for (const s of septets) {
    acc |= (s & 0x7f) << bits;
    bits += 7;
    while (bits >= 8) { out.push(acc & 0xff); acc >>= 8; bits -= 8; }
  }
  if (bits > 0) out.push(acc & 0xff);
  return out.map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

export function ucs2Hex(text: string): string {
  let s = "";
  for (let i = 0; i < text.length; i++) s += text.charCodeAt(i).toString(16).padStart(4, "0");
  return s.toUpperCase();
}

/** Decodes UCS-2 hex; undefined when `hex` is not a UCS-2 hex string. */
export function fromUcs2Hex(hex: string): string | undefined {
  if (!/^([0-9A-Fa-f]{4})*$/.test(hex)) return undefined;
  let s = "";
  for (let i = 0; i < hex.length; i += 4) s += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return s;
}

/** Semi-octet swapped BCD of a digit string ("4915" → "9451"), padded with F. */
function swappedBcd(digits: string): string {
  const d = digits.length % 2 ? `${digits}F` : digits;
  let s = "";
  for (let i = 0; i < d.length; i += 2) s += d[i + 1]! + d[i]!;
  return s;
}

const two = (n: number) => String(n).padStart(2, "0");

/** "yy/MM/dd,hh:mm:ss+zz" (zz in quarter hours) in UTC, as +CMGL/+CMGR/+CCLK print it. */
export function scts(date: Date): string {
  return `${two(date.getUTCFullYear() % 100)}/${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())},` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}+00`;
}

function sctsPdu(date: Date): string {
  const parts = [date.getUTCFullYear() % 100, date.getUTCMonth() + 1, date.getUTCDate(),
    date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), 0];
  return parts.map((n) => swappedBcd(two(n))).join("");
}

function addressField(address: string): string {
  const digits = address.replace(/^\+/, "");
  if (/^\d+$/.test(digits)) {
    const type = address.startsWith("+") ? "91" : "81";
    return digits.length.toString(16).padStart(2, "0").toUpperCase() + type + swappedBcd(digits);
  }
  // Alphanumeric sender ("Telekom"): type D0, GSM 7-bit packed; length counts semi-octets.
  const septets = [...address].map((c) => GSM7[c] ?? 0x3f);
  const packed = packSeptets(septets);
  return (packed.length).toString(16).padStart(2, "0").toUpperCase() + "D0" + packed;
}

export interface DeliverPdu {
  /** Full hex including the SMSC part, as +CMGL prints it. */
  hex: string;
  /** TPDU length in octets (without the SMSC part): the <length> of +CMGL/+CMGR in PDU mode. */
  tpduLength: number;
}

/** An SMS-DELIVER PDU for a received message. */
export function deliverPdu(opts: { smsc: string; from: string; text: string; date: Date }): DeliverPdu {
  const smscDigits = opts.smsc.replace(/^\+/, "");
  const smscBody = "91" + swappedBcd(smscDigits);
  const smsc = (smscBody.length / 2).toString(16).padStart(2, "0").toUpperCase() + smscBody;
  const gsm = isGsm7(opts.text);
  let udl: number, ud: string;
  if (gsm) {
    const septets = [...opts.text].map((c) => GSM7[c]!);
    udl = septets.length;
    ud = packSeptets(septets);
  } else {
    ud = ucs2Hex(opts.text);
    udl = ud.length / 2;
  }
  const tpdu = "04" + addressField(opts.from) + "00" + (gsm ? "00" : "08") + sctsPdu(opts.date) +
    udl.toString(16).padStart(2, "0").toUpperCase() + ud;
  return { hex: smsc + tpdu, tpduLength: tpdu.length / 2 };
}
