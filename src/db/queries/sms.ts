/**
 * sms_messages: the SMS inbox (messages read off a modem's SIM) and the sent log. Each write is paired with its
 * modem_events row in one transaction, so the panel's SSE feed never announces a message that is not stored.
 * Events carry ids and lengths only: phone numbers and texts stay in sms_messages (technician-only in the panel),
 * out of the event log that viewers read.
 */
import type { Sql } from "../client.ts";
import { appendEvent } from "./events.ts";

export interface IncomingSms {
  modemId: number;
  /** Originating address as the modem printed it. */
  peer: string;
  body: string;
  /** SIM storage index the message was read from. */
  modemIndex: number | null;
  /** The SMSC time stamp (ISO 8601 with offset), or null when the modem gave none. */
  sentAt: string | null;
}

export interface StoredIncoming {
  id: number;
  /** False when the same message (modem, peer, SMSC time, index, body) was already stored: a retried sweep. */
  inserted: boolean;
}

/**
 * Stores a received message once. The duplicate check and the insert run under a per-modem transaction lock, so two
 * sweeps (or a sweep and a +CMTI) that read the same message store it once. There is no unique index on
 * sms_messages: the key includes sent_at, which may be null, so the check is `is not distinct from`.
 */
export async function storeIncomingSms(sql: Sql, nodeId: string, m: IncomingSms): Promise<StoredIncoming> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('lteproxy.sms'), ${m.modemId}::int)`;
    const existing = await tx`
      select id from sms_messages
      where modem_id = ${m.modemId} and direction = 'in' and peer = ${m.peer} and body = ${m.body}
        and sent_at is not distinct from ${m.sentAt}::timestamptz and modem_index is not distinct from ${m.modemIndex}::int
      limit 1`;
    if (existing.length) return { id: Number(existing[0]!.id), inserted: false };
    const rows = await tx`
      insert into sms_messages (modem_id, direction, peer, body, modem_index, status, sent_at)
      values (${m.modemId}, 'in', ${m.peer}, ${m.body}, ${m.modemIndex}, 'received', ${m.sentAt}::timestamptz)
      returning id`;
    const id = Number(rows[0]!.id);
    await appendEvent(tx as unknown as Sql, {
      nodeId, modemId: m.modemId, kind: "sms.received", payload: { smsId: id, index: m.modemIndex, length: m.body.length },
    });
    return { id, inserted: true };
  }) as Promise<StoredIncoming>;
}

export interface OutgoingSms {
  modemId: number;
  peer: string;
  body: string;
  status: "sent" | "failed";
  /** Job id of the send request, for the event. */
  jobId?: string;
  messageReference?: number | null;
  error?: string | null;
}

/** Records one send attempt (sent or failed) with its `sms.sent` / `sms.failed` event. */
export async function storeOutgoingSms(sql: Sql, nodeId: string, m: OutgoingSms): Promise<number> {
  return sql.begin(async (tx) => {
    const rows = await tx`
      insert into sms_messages (modem_id, direction, peer, body, status, sent_at)
      values (${m.modemId}, 'out', ${m.peer}, ${m.body}, ${m.status}, ${m.status === "sent" ? new Date() : null})
      returning id`;
    const id = Number(rows[0]!.id);
    await appendEvent(tx as unknown as Sql, {
      nodeId, modemId: m.modemId, kind: m.status === "sent" ? "sms.sent" : "sms.failed",
      payload: {
        smsId: id, length: m.body.length, ...(m.jobId ? { jobId: m.jobId } : {}),
        ...(m.messageReference != null ? { messageReference: m.messageReference } : {}), ...(m.error ? { error: m.error } : {}),
      },
    });
    return id;
  }) as Promise<number>;
}
