/**
 * AT+QCFG="<name>" answers (generic) and the usbnet composition (ec25.md §1.3, §4.5).
 */
import { allPrefixed, cleanLines, splitFields, toInt, unquote } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

export interface QcfgEntry {
  /** Setting name as printed, e.g. "usbnet", "urc/cache". */
  name: string;
  /** Remaining fields, unquoted. */
  values: string[];
}

/** `AT+QCFG="<name>"` → `+QCFG: "usbnet",0` [T 11], `+QCFG: "band",0xbff,0x1e00b0e18df,0x0` [T 24]. One entry per line. */
export const parseQcfgWrite = safe("QCFG", (lines: readonly string[]): ParseResult<QcfgEntry[]> => {
  const out: QcfgEntry[] = [];
  for (const p of allPrefixed(cleanLines(lines), "+QCFG")) {
    const f = splitFields(p);
    const name = unquote(f[0]).trim();
    if (name === "") continue;
    out.push({ name, values: f.slice(1).map((v) => unquote(v).trim()) });
  }
  if (out.length === 0) return fail("QCFG: no +QCFG line");
  return ok(out);
});

export type UsbnetMode = "qmi" | "ecm" | "mbim" | "rndis";

export interface UsbnetInfo {
  mode: number;
  /** 0 QMI/RmNet, 1 ECM, 2 MBIM, 3 RNDIS (ec25.md §1.3); null for other values. */
  modeName: UsbnetMode | null;
}

const USBNET: Record<number, UsbnetMode> = { 0: "qmi", 1: "ecm", 2: "mbim", 3: "rndis" };

/** `AT+QCFG="usbnet"` → `+QCFG: "usbnet",0` [T 11], `+QCFG: "usbnet",1` in ECM mode [T 07]. */
export const parseQcfgUsbnetWrite = safe("QCFG", (lines: readonly string[]): ParseResult<UsbnetInfo> => {
  const all = parseQcfgWrite(lines);
  if (!all.ok) return all;
  const e = all.value.find((x) => x.name.toLowerCase() === "usbnet");
  if (!e) return fail("QCFG: no usbnet entry");
  const mode = toInt(e.values[0]);
  if (mode === null) return fail(`QCFG: usbnet mode is not a number: ${snippet(e.values[0])}`);
  return ok({ mode, modeName: USBNET[mode] ?? null });
});
