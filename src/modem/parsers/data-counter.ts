/**
 * AT+QGDCNT (ec25.md §4.5): packet data byte counters of the modem.
 */
import { cleanLines, findPrefixed, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export interface QgdcntInfo {
  bytesSent: number;
  bytesReceived: number;
}

/** `AT+QGDCNT?` → `+QGDCNT: 3832,4618` (sent, received; since reset/clear) [MAN, ec25.md §4.5]. */
export const parseQgdcntRead = safe("QGDCNT", (lines: readonly string[]): ParseResult<QgdcntInfo> => {
  const p = findPrefixed(cleanLines(lines), "+QGDCNT");
  if (p === null) return fail("QGDCNT: no +QGDCNT line");
  const f = splitFields(p);
  const sent = toInt(f[0]);
  const recv = toInt(f[1]);
  if (sent === null || recv === null || sent < 0 || recv < 0) return fail(`QGDCNT: expected <sent>,<received>, got ${snippet(p)}`);
  return ok({ bytesSent: sent, bytesReceived: recv });
});
