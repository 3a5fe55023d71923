/**
 * +CME / +CMS error numbers and the verbose texts AT+CMEE=2 prints (3GPP 27.007 §9.2, 27.005 §3.2.5; the numbers
 * the EC25 uses are listed in ec25.md §3.3).
 */
export const CME_TEXT: Readonly<Record<number, string>> = {
  0: "phone failure",
  3: "operation not allowed",
  4: "operation not supported",
  10: "SIM not inserted",
  11: "SIM PIN required",
  12: "SIM PUK required",
  13: "SIM failure",
  14: "SIM busy",
  15: "SIM wrong",
  16: "incorrect password",
  30: "no network service",
  31: "network timeout",
  50: "Incorrect parameters",
  100: "unknown",
};

export const CMS_TEXT: Readonly<Record<number, string>> = {
  300: "ME failure",
  302: "operation not allowed",
  303: "operation not supported",
  304: "invalid PDU mode parameter",
  305: "invalid text mode parameter",
  310: "SIM not inserted",
  313: "SIM failure",
  314: "SIM busy",
  321: "invalid memory index",
  322: "memory full",
  330: "SMSC address unknown",
  331: "no network service",
  332: "network timeout",
  500: "unknown error",
};

export const cmeText = (code: number): string => CME_TEXT[code] ?? "unknown";
export const cmsText = (code: number): string => CMS_TEXT[code] ?? "unknown error";
