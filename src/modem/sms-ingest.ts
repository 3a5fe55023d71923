/**
 * Moving received SMS from a modem's SIM storage into PostgreSQL (ec25.md §4.6): read (AT+CMGL="ALL" or AT+CMGR=<i>),
 * store, and only after the row is committed delete the slot (AT+CMGD=<i>). A failed store leaves the message on the
 * SIM for the next sweep; a failed delete leaves it too, and the next sweep finds the stored row (storeIncomingSms
 * dedupes) and deletes it then. So a message is never lost and never stored twice.
 *
 * Garbage is kept, not dropped: a PDU that does not decode (buggy firmware, a port left in PDU mode) is stored as
 * "[undecodable SMS: …] <hex>" so a technician can still see it, and deleted like any other message; otherwise it
 * would sit in the 50-slot storage forever and be re-read on every sweep.
 */
import { hasCode } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { IncomingSms, StoredIncoming } from "../db/queries/sms.ts";
import type { ModemDriver } from "./driver-types.ts";
import type { SmsMessage } from "./parsers/sms.ts";

export interface SmsIngestDeps {
  modemId: number;
  driver: Pick<ModemDriver, "listSms" | "readSms" | "deleteSms">;
  /** storeIncomingSms bound to the database and node (sms-inbox.ts). */
  store(m: IncomingSms): Promise<StoredIncoming>;
  log: Logger;
}

export type IngestOutcome = "stored" | "duplicate" | "skipped" | "failed";

export interface SweepReport {
  stored: number;
  duplicates: number;
  /** Stored-outgoing (STO SENT/UNSENT) messages: not ours to move. */
  skipped: number;
  /** Could not be stored or deleted: left on the SIM for the next sweep. */
  failed: number;
}

/** `+CMTI: "SM",3` → { storage: "SM", index: 3 }; null for anything else (garbage included). */
export function parseCmtiUrc(line: string): { storage: string; index: number } | null {
  if (typeof line !== "string") return null;
  const m = /^\+CMTI:\s*"([A-Za-z]{2})"\s*,\s*(\d{1,4})\s*$/i.exec(line.trim());
  return m ? { storage: m[1]!.toUpperCase(), index: Number(m[2]) } : null;
}

const MAX_PEER = 64;

/** PostgreSQL text cannot hold NUL; everything else is kept as the modem gave it (the panel escapes it). */
function clean(s: string): string {
  return s.replace(/\u0000/g, "\uFFFD");
}

function isoOrNull(ts: string | null): string | null {
  if (!ts) return null;
  const t = Date.parse(ts);
  // Normalised through Date: an impossible SCTS (Feb 30) must not make the insert fail on every sweep.
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** The row for a received message, or null for stored-outgoing ones. */
export function incomingOf(modemId: number, msg: SmsMessage, index: number): IncomingSms | null {
  if (msg.status === "STO SENT" || msg.status === "STO UNSENT") return null;
  const body = msg.decodeError !== null || msg.text === null
    ? `[undecodable SMS: ${msg.decodeError ?? "no text"}]${msg.pdu ? ` ${msg.pdu}` : ""}`
    : msg.text;
  return {
    modemId, peer: clean((msg.sender ?? "unknown").slice(0, MAX_PEER)) || "unknown", body: clean(body), modemIndex: index,
    sentAt: isoOrNull(msg.timestamp),
  };
}

/** Stores one message read from slot `index`, then deletes the slot. Never rejects. */
export async function ingestOne(deps: SmsIngestDeps, msg: SmsMessage, index: number): Promise<IngestOutcome> {
  const row = incomingOf(deps.modemId, msg, index);
  if (!row) return "skipped";
  let stored: StoredIncoming;
  try {
    stored = await deps.store(row);
  } catch (e) {
    deps.log.warn({ err: String(e), index }, "could not store a received SMS; it stays on the SIM until the next sweep");
    return "failed";
  }
  try {
    await deps.driver.deleteSms(index);
  } catch (e) {
    deps.log.warn({ err: String(e), index, smsId: stored.id }, "SMS stored but not deleted from the SIM; the next sweep deletes it");
    return "failed";
  }
  if (msg.decodeError) deps.log.warn({ index, smsId: stored.id, why: msg.decodeError }, "stored an undecodable SMS as raw text");
  return stored.inserted ? "stored" : "duplicate";
}

/** Lists every message in storage and moves the received ones. Rejects only when the listing itself fails. */
export async function sweepSms(deps: SmsIngestDeps): Promise<SweepReport> {
  const report: SweepReport = { stored: 0, duplicates: 0, skipped: 0, failed: 0 };
  const list = await deps.driver.listSms("ALL");
  for (const msg of list) {
    if (msg.index === null) {
      report.failed++;
      deps.log.warn({ status: msg.status }, "SMS listing entry without an index; left on the SIM");
      continue;
    }
    const outcome = await ingestOne(deps, msg, msg.index);
    if (outcome === "stored") report.stored++;
    else if (outcome === "duplicate") report.duplicates++;
    else if (outcome === "skipped") report.skipped++;
    else report.failed++;
  }
  return report;
}

/**
 * The +CMTI path: reads slot `index` and moves it. An empty slot (already swept) is fine; a read that fails for a
 * reason other than the port going away is reported as "failed" so the caller can fall back to a full sweep.
 */
export async function ingestIndex(deps: SmsIngestDeps, index: number): Promise<IngestOutcome | "empty"> {
  let msg: SmsMessage | null;
  try {
    msg = await deps.driver.readSms(index);
  } catch (e) {
    if (!hasCode(e, "AT_UNPLUGGED") && !hasCode(e, "AT_CLOSED")) deps.log.warn({ err: String(e), index }, "could not read the announced SMS");
    return "failed";
  }
  if (!msg) return "empty";
  return ingestOne(deps, msg, index);
}
