/**
 * SSE endpoints for the live pages. The page passes `after` (the sequence it was rendered at); a reconnecting
 * browser sends Last-Event-ID, which wins. Live frames are held while the replay is computed, then those the replay
 * already covered are skipped, so nothing is lost or shown twice across a reconnect.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { parseInput, queryInt, queryText, IdParam } from "../validation.ts";
import { eventMatches, parseLastEventId, replayDashboard, replayEvents, replayModem } from "../live/replay.ts";
import type { SseClient } from "../sse-broker.ts";
import { childLogger } from "../../lib/logger.ts";

const log = childLogger("sse");

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

type ServerLike = { timeout?(req: Request, seconds: number): void } | null;

/** Runs the replay with live frames held; on failure the client is closed and its browser reconnects. */
function withReplay(client: SseClient, from: number | undefined, replay: (from: number) => Promise<number>): void {
  if (from === undefined) return;
  client.hold();
  replay(from)
    .then((covered) => client.release(covered))
    .catch((error) => {
      log.warn({ err: (error as Error).message }, "SSE replay failed");
      client.close();
    });
}

const DashboardQuery = v.object({ after: queryInt(0, Number.MAX_SAFE_INTEGER), node: queryText(40) });
const ModemQuery = v.object({ after: queryInt(0, Number.MAX_SAFE_INTEGER) });
const EventsQuery = v.object({
  after: queryInt(0, Number.MAX_SAFE_INTEGER),
  kind: queryText(64),
  node: queryText(40),
  modem: queryInt(1, Number.MAX_SAFE_INTEGER),
});

export function ssePlugin(env: HttpEnv) {
  const render = env.render;
  const open = (request: Request, server: unknown, channels: string[], filter?: Parameters<HttpEnv["broker"]["open"]>[0]["filter"]) => {
    // Bun closes connections idle for 10 s by default; an SSE stream is idle between events by design.
    (server as ServerLike)?.timeout?.(request, 0);
    return env.broker.open({ channels, filter, preamble: [{ retry: 2000 }], signal: request.signal });
  };
  const response = (stream: ReadableStream<Uint8Array>) => new Response(stream, { headers: SSE_HEADERS });

  return new Elysia({ name: "sse" })
    .get("/sse/dashboard", ({ request, query, server }) => {
      const q = parseInput(DashboardQuery, query, "query");
      const from = parseLastEventId(request.headers.get("last-event-id")) ?? q.after;
      const node = q.node ?? null;
      const { stream, client } = open(request, server, [node ? `dashboard@${node}` : "dashboard"]);
      withReplay(client, from, (f) => replayDashboard(env.ctx.sql, client, f, node, render));
      return response(stream);
    }, access("viewer", "Live dashboard rows (SSE)"))
    .get("/sse/modems/:id", ({ request, query, params, server }) => {
      const id = parseInput(IdParam, params.id, "modem id");
      const q = parseInput(ModemQuery, query, "query");
      const from = parseLastEventId(request.headers.get("last-event-id")) ?? q.after;
      const { stream, client } = open(request, server, [`modem:${id}`]);
      withReplay(client, from, (f) => replayModem(env.ctx.sql, client, f, id, render));
      return response(stream);
    }, access("viewer", "Live modem page updates (SSE)"))
    .get("/sse/events", ({ request, query, server }) => {
      const q = parseInput(EventsQuery, query, "query");
      const filter = { kind: q.kind, node: q.node, modemId: q.modem };
      const from = parseLastEventId(request.headers.get("last-event-id")) ?? q.after;
      const { stream, client } = open(request, server, ["events"], (meta) => eventMatches(filter, meta));
      withReplay(client, from, (f) => replayEvents(env.ctx.sql, client, f, filter));
      return response(stream);
    }, access("viewer", "Live event stream (SSE)"));
}
