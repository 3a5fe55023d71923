/**
 * Pure AT response parsers for the EC25 (ec25.md §3-§4), one file per command family.
 *
 * Convention (every parser here and in src/net/qmi/parsers.ts):
 * - Input: the information lines of ONE response (`AtResponse.lines`: echo, blank lines, URCs and the final
 *   result already removed). Parsers still tolerate blank lines, CR/LF, curly quotes and stray non-matching lines.
 *   URC parsers (`parseXUrc`) take the single URC line instead.
 * - Output: `ParseResult<T>` = `{ ok: true, value }` | `{ ok: false, error }`. Parsers never throw, whatever the
 *   input (garbage, partial lines, non-strings). Values the device reports as unknown (`-`, rssi 99, 255 °C,
 *   missing fields) are `null` inside a successful value.
 * - Names follow the AT verb: Exec `AT+X` → parseXExec, Read `AT+X?` → parseXRead, Write `AT+X=…` →
 *   parseXWrite, Test `AT+X=?` → parseXTest, URC → parseXUrc (ATI → parseAtiExec).
 * - Final result codes (OK, +CME ERROR, …) are classified by `classifyFinal` (final.ts); the engine separates URCs
 *   with `isUrc` (urc.ts). +CME/+CMS numbers and verbose texts map to stable codes in error-codes.ts.
 */
export * from "./result.ts";
export * from "./fields.ts";
export * from "./command.ts";
export * from "./error-codes.ts";
export * from "./final.ts";
export * from "./urc.ts";
export * from "./text-encoding.ts";
export * from "./identity.ts";
export * from "./sim.ts";
export * from "./signal.ts";
export * from "./registration.ts";
export * from "./operator.ts";
export * from "./network-info.ts";
export * from "./serving-cell.ts";
export * from "./temperature.ts";
export * from "./pdp.ts";
export * from "./qcrmcall.ts";
export * from "./data-counter.ts";
export * from "./qcfg.ts";
export * from "./functionality.ts";
export * from "./cmee.ts";
export * from "./sms-pdu.ts";
export * from "./sms.ts";
export * from "./ussd.ts";
