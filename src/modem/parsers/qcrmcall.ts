/**
 * AT$QCRMCALL (ec25.md §4.5): RmNet data call without a QMI client. Start and read answer
 * `$QCRMCALL: 1,V4` (plus `$QCRMCALL: 1,V6` for dual stack); some manual revisions print the type as a
 * number (`$QCRMCALL: 1,4`) [? §8 item 8]. Test: `$QCRMCALL: (0,1),(1,2,3,4,5,6,7,8),(1-3),(1-2),(1-24,100-179),,`.
 */
import { allPrefixed, cleanLines, findPrefixed, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export type IpFamily = "ipv4" | "ipv6";

export interface QcrmcallCall {
  instance: number;
  family: IpFamily | null;
  /** The type field as printed ("V4", "4", …). */
  typeRaw: string;
}

export interface QcrmcallInfo {
  calls: QcrmcallCall[];
  connected: boolean;
  ipv4: boolean;
  ipv6: boolean;
}

/**
 * Text forms V4/V6 are documented; the numeric form is uncertain, so both the IP_type numbering of the
 * write command (1 = IPv4, 2 = IPv6) and the 4/6 style are accepted [?].
 */
function familyOf(raw: string): IpFamily | null {
  const t = unquote(raw).trim().toUpperCase();
  if (t === "V4" || t === "IPV4" || t === "4" || t === "1") return "ipv4";
  if (t === "V6" || t === "IPV6" || t === "6" || t === "2") return "ipv6";
  return null;
}

function parseCalls(lines: readonly string[]): ParseResult<QcrmcallInfo> {
  const calls: QcrmcallCall[] = [];
  const payloads = allPrefixed(cleanLines(lines), "$QCRMCALL");
  for (const p of payloads) {
    const f = splitFields(p);
    const instance = toInt(f[0]);
    if (instance === null || f[1] === undefined) return fail(`QCRMCALL: expected <instance>,<type>, got ${snippet(p)}`);
    calls.push({ instance, family: familyOf(f[1]), typeRaw: unquote(f[1]).trim() });
  }
  if (calls.length === 0 && cleanLines(lines).length > 0) return fail("QCRMCALL: no $QCRMCALL line");
  return ok({
    calls,
    connected: calls.length > 0,
    ipv4: calls.some((c) => c.family === "ipv4"),
    ipv6: calls.some((c) => c.family === "ipv6"),
  });
}

/** `AT$QCRMCALL=1,1[,…]` → `$QCRMCALL: 1,V4` (start). A stop (`=0,1`) answers just OK → empty call list. */
export const parseQcrmcallWrite = safe("QCRMCALL", parseCalls);

/** `AT$QCRMCALL?` → `$QCRMCALL: 1,V4` / `$QCRMCALL: 1,V6` per active family; no lines = no call. */
export const parseQcrmcallRead = safe("QCRMCALL", parseCalls);

export interface QcrmcallTestInfo {
  /** Each parenthesised range as printed without parentheses, empty trailing fields dropped. */
  ranges: string[];
}

/** `AT$QCRMCALL=?` → `$QCRMCALL: (0,1),(1,2,3,4,5,6,7,8),(1-3),(1-2),(1-24,100-179),,` [MAN]. */
export const parseQcrmcallTest = safe("QCRMCALL", (lines: readonly string[]): ParseResult<QcrmcallTestInfo> => {
  const p = findPrefixed(cleanLines(lines), "$QCRMCALL");
  if (p === null) return fail("QCRMCALL: no $QCRMCALL line");
  const ranges = splitFields(p)
    .filter((x) => x.startsWith("("))
    .map((x) => x.replace(/^\(/, "").replace(/\)$/, ""));
  if (ranges.length === 0) return fail(`QCRMCALL: no ranges in ${snippet(p)}`);
  return ok({ ranges });
});
