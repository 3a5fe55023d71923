/**
 * AT+CFUN? and the +CFUN URC (ec25.md §4.4).
 */
import { cleanLines, findPrefixed, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export type CfunMode = "minimum" | "full" | "airplane" | "other";

export interface CfunInfo {
  fun: number;
  /** 0 minimum (RF and SIM off), 1 full, 4 airplane (RF off), others "other" (ec25.md §4.4). */
  mode: CfunMode;
}

function cfun(p: string | null): ParseResult<CfunInfo> {
  if (p === null) return fail("CFUN: no +CFUN line");
  const fun = toInt(splitFields(p)[0]);
  if (fun === null) return fail(`CFUN: expected <fun>, got ${snippet(p)}`);
  return ok({ fun, mode: fun === 0 ? "minimum" : fun === 1 ? "full" : fun === 4 ? "airplane" : "other" });
}

/** `AT+CFUN?` → `+CFUN: 1` [T 08]. */
export const parseCfunRead = safe("CFUN", (lines: readonly string[]) => cfun(findPrefixed(cleanLines(lines), "+CFUN")));

/** URC `+CFUN: 1` / `+CFUN: 4` after boot [T 37]. */
export const parseCfunUrc = safe("CFUN", (line: string) => cfun(findPrefixed(cleanLines([line]), "+CFUN")));
