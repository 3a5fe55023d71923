/**
 * The lab naming convention (pure). Every object a lab puts where others can see it carries the lab id, so that
 * `cleanupLabs` finds the leftovers of a crashed run by name alone:
 *   namespaces  ltpx-<id>-box, ltpx-<id>-carrier, ltpx-<id>-inet
 *   root link   ltpx<id>lan        (≤ 15 chars: IFNAMSIZ)
 *   files       <runDir>/ltpx-<id>-net/, /etc/netns/ltpx-<id>-box/, <registry>/<id>.json
 * Interfaces inside the lab's namespaces (wwanN, mN, eth0, ...) cannot collide with anything and keep plain names,
 * so the box looks like a real one.
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../../lib/errors.ts";

export const LAB_PREFIX = "ltpx";
/** Lab ids are short so "ltpx<id>lan" stays within IFNAMSIZ (15). */
export const LAB_ID_RE = /^[a-z0-9]{1,8}$/;

export type LabNsRole = "box" | "carrier" | "inet";
export const NS_ROLES: readonly LabNsRole[] = ["box", "carrier", "inet"];

export interface LabNames {
  labId: string;
  boxNs: string;
  carrierNs: string;
  inetNs: string;
  /** Root-namespace end of the LAN link. */
  lanHostIf: string;
  /** Box end of the LAN link. */
  lanBoxIf: string;
  /** The box's main uplink ("eth0"), and its peer in the inet ns. */
  uplinkBoxIf: string;
  uplinkInetIf: string;
  /** Carrier <-> inet transit link ends. */
  transitCarrierIf: string;
  transitInetIf: string;
  /** Directory name of the lab's files under runDir. */
  dirName: string;
}

export function assertLabId(labId: string): void {
  if (!LAB_ID_RE.test(labId)) {
    throw new AppError("LAB_BAD_ID", `lab id must be 1-8 characters of a-z0-9, got ${JSON.stringify(labId)}`);
  }
}

export function labNames(labId: string): LabNames {
  assertLabId(labId);
  return {
    labId,
    boxNs: `${LAB_PREFIX}-${labId}-box`,
    carrierNs: `${LAB_PREFIX}-${labId}-carrier`,
    inetNs: `${LAB_PREFIX}-${labId}-inet`,
    lanHostIf: `${LAB_PREFIX}${labId}lan`,
    lanBoxIf: "lan0",
    uplinkBoxIf: "eth0",
    uplinkInetIf: "box0",
    transitCarrierIf: "core0",
    transitInetIf: "carrier0",
    dirName: `${LAB_PREFIX}-${labId}-net`,
  };
}

/** Box-side interface of modem `index`: the modem's wwan netdev as the appliance sees it. */
export const wwanIf = (index: number): string => `wwan${index}`;
/** Carrier-side end of modem `index`'s link. */
export const carrierIf = (index: number): string => `m${index}`;

/** Lab id and role of a namespace name, or undefined when it is not a lab namespace. */
export function parseLabNs(name: string): { labId: string; role: LabNsRole } | undefined {
  const m = /^ltpx-([a-z0-9]{1,8})-(box|carrier|inet)$/.exec(name);
  return m ? { labId: m[1]!, role: m[2] as LabNsRole } : undefined;
}

/** Lab id of a root-namespace LAN interface name, or undefined. */
export function parseLanIf(name: string): string | undefined {
  return /^ltpx([a-z0-9]{1,8})lan$/.exec(name)?.[1];
}

/** A fresh random lab id: `prefix` (0-7 chars) + random base-36 characters, 8 chars at most (e.g. "t3k9x2m1"). */
export function newLabId(prefix = ""): string {
  if (!/^[a-z0-9]{0,7}$/.test(prefix)) throw new AppError("LAB_BAD_ID", `lab id prefix must be 0-7 chars of a-z0-9: ${prefix}`);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const n = Math.min(8 - prefix.length, 6);
  return prefix + Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
}
