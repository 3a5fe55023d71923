/** Checks the desired routing entries before any ip command is built from them (they end up on an ip -batch line). */
import type { ModemRouting, OwnedRanges } from "./routing-types.ts";

const IFNAME = /^[A-Za-z0-9_:@-][A-Za-z0-9_.:@-]{0,14}$/;

/** True for a dotted-quad IPv4 address ("10.64.0.2"), without prefix. */
export function isIpv4(s: unknown): s is string {
  if (typeof s !== "string") return false;
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The rule priority of a table: a fixed offset, so it is stable per IMEI like the table itself. */
export function priorityForTable(table: number, owned: OwnedRanges): number {
  return owned.priorityMin + (table - owned.tableMin);
}

export interface ValidationIssue {
  imei?: string;
  code: string;
  message: string;
}

/**
 * Splits desired entries into usable ones and issues. The first entry wins on a duplicate table or address;
 * the later one is reported and skipped (its old kernel entries then fall under the guard logic).
 */
export function validateDesired(
  desired: readonly ModemRouting[],
  owned: OwnedRanges,
): { valid: ModemRouting[]; issues: ValidationIssue[] } {
  const valid: ModemRouting[] = [];
  const issues: ValidationIssue[] = [];
  const tables = new Map<number, string>();
  const addresses = new Map<string, string>();
  for (const m of desired) {
    const imei = typeof m?.imei === "string" ? m.imei : undefined;
    const bad = (code: string, message: string) => issues.push({ imei, code, message });
    if (!imei) { bad("ROUTING_INVALID", "entry without an imei"); continue; }
    if (typeof m.ifname !== "string" || !IFNAME.test(m.ifname)) { bad("ROUTING_INVALID", `invalid interface name ${JSON.stringify(m.ifname)}`); continue; }
    if (!isIpv4(m.address) || m.address === "0.0.0.0") { bad("ROUTING_INVALID", `invalid address ${JSON.stringify(m.address)}`); continue; }
    if (m.gateway !== undefined && !isIpv4(m.gateway)) { bad("ROUTING_INVALID", `invalid gateway ${JSON.stringify(m.gateway)}`); continue; }
    if (!Number.isInteger(m.mtu) || m.mtu < 68 || m.mtu > 65_535) { bad("ROUTING_INVALID", `invalid mtu ${JSON.stringify(m.mtu)}`); continue; }
    if (!Number.isInteger(m.table) || m.table < owned.tableMin || m.table > owned.tableMax) {
      bad("ROUTING_TABLE_OUT_OF_RANGE", `table ${m.table} is outside the owned range ${owned.tableMin}-${owned.tableMax}`);
      continue;
    }
    const priority = priorityForTable(m.table, owned);
    if (priority > owned.priorityMax) {
      bad("ROUTING_PRIORITY_OUT_OF_RANGE", `table ${m.table} maps to rule priority ${priority}, beyond ${owned.priorityMax}`);
      continue;
    }
    const tableHolder = tables.get(m.table);
    if (tableHolder !== undefined) { bad("ROUTING_DUPLICATE_TABLE", `table ${m.table} is already used by modem ${tableHolder}`); continue; }
    const addressHolder = addresses.get(m.address);
    if (addressHolder !== undefined) {
      bad("ROUTING_DUPLICATE_ADDRESS", `address ${m.address} is already used by modem ${addressHolder}; source routing cannot tell them apart`);
      continue;
    }
    tables.set(m.table, imei);
    addresses.set(m.address, imei);
    valid.push(m);
  }
  return { valid, issues };
}
