/** /api/v1 fleet routes: proxies, rotations, alerts, events (paged by sequence), jobs, nodes, me, settings. */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { actorOf, principalOf } from "../request-state.ts";
import { parseInput, queryText, IdParam } from "../validation.ts";
import { roleAllows } from "../auth/roles.ts";
import { listProxies } from "../queries/misc.ts";
import { listNodes } from "../queries/misc.ts";
import { listEvents } from "../queries/history.ts";
import { listRotations, rotationStats } from "../../db/queries/rotations.ts";
import { listAlerts } from "../../db/queries/alerts.ts";
import { getSettings } from "../../db/queries/settings.ts";
import { ackAlert, resolveAlertOp } from "../services/alert-ops.ts";
import { listJobs, runJobNow } from "../services/jobs-view.ts";
import { AlertsQuery, EventsQuery, RotationsQuery } from "./pages-ops.ts";

const JobIdParam = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "a job id"));

export function apiFleetPlugin(env: HttpEnv) {
  const { ctx } = env;
  return new Elysia({ name: "api-fleet", prefix: "/api/v1" })
    .get("/me", ({ request }) => {
      const p = principalOf(request);
      return { userId: p.userId, username: p.username, role: p.role, via: p.via };
    }, access("viewer", "The calling user", { tags: ["auth"] }))
    .get("/proxies", async ({ request, query }) => {
      const q = parseInput(v.object({ node: queryText(40) }), query, "query");
      const secrets = roleAllows(principalOf(request).role, "technician");
      const host = ctx.config.proxy.public_host || new URL(request.url).hostname;
      const rows = await listProxies(ctx.sql, { nodeId: q.node });
      return rows.map((r) => ({
        modemId: r.modem_id, nodeId: r.node_id, slot: r.slot, imei: r.imei, state: r.state, enabled: r.enabled,
        host, port: r.port, publicIp: r.public_ip, protocols: ["http", "https-connect", "socks5"],
        // viewers see which users exist, never their passwords
        credentials: r.credentials.map((c) => ({ username: c.username, scope: c.scope, ...(secrets ? { password: c.password } : {}) })),
      }));
    }, access("viewer", "Proxy endpoints and credentials per modem (passwords for technicians)", { tags: ["proxies"] }))
    .get("/rotations", async ({ query }) => {
      const q = parseInput(RotationsQuery, query, "query");
      const limit = q.limit ?? 100;
      const filter = { modemId: q.modem, result: q.result || undefined, trigger: q.trigger || undefined, sinceHours: q.hours, nodeId: q.node };
      const rows = await listRotations(ctx.sql, { ...filter, beforeId: q.before, limit });
      return { rotations: rows, stats: await rotationStats(ctx.sql, filter), nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null };
    }, access("viewer", "Rotation log with unique-IP stats (paged by id: ?before=)", { tags: ["rotations"] }))
    .get("/alerts", async ({ query }) => {
      const q = parseInput(AlertsQuery, query, "query");
      return listAlerts(ctx.sql, { state: q.state ?? "active", severity: q.severity, nodeId: q.node, modemId: q.modem, beforeId: q.before, limit: q.limit ?? 100 });
    }, access("viewer", "Alerts (?state=active|open|acknowledged|resolved|all)", { tags: ["alerts"] }))
    .post("/alerts/:id/ack", ({ request, params }) => ackAlert(env, actorOf(request), parseInput(IdParam, params.id, "alert id")),
      access("technician", "Acknowledge an alert", { tags: ["alerts"] }))
    .post("/alerts/:id/resolve", ({ request, params }) => resolveAlertOp(env, actorOf(request), parseInput(IdParam, params.id, "alert id")),
      access("technician", "Resolve an alert", { tags: ["alerts"] }))
    .get("/events", async ({ query }) => {
      const q = parseInput(EventsQuery, query, "query");
      const limit = q.limit ?? 100;
      // ?after= pages forward in sequence order (what a consumer catching up uses); otherwise newest first.
      const forward = q.after !== undefined;
      const events = await listEvents(ctx.sql, { afterSeq: q.after, beforeSeq: q.before, kind: q.kind, nodeId: q.node, modemId: q.modem, limit, ascending: forward });
      const last = events[events.length - 1];
      return {
        events: events.map(withoutForwardedContent),
        next: events.length === limit && last ? (forward ? { after: last.seq } : { before: last.seq }) : null,
        lastSeq: ctx.events.lastSeq,
      };
    }, access("viewer", "Events paged by sequence (?after= forward, ?before= backward)", { tags: ["events"] }))
    .get("/jobs", async () => (await listJobs(env)).jobs, access("viewer", "Scheduled jobs with their last run", { tags: ["jobs"] }))
    .post("/jobs/:id/run", ({ request, params, set }) => {
      set.status = 202;
      return runJobNow(env, actorOf(request), parseInput(JobIdParam, params.id, "job id"));
    }, access("technician", "Run a scheduled job now", { tags: ["jobs"] }))
    .get("/nodes", () => listNodes(ctx.sql), access("viewer", "Appliances sharing this database", { tags: ["fleet"] }))
    .get("/settings", () => getSettings(ctx.sql, ctx.nodeId), access("viewer", "Effective settings of this node", { tags: ["settings"] }));
}

/**
 * Forwarded fleet actions carry their arguments and answers (SMS text and recipient, USSD replies, console output)
 * between control planes in the event log; viewers reading the log get the envelope without them.
 */
function withoutForwardedContent<E extends { kind: string; payload: unknown }>(e: E): E {
  if (e.kind !== "action.forward" && e.kind !== "action.forward.reply") return e;
  const { args: _a, value: _v, ...rest } = (e.payload ?? {}) as Record<string, unknown>;
  return { ...e, payload: rest };
}
