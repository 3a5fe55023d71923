/**
 * Who each simulated modem is (pure, deterministic from seed + index): IMEI, SIM (IMSI, ICCID, MSISDN), home network
 * and where it roams. EC25s have no USB serial number (ec25.md §1.1), so the IMEI is the only identity a host can read.
 */
import { Rng } from "./rng.ts";

export interface LteCellBand {
  band: number;
  earfcn: number;
  /** UL/DL bandwidth index as +QENG prints it: 0..5 → 1.4, 3, 5, 10, 15, 20 MHz (ec25.md §4.3). */
  bwIndex: number;
}

export interface Network {
  mcc: number;
  /** Two digits, leading zero kept ("01"), as +QENG and +COPS print it. */
  mnc: string;
  longName: string;
  shortName: string;
  bands: readonly LteCellBand[];
}

/** The radio networks of the lab's "country" (EC25-EUX is the European SKU). Band/EARFCN pairs are in-range. */
export const NETWORKS: readonly Network[] = [
  { mcc: 262, mnc: "01", longName: "Telekom.de", shortName: "Telekom.de",
    bands: [{ band: 3, earfcn: 1300, bwIndex: 5 }, { band: 20, earfcn: 6300, bwIndex: 3 }, { band: 7, earfcn: 2850, bwIndex: 5 }, { band: 8, earfcn: 3749, bwIndex: 2 }] },
  { mcc: 262, mnc: "02", longName: "Vodafone.de", shortName: "Vodafone.de",
    bands: [{ band: 20, earfcn: 6200, bwIndex: 3 }, { band: 3, earfcn: 1801, bwIndex: 5 }, { band: 7, earfcn: 3100, bwIndex: 5 }, { band: 1, earfcn: 100, bwIndex: 5 }] },
  { mcc: 262, mnc: "03", longName: "o2 - de", shortName: "o2 - de",
    bands: [{ band: 20, earfcn: 6400, bwIndex: 3 }, { band: 3, earfcn: 1444, bwIndex: 5 }, { band: 1, earfcn: 300, bwIndex: 4 }, { band: 8, earfcn: 3599, bwIndex: 2 }] },
];

/** Foreign SIM issuers: such a SIM registers on a lab network as "roaming" (+CEREG stat 5). */
export const FOREIGN_ISSUERS: readonly { mcc: number; mnc: string; spn: string; iccidCountry: string }[] = [
  { mcc: 232, mnc: "01", spn: "A1", iccidCountry: "43" },
  { mcc: 234, mnc: "30", spn: "EE", iccidCountry: "44" },
  { mcc: 204, mnc: "08", spn: "KPN", iccidCountry: "31" },
];

export interface SimCard {
  imsi: string;
  /** 20 characters: 19 digits (Luhn) padded with F, as +QCCID prints it [T 27]. */
  iccid: string;
  msisdn: string;
  /** Service provider name stored on the SIM (third field of +QSPN). */
  spn: string;
  homeMcc: number;
  homeMnc: string;
}

export interface ModemIdentity {
  imei: string;
  sim: SimCard;
  /** Network the modem registers on. */
  network: Network;
  roaming: boolean;
}

/** Luhn check digit for a string of digits (IMEI, ICCID). */
export function luhnDigit(payload: string): number {
  let sum = 0;
  for (let i = payload.length - 1, pos = 0; i >= 0; i--, pos++) {
    let d = payload.charCodeAt(i) - 48;
    if (pos % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when the digit string passes Luhn. */
export function luhnValid(digits: string): boolean {
  return /^\d+$/.test(digits) && luhnDigit(digits.slice(0, -1)) === Number(digits.at(-1));
}

/** Type allocation code the lab's IMEIs share (one module model → one TAC). */
export const LAB_TAC = "86758104";

/** Serial numbers: base + index·stride mod 10^n with a stride coprime to 10, so indexes never collide. */
function uniqueSerial(seed: number, name: string, index: number, digits: number): string {
  const mod = 10 ** digits;
  const base = Rng.stream(seed, name).int(0, mod - 1);
  const value = (base + index * 7919) % mod;
  return String(value).padStart(digits, "0");
}

export interface IdentityOptions {
  seed: number;
  /** Share of modems whose SIM is foreign (registers as roaming). Default 0.1. */
  roamingShare?: number;
}

export function modemIdentity(index: number, { seed, roamingShare = 0.1 }: IdentityOptions): ModemIdentity {
  const rng = Rng.stream(seed, `identity/${index}`);
  const payload = LAB_TAC + uniqueSerial(seed, "imei", index, 6);
  const imei = payload + luhnDigit(payload);
  const roaming = rng.chance(roamingShare);
  const network = rng.pick(NETWORKS);
  const msin = uniqueSerial(seed, "imsi", index, 10);
  let sim: SimCard;
  if (roaming) {
    const issuer = rng.pick(FOREIGN_ISSUERS);
    const iccid19 = `89${issuer.iccidCountry}${issuer.mnc}${uniqueSerial(seed, "iccid", index, 12)}`;
    sim = {
      imsi: `${issuer.mcc}${issuer.mnc}${msin}`,
      iccid: `${iccid19}${luhnDigit(iccid19)}F`,
      msisdn: `+${issuer.iccidCountry}7${uniqueSerial(seed, "msisdn", index, 9)}`,
      spn: issuer.spn, homeMcc: issuer.mcc, homeMnc: issuer.mnc,
    };
  } else {
    const iccid19 = `8949${network.mnc}${uniqueSerial(seed, "iccid", index, 12)}`;
    sim = {
      imsi: `${network.mcc}${network.mnc}${msin}`,
      iccid: `${iccid19}${luhnDigit(iccid19)}F`,
      msisdn: `+4915${uniqueSerial(seed, "msisdn", index, 9)}`,
      spn: network.shortName, homeMcc: network.mcc, homeMnc: network.mnc,
    };
  }
  return { imei, sim, network, roaming };
}

/** "26201" for a network: the numeric PLMN as +COPS (format 2) and +QNWINFO print it. */
export const plmnOf = (n: Network): string => `${n.mcc}${n.mnc}`;
