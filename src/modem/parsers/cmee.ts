/**
 * AT+CMEE? (ec25.md §3.3): the error reporting mode that decides between plain ERROR and +CME ERROR.
 */
import { cleanLines, findPrefixed, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export interface CmeeInfo {
  /** 0 plain ERROR, 1 numeric +CME ERROR, 2 verbose. */
  mode: number;
  modeName: "disabled" | "numeric" | "verbose" | null;
}

/** `AT+CMEE?` → `+CMEE: 1`. */
export const parseCmeeRead = safe("CMEE", (lines: readonly string[]): ParseResult<CmeeInfo> => {
  const p = findPrefixed(cleanLines(lines), "+CMEE");
  if (p === null) return fail("CMEE: no +CMEE line");
  const mode = toInt(splitFields(p)[0]);
  if (mode === null) return fail(`CMEE: expected <n>, got ${snippet(p)}`);
  const names = ["disabled", "numeric", "verbose"] as const;
  return ok({ mode, modeName: names[mode] ?? null });
});
