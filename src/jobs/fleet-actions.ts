/**
 * Fleet: several appliances share one PostgreSQL, and any node's panel shows every modem. A modem is driven only by
 * the control plane of the node it is plugged into (ModemManager's node lock), so an action on another node's modem
 * travels to that node through the event stream, like `lteproxy at` does (src/modem/console-requests.ts):
 *
 *   requester  appends `action.forward`        node_id = owner, payload {requestId, op, modemId, args, actor, from}
 *   owner      runs op on its local actions    (serveActionRequests, subscribed to its EventStream)
 *   owner      appends `action.forward.reply`  node_id = owner, payload {requestId, ok, value | code, message}
 *   requester  polls for the reply; an AppError comes back with its code (MODEM_BUSY stays a 409 on every node)
 *
 * One generic pair carries every operation (rotate and the other actions, AT, SMS, USSD) with the whole Actor, so
 * the owner audits the real user, role and address and a rotation keeps its trigger and method. The job id a
 * forwarded `request` returns is the owner's job id: job status is read from rotations/modem_events, which every
 * node sees. A node whose heartbeat (nodes.last_heartbeat, every 5 s in app.ts) is older than `staleMs` gets
 * NODE_OFFLINE at once instead of a timeout; a live node that does not answer in time gives NODE_NO_REPLY.
 * Requests older than REQUEST_MAX_AGE_MS (src/db/queries/event-requests.ts) are ignored, so an event-stream replay after a restart never re-runs one.
 *
 *   const local = routeRotations(createModemActions({ sql, nodeId, manager }), rotation.service);
 *   const actions = fleetActions(local, { sql, nodeId });
 *   const unserve = serveActionRequests(local, (fn) => events.subscribe(fn), { nodeId, events: outage });
 */
import type { Sql } from "../db/client.ts";
import type { EventRow, EventSink } from "../db/queries/events.ts";
import { requestReply, takeRequest } from "../db/queries/event-requests.ts";
import { MODEM_ACTIONS, type Actor, type ModemAction, type ModemActions, type Role } from "../http/context.ts";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";

export const FORWARD_KIND = "action.forward";
export const FORWARD_REPLY_KIND = "action.forward.reply";

export type ForwardOp = "request" | "at" | "sms.send" | "ussd";

/** How long the requester waits for the owner's answer: CMGS takes up to 120 s, USSD tens of seconds (ec25.md §3.7). */
const DEFAULT_TIMEOUTS: Record<ForwardOp, number> = { request: 15_000, at: 35_000, "sms.send": 130_000, ussd: 45_000 };

const log = childLogger("fleet");

export interface FleetOptions {
  sql: Sql;
  nodeId: string;
  /** A node whose last heartbeat is older than this is offline (default 20 s: four missed beats). */
  staleMs?: number;
  timeouts?: Partial<Record<ForwardOp, number>>;
  /** Reply polling period (default 100 ms). */
  pollMs?: number;
}

export type ForwardReply =
  | { requestId: string; ok: true; value: unknown }
  | { requestId: string; ok: false; code: string; message: string };

/** The node that owns a modem and how long ago it beat; null for an unknown modem. */
async function ownerOf(sql: Sql, modemId: number): Promise<{ nodeId: string; ageMs: number | null } | null> {
  const rows = await sql`
    select m.node_id, (extract(epoch from (now() - n.last_heartbeat)) * 1000)::float8 as age_ms
    from modems m left join nodes n on n.id = m.node_id where m.id = ${modemId}`;
  if (!rows.length) return null;
  const age = rows[0]!.age_ms;
  return { nodeId: String(rows[0]!.node_id), ageMs: age === null || age === undefined ? null : Number(age) };
}

/** Appends the request and waits for its reply (polling: the reply is one indexed lookup by kind and seq). */
async function forward(opts: FleetOptions, owner: string, op: ForwardOp, modemId: number, args: unknown[], actor: Actor): Promise<unknown> {
  const timeoutMs = opts.timeouts?.[op] ?? DEFAULT_TIMEOUTS[op];
  // `message` is what the panel's event summary shows (views/partials/timeline.tsx) instead of the arguments.
  const reply = await requestReply(opts.sql, owner, { request: FORWARD_KIND, reply: FORWARD_REPLY_KIND }, {
    op, modemId, args, actor: { ...actor }, from: opts.nodeId, message: `${op} on modem ${modemId} forwarded by ${opts.nodeId}`,
  }, { timeoutMs, pollMs: opts.pollMs }) as ForwardReply | null;
  if (!reply) throw new AppError("NODE_NO_REPLY", `node ${owner} did not answer within ${Math.round(timeoutMs / 1000)} s`, { node: owner, op });
  if (reply.ok) return reply.value;
  throw new AppError(reply.code || "FORWARD_FAILED", reply.message || `node ${owner} could not ${op}`, { node: owner });
}

/**
 * Wraps this node's actions: modems of this node go to `local`, other nodes' modems are forwarded to their owner.
 * Throws NODE_OFFLINE (stale heartbeat) and NODE_NO_REPLY (timeout); the owner's errors keep their codes.
 */
export function fleetActions(local: ModemActions, opts: FleetOptions): ModemActions {
  const staleMs = opts.staleMs ?? 20_000;

  /** null: act locally; else the owner to forward to (checked alive). */
  async function remoteOwner(modemId: number): Promise<string | null> {
    const owner = await ownerOf(opts.sql, modemId);
    if (!owner || owner.nodeId === opts.nodeId) return null; // unknown modems: local says NOT_FOUND
    if (owner.ageMs === null || owner.ageMs > staleMs) {
      const ago = owner.ageMs === null ? "never registered" : `last heartbeat ${Math.round(owner.ageMs / 1000)} s ago`;
      throw new AppError("NODE_OFFLINE", `modem ${modemId} belongs to node ${owner.nodeId}, which is offline (${ago})`, { node: owner.nodeId });
    }
    return owner.nodeId;
  }

  const localSms = local.sms;
  const localUssd = local.ussd;
  return {
    ...local,
    async request(modemId, action, actor, actionOpts) {
      const owner = await remoteOwner(modemId);
      if (!owner) return local.request(modemId, action, actor, actionOpts);
      return (await forward(opts, owner, "request", modemId, [action, actionOpts ?? {}], actor)) as { jobId: string };
    },
    async at(modemId, command, actor) {
      const owner = await remoteOwner(modemId);
      if (!owner) return local.at(modemId, command, actor);
      return (await forward(opts, owner, "at", modemId, [command], actor)) as Awaited<ReturnType<ModemActions["at"]>>;
    },
    // Forwarded even when this node has no local SMS/USSD support: the owner decides.
    sms: {
      async send(modemId, to, text, actor) {
        const owner = await remoteOwner(modemId);
        if (!owner) {
          if (!localSms) throw new AppError("NOT_AVAILABLE", "SMS sending is not available on this node");
          return localSms.send(modemId, to, text, actor);
        }
        return (await forward(opts, owner, "sms.send", modemId, [to, text], actor)) as { jobId?: string; ok: boolean; error?: string };
      },
    },
    async ussd(modemId, code, actor) {
      const owner = await remoteOwner(modemId);
      if (!owner) {
        if (!localUssd) throw new AppError("NOT_AVAILABLE", "USSD is not available on this node");
        return localUssd.call(local, modemId, code, actor);
      }
      return (await forward(opts, owner, "ussd", modemId, [code], actor)) as { ok: boolean; response: string };
    },
  };
}

const ROLES: readonly Role[] = ["admin", "technician", "viewer"];

/** The forwarded actor, checked field by field (the payload is data from the database). */
function actorOf(v: unknown): Actor {
  const a = (v && typeof v === "object" ? v : {}) as Record<string, unknown>;
  return {
    userId: Number.isSafeInteger(a.userId) ? (a.userId as number) : null,
    username: typeof a.username === "string" ? a.username.slice(0, 100) : "unknown",
    // an unknown role gets the least rights (the console's radio controls need admin)
    role: ROLES.includes(a.role as Role) ? (a.role as Role) : "viewer",
    via: a.via === "api_key" || a.via === "link" ? a.via : "session",
    ip: typeof a.ip === "string" ? a.ip.slice(0, 64) : null,
  };
}

async function perform(local: ModemActions, op: ForwardOp, modemId: number, args: unknown[], actor: Actor): Promise<unknown> {
  const str = (i: number) => {
    if (typeof args[i] !== "string") throw new AppError("INVALID_ARGUMENT", `forwarded ${op}: argument ${i} must be a string`);
    return args[i] as string;
  };
  switch (op) {
    case "request": {
      const o = (args[1] && typeof args[1] === "object" ? args[1] : {}) as Record<string, unknown>;
      const method = o.method === "data" || o.method === "airplane" || o.method === "reboot" ? o.method : undefined;
      const trigger = o.trigger === "manual" || o.trigger === "api" || o.trigger === "link" ? o.trigger : undefined;
      const action = str(0) as ModemAction;
      if (!MODEM_ACTIONS.includes(action)) throw new AppError("INVALID_ARGUMENT", `unknown action ${JSON.stringify(action)}`);
      return local.request(modemId, action, actor, { method, trigger });
    }
    case "at":
      return local.at(modemId, str(0), actor);
    case "sms.send":
      if (!local.sms) throw new AppError("NOT_AVAILABLE", "SMS sending is not available on the modem's node");
      return local.sms.send(modemId, str(0), str(1), actor);
    case "ussd":
      if (!local.ussd) throw new AppError("NOT_AVAILABLE", "USSD is not available on the modem's node");
      return local.ussd(modemId, str(0), actor);
  }
}

/**
 * The owner's side: answers `action.forward` events addressed to `nodeId` with its local actions (not the fleet
 * wrapper: a request is never forwarded twice). Returns the unsubscribe function.
 */
export function serveActionRequests(local: ModemActions, subscribe: (listener: (ev: EventRow) => void) => () => void,
  opts: { nodeId: string; events: EventSink }): () => void {
  const seen = new Set<string>();
  return subscribe((ev) => {
    const requestId = takeRequest(ev, FORWARD_KIND, opts.nodeId, seen);
    if (!requestId) return;
    const p = ev.payload ?? {};
    const op = p.op as ForwardOp;
    const modemId = Number(p.modemId);
    const args = Array.isArray(p.args) ? p.args : [];
    const actor = actorOf(p.actor);
    void (async () => {
      let reply: ForwardReply;
      try {
        if (!["request", "at", "sms.send", "ussd"].includes(op) || !Number.isSafeInteger(modemId)) {
          throw new AppError("INVALID_ARGUMENT", `unknown forwarded operation ${JSON.stringify(op)}`);
        }
        const value = await perform(local, op, modemId, args, actor);
        reply = { requestId, ok: true, value };
      } catch (error) {
        const code = error instanceof AppError ? error.code : "FORWARD_FAILED";
        reply = { requestId, ok: false, code, message: error instanceof Error ? error.message : String(error) };
      }
      // A failure's `message` is its error text; an answer gets a summary so the event log does not show the value.
      const payload = reply.ok ? { ...reply, message: `${op} on modem ${modemId} answered` } : { ...reply };
      await opts.events.append({ nodeId: opts.nodeId, kind: FORWARD_REPLY_KIND, payload })
        .catch((e) => log.error({ requestId, err: String(e) }, "could not store the forwarded action's reply"));
    })();
  });
}
