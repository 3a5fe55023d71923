/**
 * `lteproxy at` while a control plane runs: the control plane owns every AT port, so the CLI cannot open one.
 * The request travels through PostgreSQL instead: the CLI appends a `action.at` event for the node (payload
 * {requestId, target, command, actor}); the control plane, subscribed to the event stream, runs it through the
 * console policy (audited like any console use) and appends `action.at.reply` ({requestId, ok, final, lines, …,
 * or code/message}); the CLI polls for that reply. No HTTP credentials are needed: whoever can write the database
 * already controls the appliance, and the CLI runs on the box as root.
 *
 * Requests older than REQUEST_MAX_AGE_MS are ignored, so an event-stream replay after a restart never re-runs an
 * old `AT+CFUN=1,1`.
 */
import { randomUUID } from "node:crypto";
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import type { Sql } from "../db/client.ts";
import { appendEvent, type EventRow } from "../db/queries/events.ts";
import type { ConsoleReply } from "./console-run.ts";

export const AT_REQUEST_KIND = "action.at";
export const AT_REPLY_KIND = "action.at.reply";
export const REQUEST_MAX_AGE_MS = 30_000;

const log = childLogger("console");

export interface AtRequest {
  requestId: string;
  target: string;
  command: string;
  actor: string;
  /** Radio/data controls allowed (root on the box). */
  control: boolean;
}

export interface AtReply {
  requestId: string;
  ok: boolean;
  /** Set when the request failed before the modem answered (CONSOLE_*, MODEM_NOT_PRESENT, AT_TIMEOUT, …). */
  code?: string;
  message?: string;
  command?: string;
  final?: string;
  lines?: string[];
  durationMs?: number;
}

/** What a control plane needs to answer requests: ModemManager.runConsole. */
export interface ConsoleRunner {
  readonly nodeId: string;
  readonly sql: Sql;
  runConsole(target: string, command: string, who: { actor: string; control?: boolean }): Promise<ConsoleReply>;
}

function asRequest(payload: Record<string, unknown>): AtRequest | null {
  const { requestId, target, command, actor, control } = payload;
  if (typeof requestId !== "string" || typeof target !== "string" || typeof command !== "string") return null;
  return { requestId, target, command, actor: typeof actor === "string" ? actor : "cli", control: control === true };
}

/**
 * Answers one `action.at` event addressed to this node. Events of other kinds or nodes are ignored.
 * Never rejects: failures are answered.
 */
export async function answerAtRequest(runner: ConsoleRunner, ev: EventRow, seen: Set<string> = new Set()): Promise<void> {
  if (ev.kind !== AT_REQUEST_KIND || ev.node_id !== runner.nodeId) return;
  const req = asRequest(ev.payload ?? {});
  if (!req || seen.has(req.requestId)) return;
  seen.add(req.requestId);
  if (Date.now() - new Date(ev.created_at).getTime() > REQUEST_MAX_AGE_MS) {
    log.warn({ requestId: req.requestId }, "ignoring a stale console request");
    return;
  }
  let reply: AtReply;
  try {
    const r = await runner.runConsole(req.target, req.command, { actor: req.actor, control: req.control });
    reply = { requestId: req.requestId, ok: r.ok, command: r.command, final: r.final, lines: r.lines, durationMs: r.durationMs };
  } catch (e) {
    const code = e instanceof AppError ? e.code : "CONSOLE_FAILED";
    reply = { requestId: req.requestId, ok: false, code, message: e instanceof Error ? e.message : String(e) };
  }
  await appendEvent(runner.sql, { nodeId: runner.nodeId, kind: AT_REPLY_KIND, payload: { ...reply } })
    .catch((e) => log.error({ err: String(e), requestId: req.requestId }, "could not store console reply"));
}

/**
 * Wires answerAtRequest to an event subscription (EventStream.subscribe). Returns the unsubscribe function.
 *   serveConsoleRequests(manager, (fn) => events.subscribe(fn))
 */
export function serveConsoleRequests(runner: ConsoleRunner, subscribe: (listener: (ev: EventRow) => void) => () => void): () => void {
  const seen = new Set<string>();
  return subscribe((ev) => {
    if (ev.kind === AT_REQUEST_KIND) void answerAtRequest(runner, ev, seen);
    if (seen.size > 10_000) seen.clear();
  });
}

/** CLI side: appends the request and waits for its reply (polling; the CLI has no event stream). */
export async function requestAt(sql: Sql, nodeId: string, req: Omit<AtRequest, "requestId">,
  { timeoutMs = 30_000, pollMs = 100 } = {}): Promise<AtReply> {
  const requestId = randomUUID();
  const after = await appendEvent(sql, { nodeId, kind: AT_REQUEST_KIND, payload: { ...req, requestId } });
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const rows = await sql`
      select payload from modem_events
      where seq > ${after} and kind = ${AT_REPLY_KIND} and node_id = ${nodeId} and payload->>'requestId' = ${requestId}
      limit 1`;
    if (rows.length) return rows[0]!.payload as AtReply;
    await Bun.sleep(pollMs);
  }
  throw new AppError("CONSOLE_NO_REPLY", `the control plane of node ${nodeId} did not answer within ${Math.round(timeoutMs / 1000)} s`);
}
