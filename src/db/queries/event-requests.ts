/**
 * Request and reply between processes through the event log, for a process that cannot act itself: `lteproxy at`
 * and `lteproxy rotate` ask the control plane that owns the modems, and one node's control plane asks another's
 * (fleet forwarding). The asker appends a request event ({requestId, ...}) addressed to the owner's node and polls
 * for the reply event with the same requestId; the owner, subscribed to its event stream, answers each request once.
 *
 * Requests older than REQUEST_MAX_AGE_MS are ignored, so an event-stream replay after a restart never runs one again.
 */
import { randomUUID } from "node:crypto";
import type { Sql } from "../client.ts";
import { childLogger } from "../../lib/logger.ts";
import { appendEvent, type EventRow } from "./events.ts";

export const REQUEST_MAX_AGE_MS = 30_000;

const log = childLogger("requests");

/**
 * Owner side: the requestId of `ev` when it is a `kind` request for `nodeId` that this process has not taken yet
 * and that is fresh; null otherwise. `seen` is the caller's memory of taken requests (cleared past 10,000).
 */
export function takeRequest(ev: EventRow, kind: string, nodeId: string, seen: Set<string>): string | null {
  if (ev.kind !== kind || ev.node_id !== nodeId) return null;
  const requestId = ev.payload?.requestId;
  if (typeof requestId !== "string" || seen.has(requestId)) return null;
  seen.add(requestId);
  if (seen.size > 10_000) seen.clear();
  if (Date.now() - new Date(ev.created_at).getTime() > REQUEST_MAX_AGE_MS) {
    log.warn({ requestId, kind }, "ignoring a stale request");
    return null;
  }
  return requestId;
}

/**
 * Asker side: appends a `kinds.request` event for `nodeId` with `payload` and a new requestId, then polls for the
 * `kinds.reply` event carrying that requestId. Returns the reply's payload, or null when none came in `timeoutMs`.
 */
export async function requestReply(sql: Sql, nodeId: string, kinds: { request: string; reply: string }, payload: Record<string, unknown>,
  { timeoutMs, pollMs = 100 }: { timeoutMs: number; pollMs?: number }): Promise<Record<string, unknown> | null> {
  const requestId = randomUUID();
  const after = await appendEvent(sql, { nodeId, kind: kinds.request, payload: { ...payload, requestId } });
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const rows = await sql`
      select payload from modem_events
      where seq > ${after} and kind = ${kinds.reply} and node_id = ${nodeId} and payload->>'requestId' = ${requestId}
      limit 1`;
    if (rows.length) return rows[0]!.payload as Record<string, unknown>;
    await Bun.sleep(pollMs);
  }
  return null;
}
