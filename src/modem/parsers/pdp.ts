/**
 * PDP contexts (ec25.md §4.5): AT+CGDCONT? (variable field count) and AT+CGPADDR (quoted or unquoted,
 * missing address, 16-octet dotted IPv6).
 */
import { allPrefixed, cleanLines, optText, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, type ParseResult } from "./result.ts";

export interface PdpContext {
  cid: number;
  /** "IP", "IPV6", "IPV4V6", … (upper-cased). */
  pdpType: string | null;
  apn: string | null;
  /** As printed (IPv6 contexts show a 16-octet dotted zero address). */
  address: string | null;
  dataCompression: number | null;
  headerCompression: number | null;
  /** Fields after the header compression, as printed (count varies by firmware). */
  extra: string[];
}

/**
 * `AT+CGDCONT?` → one line per context, e.g. `+CGDCONT: 1,"IP","internet","0.0.0.0",0,0,0,0` [T 20].
 * Lines that do not start with a numeric cid are skipped; no lines at all is a valid empty answer.
 */
export const parseCgdcontRead = safe("CGDCONT", (lines: readonly string[]): ParseResult<PdpContext[]> => {
  const out: PdpContext[] = [];
  for (const p of allPrefixed(cleanLines(lines), "+CGDCONT")) {
    const f = splitFields(p);
    const cid = toInt(f[0]);
    if (cid === null) continue;
    out.push({
      cid,
      pdpType: optText(f[1])?.toUpperCase() ?? null,
      apn: f[2] === undefined ? null : unquote(f[2]),
      address: optText(f[3]),
      dataCompression: toInt(f[4]),
      headerCompression: toInt(f[5]),
      extra: f.slice(6),
    });
  }
  if (out.length === 0 && cleanLines(lines).length > 0) return fail("CGDCONT: no +CGDCONT line with a cid");
  return ok(out);
});

/** True for an all-zero address in dotted (v4 or 16-octet) or colon form. */
function isZeroAddress(a: string): boolean {
  return /^[0.]+$/.test(a) || /^[0:]+$/.test(a);
}

/** Converts the 16-octet dotted IPv6 form (`32.1.13.184.…`) to colon form; returns other text unchanged. */
export function dottedToIpv6(addr: string): string {
  const parts = addr.split(".");
  if (parts.length !== 16 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return addr;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((Number(parts[i]) << 8) | Number(parts[i + 1])).toString(16));
  return groups.join(":");
}

function classify(a: string | null): { v4: string | null; v6: string | null } {
  if (a === null || isZeroAddress(a)) return { v4: null, v6: null };
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(a)) return { v4: a, v6: null };
  const v6 = dottedToIpv6(a);
  if (v6.includes(":")) return { v4: null, v6 };
  return { v4: null, v6: null };
}

export interface PdpAddress {
  cid: number;
  /** Null when absent, all zeros or malformed. */
  ipv4: string | null;
  /** Colon form; null when absent/zero. */
  ipv6: string | null;
}

function parseCgpaddr(lines: readonly string[]): ParseResult<PdpAddress[]> {
  const out: PdpAddress[] = [];
  for (const p of allPrefixed(cleanLines(lines), "+CGPADDR")) {
    const f = splitFields(p);
    const cid = toInt(f[0]);
    if (cid === null) continue;
    const entry: PdpAddress = { cid, ipv4: null, ipv6: null };
    for (const tok of f.slice(1, 3)) {
      const c = classify(optText(tok));
      entry.ipv4 ??= c.v4;
      entry.ipv6 ??= c.v6;
    }
    out.push(entry);
  }
  if (out.length === 0 && cleanLines(lines).length > 0) return fail("CGPADDR: no +CGPADDR line with a cid");
  return ok(out);
}

/** `AT+CGPADDR=1` → `+CGPADDR: 1,"10.76.51.180"`, `+CGPADDR: 1,10.64.12.34`, `+CGPADDR: 1`, `+CGPADDR: 1,"0.0.0.0"`. */
export const parseCgpaddrWrite = safe("CGPADDR", parseCgpaddr);
/** `AT+CGPADDR` (all contexts) → one line per cid, same layout. */
export const parseCgpaddrExec = safe("CGPADDR", parseCgpaddr);
