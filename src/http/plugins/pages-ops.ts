/** Operations pages: rotations log, alerts, the live event stream, jobs. */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { html } from "../respond.ts";
import { actorOf, principalOf } from "../request-state.ts";
import { parseInput, queryInt, queryText, IdParam } from "../validation.ts";
import { roleAllows } from "../auth/roles.ts";
import { nodeIds, pageUser, readOr } from "../page-context.ts";
import { listRotations, rotationStats, type RotationStats } from "../../db/queries/rotations.ts";
import { listAlerts } from "../../db/queries/alerts.ts";
import { lastEventSeq } from "../../db/queries/events.ts";
import { listEvents } from "../queries/history.ts";
import { ackAlert, resolveAlertOp } from "../services/alert-ops.ts";
import { listJobs, runJobNow } from "../services/jobs-view.ts";
import { RotationsPage } from "../../../views/pages/rotations.tsx";
import { AlertRowView, AlertsPage } from "../../../views/pages/alerts.tsx";
import { EventsPage } from "../../../views/pages/events.tsx";
import { JobRow, JobsPage } from "../../../views/pages/jobs.tsx";

export const RotationsQuery = v.object({
  modem: queryInt(1, Number.MAX_SAFE_INTEGER),
  result: v.optional(v.picklist(["", "OK", "SAME_IP", "COLLISION", "FAILED", "CANCELLED"], "a rotation result")),
  trigger: v.optional(v.picklist(["", "manual", "api", "link", "schedule", "heal"], "a trigger")),
  hours: queryInt(1, 24 * 366),
  node: queryText(40),
  before: queryInt(1, Number.MAX_SAFE_INTEGER),
  limit: queryInt(1, 1000),
});

export const AlertsQuery = v.object({
  state: v.optional(v.picklist(["active", "open", "acknowledged", "resolved", "all"], "active, open, acknowledged, resolved or all")),
  severity: v.optional(v.picklist(["info", "warning", "critical"], "info, warning or critical")),
  node: queryText(40),
  modem: queryInt(1, Number.MAX_SAFE_INTEGER),
  before: queryInt(1, Number.MAX_SAFE_INTEGER),
  limit: queryInt(1, 1000),
});

export const EventsQuery = v.object({
  kind: queryText(64),
  node: queryText(40),
  modem: queryInt(1, Number.MAX_SAFE_INTEGER),
  before: queryInt(1, Number.MAX_SAFE_INTEGER),
  after: queryInt(0, Number.MAX_SAFE_INTEGER),
  limit: queryInt(1, 1000),
});

const JobIdParam = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "a job id"));

export function opsPagesPlugin(env: HttpEnv) {
  const { ctx } = env;
  const emptyStats: RotationStats = { total: 0, finished: 0, ok: 0, collisions: 0, failed: 0, uniqueRate: null, avgDurationMs: null };

  return new Elysia({ name: "pages-ops" })
    .get("/rotations", async ({ request, query }) => {
      const q = parseInput(RotationsQuery, query, "filter");
      const filter = { modemId: q.modem, result: q.result || undefined, trigger: q.trigger || undefined, sinceHours: q.hours ?? 24, nodeId: q.node, beforeId: q.before, limit: 200 };
      const { value, banner } = await readOr(env, { rows: [], stats: emptyStats }, async () => ({
        rows: await listRotations(ctx.sql, filter),
        stats: await rotationStats(ctx.sql, filter),
      }));
      const last = value.rows[value.rows.length - 1];
      const older = value.rows.length === 200 && last ? `/rotations?${new URLSearchParams({ ...Object.fromEntries(Object.entries(query as Record<string, string>)), before: String(last.id) })}` : undefined;
      return html(RotationsPage({ ...value, filter: { modem: q.modem, result: q.result, trigger: q.trigger, hours: q.hours ?? 24, node: q.node }, nodes: await nodeIds(env), user: pageUser(request), nodeId: ctx.nodeId, banner, olderHref: older }));
    }, access("viewer", "Rotations log"))
    .get("/alerts", async ({ request, query }) => {
      const q = parseInput(AlertsQuery, query, "filter");
      const state = q.state ?? "active";
      const { value, banner } = await readOr(env, [], () => listAlerts(ctx.sql, { state, severity: q.severity, nodeId: q.node, modemId: q.modem, beforeId: q.before, limit: 500 }));
      return html(AlertsPage({ rows: value, state, canAct: roleAllows(principalOf(request).role, "technician"), user: pageUser(request), nodeId: ctx.nodeId, banner }));
    }, access("viewer", "Alerts"))
    .post("/alerts/:id/ack", async ({ request, params }) => {
      const a = await ackAlert(env, actorOf(request), parseInput(IdParam, params.id, "alert id"));
      return html(AlertRowView({ a, canAct: true }));
    }, access("technician", "Acknowledge an alert (panel)"))
    .post("/alerts/:id/resolve", async ({ request, params }) => {
      const a = await resolveAlertOp(env, actorOf(request), parseInput(IdParam, params.id, "alert id"));
      return html(AlertRowView({ a, canAct: true }));
    }, access("technician", "Resolve an alert (panel)"))
    .get("/events", async ({ request, query }) => {
      const q = parseInput(EventsQuery, query, "filter");
      const filter = { kind: q.kind, node: q.node, modem: q.modem };
      const { value, banner } = await readOr(env, { rows: [], afterSeq: 0 }, async () => {
        const afterSeq = await lastEventSeq(ctx.sql);
        const rows = await listEvents(ctx.sql, { kind: q.kind, nodeId: q.node, modemId: q.modem, beforeSeq: q.before, limit: 100 });
        return { rows, afterSeq };
      });
      const last = value.rows[value.rows.length - 1];
      const older = value.rows.length === 100 && last ? `/events?${new URLSearchParams({ ...(q.kind ? { kind: q.kind } : {}), ...(q.node ? { node: q.node } : {}), ...(q.modem ? { modem: String(q.modem) } : {}), before: String(last.seq) })}` : undefined;
      // A page of older events is history: no live stream on it.
      return html(EventsPage({ rows: value.rows, filter, afterSeq: value.afterSeq, live: !q.before, nodes: await nodeIds(env), olderHref: older, user: pageUser(request), nodeId: ctx.nodeId, banner }));
    }, access("viewer", "Event stream"))
    .get("/jobs", async ({ request }) => {
      const { value, banner } = await readOr(env, { jobs: [], live: false }, () => listJobs(env));
      return html(JobsPage({ ...value, canRun: roleAllows(principalOf(request).role, "technician"), user: pageUser(request), nodeId: ctx.nodeId, banner }));
    }, access("viewer", "Jobs"))
    .post("/jobs/:id/run", async ({ request, params }) => {
      const id = parseInput(JobIdParam, params.id, "job id");
      const j = await runJobNow(env, actorOf(request), id);
      return html(JobRow({ j, canRun: true, note: "started" }));
    }, access("technician", "Run a job now (panel)"));
}
