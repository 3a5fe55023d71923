/**
 * `lteproxy rotate` while a control plane runs: that process owns the modems and the data plane, so the CLI asks it
 * through PostgreSQL, like `lteproxy at` does (src/modem/console-requests.ts). The CLI appends `rotation.requested`
 * ({requestId, modemIds, method, actor}) for the node; the control plane, subscribed to the event stream, starts or
 * joins one job per modem and appends `rotation.accepted` ({requestId, jobs: [{modemId, jobId, joined} |
 * {modemId, code, message}]}). The CLI polls for that reply, then follows the jobs in `rotations`.
 *
 * Requests older than REQUEST_MAX_AGE_MS (src/db/queries/event-requests.ts) are ignored, so an event-stream replay after a restart never rotates again.
 */
import type { Sql } from "../db/client.ts";
import type { EventRow } from "../db/queries/events.ts";
import { requestReply, takeRequest } from "../db/queries/event-requests.ts";
import type { RotationMethod } from "../db/queries/rotations.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import { isRotationMethod } from "./rotation-policy.ts";
import type { EventSink, RotationRequest } from "./rotation.ts";

export const ROTATION_REQUEST_KIND = "rotation.requested";
export const ROTATION_REPLY_KIND = "rotation.accepted";

const log = childLogger("rotation-requests");

export type RotationTicket =
  | { modemId: number; jobId: string; joined: boolean }
  | { modemId: number; code: string; message: string };

export interface RotationReply {
  requestId: string;
  jobs: RotationTicket[];
}

interface Requester {
  request(modemId: number, req: RotationRequest): Promise<{ jobId: string; joined: boolean }>;
}

/**
 * Answers `rotation.requested` events addressed to `nodeId`. Returns the unsubscribe function.
 *   serveRotationRequests(rotation, (fn) => events.subscribe(fn), { nodeId, events: outage })
 */
export function serveRotationRequests(
  rotation: Requester, subscribe: (listener: (ev: EventRow) => void) => () => void,
  opts: { nodeId: string; events: EventSink },
): () => void {
  const seen = new Set<string>();
  return subscribe((ev) => {
    const requestId = takeRequest(ev, ROTATION_REQUEST_KIND, opts.nodeId, seen);
    if (!requestId) return;
    const p = ev.payload ?? {};
    const modemIds = Array.isArray(p.modemIds) ? p.modemIds.filter((x): x is number => Number.isInteger(x)) : [];
    const method = isRotationMethod(p.method) ? p.method : null;
    const actor = typeof p.actor === "string" ? p.actor.slice(0, 100) : "cli";
    void (async () => {
      const jobs = await Promise.all(modemIds.slice(0, 1000).map(async (modemId): Promise<RotationTicket> => {
        try {
          return { modemId, ...(await rotation.request(modemId, { method, trigger: "manual", requestedBy: actor })) };
        } catch (error) {
          return { modemId, code: (error as AppError).code ?? "ROTATION_FAILED", message: (error as Error).message };
        }
      }));
      await opts.events.append({ nodeId: opts.nodeId, kind: ROTATION_REPLY_KIND, payload: { requestId, jobs } })
        .catch((e) => log.error({ requestId, err: String(e) }, "could not store the rotation reply"));
    })();
  });
}

/** CLI side: appends the request and waits for the control plane's reply (polling: the CLI has no event stream). */
export async function requestRotations(sql: Sql, nodeId: string, req: { modemIds: number[]; method: RotationMethod | null; actor: string },
  { timeoutMs = 15_000, pollMs = 100 } = {}): Promise<RotationReply> {
  const reply = await requestReply(sql, nodeId, { request: ROTATION_REQUEST_KIND, reply: ROTATION_REPLY_KIND }, { ...req }, { timeoutMs, pollMs });
  if (reply) return reply as unknown as RotationReply;
  throw new AppError("ROTATION_NO_REPLY", `the control plane of node ${nodeId} did not answer within ${Math.round(timeoutMs / 1000)} s`);
}
