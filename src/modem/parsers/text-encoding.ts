/**
 * Character sets used by SMS and USSD (3GPP 23.038): the GSM 7-bit default alphabet (packed septets) and UCS-2
 * as hex strings (what the modem prints after `AT+CSCS="UCS2"`, ec25.md §4.6).
 */

/** GSM 7-bit default alphabet, index = septet value. 0x1B is the escape to the extension table. */
const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

const GSM7_EXTENSION: Record<number, string> = {
  0x0a: "\f",
  0x14: "^",
  0x28: "{",
  0x29: "}",
  0x2f: "\\",
  0x3c: "[",
  0x3d: "~",
  0x3e: "]",
  0x40: "|",
  0x65: "€",
};

/** Decodes unpacked septet values (one per array element) to text, applying the extension table. */
export function gsm7SeptetsToText(septets: readonly number[]): string {
  let out = "";
  if (!Array.isArray(septets)) return out;
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i] & 0x7f;
    if (s === 0x1b) {
      const next = septets[i + 1];
      if (next === undefined) break;
      i++;
      // An unknown extension code shows as the basic character (23.038 §6.2.1.1 fallback).
      out += GSM7_EXTENSION[next & 0x7f] ?? GSM7_BASIC[next & 0x7f];
      continue;
    }
    out += GSM7_BASIC[s];
  }
  return out;
}

/**
 * Unpacks `count` septets from packed octets, skipping `skipSeptets` leading septets (the fill after a UDH).
 * Stops early if the octets run out (truncated PDU).
 */
export function unpackSeptets(octets: Uint8Array, count: number, skipSeptets = 0): number[] {
  const out: number[] = [];
  if (!(octets instanceof Uint8Array) || !Number.isInteger(count) || !Number.isInteger(skipSeptets)) return out;
  for (let i = Math.max(0, skipSeptets); i < count; i++) {
    const bit = i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    if (byte >= octets.length) break;
    let v = octets[byte] >> shift;
    if (shift > 1) {
      if (byte + 1 >= octets.length) break;
      v |= octets[byte + 1] << (8 - shift);
    }
    out.push(v & 0x7f);
  }
  return out;
}

/** Decodes packed GSM 7-bit user data. */
export function decodeGsm7Packed(octets: Uint8Array, septetCount: number, skipSeptets = 0): string {
  return gsm7SeptetsToText(unpackSeptets(octets, septetCount, skipSeptets));
}

/** Parses an even-length hex string into bytes, or null when it is not hex. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (typeof hex !== "string") return null;
  const h = hex.trim();
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return null;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Decodes big-endian UCS-2 (UTF-16BE, surrogate pairs kept) bytes. An odd trailing byte is ignored. */
export function decodeUcs2Bytes(bytes: Uint8Array): string {
  let out = "";
  if (!(bytes instanceof Uint8Array)) return out;
  for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
  return out;
}

/**
 * Decodes a UCS-2 hex string such as `"004800690021"` → `"Hi!"`. Returns null when the input is not a
 * whole number of hex code units (length not a multiple of 4, or non-hex characters).
 */
export function decodeUcs2Hex(hex: string): string | null {
  if (typeof hex !== "string") return null;
  const h = hex.trim();
  if (h.length === 0 || h.length % 4 !== 0) return null;
  const bytes = hexToBytes(h);
  return bytes ? decodeUcs2Bytes(bytes) : null;
}

/** True when a string looks like UCS-2 hex (non-empty, hex only, length a multiple of 4). */
export function looksLikeUcs2Hex(s: string): boolean {
  return typeof s === "string" && s.length > 0 && s.length % 4 === 0 && /^[0-9a-fA-F]+$/.test(s);
}

/** Encodes text as UCS-2 hex (for AT+CUSD / AT+CMGS with AT+CSCS="UCS2"). */
export function encodeUcs2Hex(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0");
  return out;
}
