/**
 * The radio side of a simulated modem (pure helpers): the serving cell it camps on, plausible LTE measurements that
 * drift over time, and how they print. Numbers follow ec25.md §4.3: RSRP −140…−44 dBm, RSRQ −20…−3 dB, SINR as the
 * small integers EC25 firmware prints (−5…30), RSSI = RSRP + 10·log10(N_RB) − RSRQ (consistent with [T 02, T 36]).
 */
import type { LteCellBand, Network } from "../identity.ts";
import type { Rng } from "../rng.ts";

export interface ServingCell {
  network: Network;
  band: LteCellBand;
  pci: number;
  /** 28-bit E-UTRAN cell id (eNB id << 8 | sector). */
  cellId: number;
  tac: number;
}

export interface Signal {
  rsrp: number;
  rsrq: number;
  sinr: number;
  rssi: number;
}

export interface Temperatures {
  pmic: number;
  xo: number;
  pa: number;
}

/** Resource blocks per bandwidth index 0..5 (1.4, 3, 5, 10, 15, 20 MHz). */
const N_RB = [6, 15, 25, 50, 75, 100];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function pickCell(rng: Rng, network: Network, band?: LteCellBand): ServingCell {
  const eNb = rng.int(0x10000, 0xfffff);
  return {
    network,
    band: band ?? rng.pick(network.bands),
    pci: rng.int(0, 503),
    cellId: (eNb << 8) | rng.int(1, 3),
    tac: rng.int(0x100, 0xfffe),
  };
}

export function rssiOf(rsrp: number, rsrq: number, bwIndex: number): number {
  return Math.round(rsrp + 10 * Math.log10(N_RB[bwIndex] ?? 50) - rsrq);
}

export function initialSignal(rng: Rng, centerRsrp: number, bwIndex: number): Signal {
  const rsrp = clamp(centerRsrp + rng.int(-3, 3), -140, -44);
  const rsrq = rng.int(-14, -6);
  return { rsrp, rsrq, sinr: rng.int(0, 20), rssi: rssiOf(rsrp, rsrq, bwIndex) };
}

/** One drift step: a bounded random walk around the configured centre. */
export function driftSignal(rng: Rng, s: Signal, centerRsrp: number, bwIndex: number): Signal {
  const rsrp = clamp(s.rsrp + rng.int(-2, 2), Math.max(-140, centerRsrp - 8), Math.min(-44, centerRsrp + 8));
  const rsrq = clamp(s.rsrq + rng.int(-1, 1), -20, -3);
  const sinr = clamp(s.sinr + rng.int(-2, 2), -5, 30);
  return { rsrp, rsrq, sinr, rssi: rssiOf(rsrp, rsrq, bwIndex) };
}

export function driftTemperatures(rng: Rng, t: Temperatures, center: number, busy: boolean): Temperatures {
  const target = center + (busy ? 3 : 0);
  const pmic = clamp(t.pmic + rng.int(-1, 1) + Math.sign(target - t.pmic), target - 3, target + 3);
  return { pmic, xo: pmic - 3 + rng.int(-1, 1), pa: pmic - 4 + rng.int(-1, 1) };
}

/** AT+CSQ <rssi> index: 0 → ≤ −113 dBm, 2..30 → −109..−53, 31 → ≥ −51 (ec25.md §4.3). */
export function csqIndex(rssiDbm: number): number {
  return clamp(Math.floor((rssiDbm + 113) / 2), 0, 31);
}

/** "LTE BAND 3" as +QNWINFO prints it. */
export const bandName = (band: number): string => `LTE BAND ${band}`;

export const hex = (n: number): string => n.toString(16).toUpperCase();
export const hex4 = (n: number): string => hex(n).padStart(4, "0");
