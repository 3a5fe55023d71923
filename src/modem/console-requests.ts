/**
 * `lteproxy at` while a control plane runs: the control plane owns every AT port, so the CLI cannot open one.
 * The request travels through PostgreSQL instead: the CLI appends a `action.at` event for the node (payload
 * {requestId, target, command, actor}); the control plane, subscribed to the event stream, runs it through the
 * console policy (audited like any console use) and appends `action.at.reply` ({requestId, ok, final, lines, …,
 * or code/message}); the CLI polls for that reply. No HTTP credentials are needed: whoever can write the database
 * already controls the appliance, and the CLI runs on the box as root.
 *
 * Requests older than REQUEST_MAX_AGE_MS (src/db/queries/event-requests.ts) are ignored, so an event-stream replay after a restart never re-runs an
 * old `AT+CFUN=1,1`.
 */
import { AppError } from "../lib/errors.ts";
import { childLogger } from "../lib/logger.ts";
import type { Sql } from "../db/client.ts";
import { appendEvent, type EventRow } from "../db/queries/events.ts";
import { requestReply, takeRequest } from "../db/queries/event-requests.ts";
import type { ConsoleReply } from "./console-run.ts";

export const AT_REQUEST_KIND = "action.at";
export const AT_REPLY_KIND = "action.at.reply";

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
  if (!takeRequest(ev, AT_REQUEST_KIND, runner.nodeId, seen)) return;
  const req = asRequest(ev.payload ?? {});
  if (!req) return;
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
  });
}

/** CLI side: appends the request and waits for its reply (polling; the CLI has no event stream). */
export async function requestAt(sql: Sql, nodeId: string, req: Omit<AtRequest, "requestId">,
  { timeoutMs = 30_000, pollMs = 100 } = {}): Promise<AtReply> {
  const reply = await requestReply(sql, nodeId, { request: AT_REQUEST_KIND, reply: AT_REPLY_KIND }, { ...req }, { timeoutMs, pollMs });
  if (reply) return reply as unknown as AtReply;
  throw new AppError("CONSOLE_NO_REPLY", `the control plane of node ${nodeId} did not answer within ${Math.round(timeoutMs / 1000)} s`);
}
