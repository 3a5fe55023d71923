/**
 * AT+QENG="servingcell" (ec25.md §4.3): LTE, WCDMA and GSM layouts, SEARCH/LIMSRV states with few fields,
 * `-` placeholders (→ null). The SINR field is kept raw because its scale differs between firmwares (§8 item 1):
 * convert it with `sinrDb(raw, scale)` where the scale comes from configuration.
 */
import { afterPrefix, cleanLines, hexText, optText, splitFields, toInt } from "./fields.ts";
import { fail, ok, safe, snippet, type ParseResult } from "./result.ts";

/** "SEARCH" (searching), "LIMSRV" (limited service), "NOCONN" (idle, registered), "CONNECT" (RRC connected). */
export type QengState = "SEARCH" | "LIMSRV" | "NOCONN" | "CONNECT" | string;

export type SinrScale = "db" | "fifth-db-minus-20";

/**
 * SINR in dB from the raw +QENG value. "fifth-db-minus-20" is the EC2x manual's definition (0…250 → −20…+30 dB);
 * "db" takes the raw value as dB, which matches what EC25/EG25/EP06/EC200T firmwares appear to print [T 28].
 */
export function sinrDb(raw: number | null, scale: SinrScale): number | null {
  if (raw === null || !Number.isFinite(raw)) return null;
  return scale === "db" ? raw : raw / 5 - 20;
}

const BANDWIDTH_MHZ = [1.4, 3, 5, 10, 15, 20];

/** LTE bandwidth index 0…5 → MHz (1.4, 3, 5, 10, 15, 20), or null. */
export function lteBandwidthMhz(index: number | null): number | null {
  return index === null ? null : (BANDWIDTH_MHZ[index] ?? null);
}

interface CellBase {
  state: QengState;
  /** All fields after "servingcell", unquoted, `-` kept, for diagnostics and unknown layouts. */
  fields: string[];
}

export interface LteServingCell extends CellBase {
  rat: "LTE";
  duplex: "FDD" | "TDD" | null;
  /** Strings: the MNC keeps its leading zero ("01"). */
  mcc: string | null;
  mnc: string | null;
  /** 28-bit E-UTRAN cell id, upper-case hex. */
  cellId: string | null;
  cellIdValue: number | null;
  /** eNodeB id = cell id >> 8. */
  enodebId: number | null;
  pcid: number | null;
  earfcn: number | null;
  band: number | null;
  ulBandwidthMhz: number | null;
  dlBandwidthMhz: number | null;
  tac: string | null;
  tacValue: number | null;
  rsrp: number | null;
  rsrq: number | null;
  rssi: number | null;
  /** Raw SINR as printed; see sinrDb. */
  sinrRaw: number | null;
  /** Only on firmwares that print CQI/tx_power (20-field layout). */
  cqi: number | null;
  txPower: number | null;
  srxlev: number | null;
}

export interface WcdmaServingCell extends CellBase {
  rat: "WCDMA";
  mcc: string | null;
  mnc: string | null;
  lac: string | null;
  cellId: string | null;
  uarfcn: number | null;
  psc: number | null;
  rac: number | null;
  rscp: number | null;
  ecio: number | null;
}

export interface GsmServingCell extends CellBase {
  rat: "GSM";
  mcc: string | null;
  mnc: string | null;
  lac: string | null;
  cellId: string | null;
  bsic: number | null;
  arfcn: number | null;
  band: string | null;
  rxlev: number | null;
  txPower: number | null;
  timingAdvance: number | null;
}

/** SEARCH (no RAT yet) or a RAT whose layout is not modelled (CDMA, NR…). */
export interface OtherServingCell extends CellBase {
  /** "NONE" while searching (no RAT field), "OTHER" for an unmodelled or truncated layout. */
  rat: "NONE" | "OTHER";
  /** The RAT field as printed, if any. */
  ratName: string | null;
}

export type ServingCell = LteServingCell | WcdmaServingCell | GsmServingCell | OtherServingCell;

function lte(state: string, f: string[]): LteServingCell {
  // f[0] = "LTE": is_tdd, MCC, MNC, cellID, PCID, earfcn, band, UL_bw, DL_bw, TAC, RSRP, RSRQ, RSSI, SINR, [CQI, tx_power,] srxlev
  const cellId = hexText(f[4]);
  const cellIdValue = cellId === null ? null : Number.parseInt(cellId, 16);
  const tac = hexText(f[10]);
  const extended = f.length >= 18;
  const duplex = optText(f[1])?.toUpperCase();
  return {
    state,
    rat: "LTE",
    fields: f.map((x) => x.replace(/^"|"$/g, "")),
    duplex: duplex === "FDD" || duplex === "TDD" ? duplex : null,
    mcc: optText(f[2]),
    mnc: optText(f[3]),
    cellId,
    cellIdValue,
    enodebId: cellIdValue === null ? null : Math.floor(cellIdValue / 256),
    pcid: toInt(f[5]),
    earfcn: toInt(f[6]),
    band: toInt(f[7]),
    ulBandwidthMhz: lteBandwidthMhz(toInt(f[8])),
    dlBandwidthMhz: lteBandwidthMhz(toInt(f[9])),
    tac,
    tacValue: tac === null ? null : Number.parseInt(tac, 16),
    rsrp: toInt(f[11]),
    rsrq: toInt(f[12]),
    rssi: toInt(f[13]),
    sinrRaw: toInt(f[14]),
    cqi: extended ? toInt(f[15]) : null,
    txPower: extended ? toInt(f[16]) : null,
    srxlev: toInt(extended ? f[17] : f[15]),
  };
}

function wcdma(state: string, f: string[]): WcdmaServingCell {
  // f[0] = "WCDMA": MCC, MNC, LAC, cellID, uarfcn, PSC, RAC, RSCP, ecio, phych, SF, slot, speech_code, comMod
  return {
    state,
    rat: "WCDMA",
    fields: f.map((x) => x.replace(/^"|"$/g, "")),
    mcc: optText(f[1]),
    mnc: optText(f[2]),
    lac: hexText(f[3]),
    cellId: hexText(f[4]),
    uarfcn: toInt(f[5]),
    psc: toInt(f[6]),
    rac: toInt(f[7]),
    rscp: toInt(f[8]),
    ecio: toInt(f[9]),
  };
}

function gsm(state: string, f: string[]): GsmServingCell {
  // f[0] = "GSM": MCC, MNC, LAC, cellID, BSIC, arfcn, band, rxlev, txp, rla, drx, c1, c2, gprs, tch, ts, ta, …
  return {
    state,
    rat: "GSM",
    fields: f.map((x) => x.replace(/^"|"$/g, "")),
    mcc: optText(f[1]),
    mnc: optText(f[2]),
    lac: hexText(f[3]),
    cellId: hexText(f[4]),
    bsic: toInt(f[5]),
    arfcn: toInt(f[6]),
    band: optText(f[7]),
    rxlev: toInt(f[8]),
    txPower: toInt(f[9]),
    timingAdvance: toInt(f[17]),
  };
}

/**
 * `AT+QENG="servingcell"` →
 * `+QENG: "servingcell","NOCONN","LTE","FDD",123,01,43300C,348,1802,3,5,5,5443,-87,-16,-69,5,34` [T 28],
 * `+QENG: "servingcell","SEARCH"`. Also accepts the split layout of newer firmwares
 * (`+QENG: "servingcell","NOCONN"` followed by `+QENG: "LTE","FDD",…`).
 */
export const parseQengWrite = safe("QENG", (lines: readonly string[]): ParseResult<ServingCell> => {
  const payloads = cleanLines(lines)
    .map((l) => afterPrefix(l, "+QENG"))
    .filter((p): p is string => p !== null);
  const idx = payloads.findIndex((p) => /^"?servingcell"?\s*(,|$)/i.test(p));
  if (idx < 0) return fail("QENG: no servingcell line");
  const head = splitFields(payloads[idx]);
  const state = optText(head[1]);
  if (state === null) return fail(`QENG: missing state in ${snippet(payloads[idx])}`);
  let f = head.slice(2);
  if (f.length === 0 && payloads[idx + 1] !== undefined && /^"(LTE|WCDMA|GSM)"/i.test(payloads[idx + 1])) {
    f = splitFields(payloads[idx + 1]);
  }
  const rat = optText(f[0])?.toUpperCase() ?? null;
  if (rat === "LTE" && f.length >= 11) return ok(lte(state.toUpperCase(), f));
  if (rat === "WCDMA" && f.length >= 5) return ok(wcdma(state.toUpperCase(), f));
  if (rat === "GSM" && f.length >= 5) return ok(gsm(state.toUpperCase(), f));
  return ok({ state: state.toUpperCase(), rat: rat === null ? "NONE" : "OTHER", ratName: rat, fields: f.map((x) => x.replace(/^"|"$/g, "")) });
});
