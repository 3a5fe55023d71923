/** /api/v1 modem routes: list, detail, history, actions (job ids), AT, SMS, USSD, rotation link, job status. */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { MODEM_ACTIONS } from "../context.ts";
import { access } from "../route-policy.ts";
import { HttpError, notFound } from "../errors.ts";
import { actorOf, stateOf } from "../request-state.ts";
import { parseInput, queryInt, queryText } from "../validation.ts";
import { dashboardRows } from "../queries/modem-rows.ts";
import { healthHistory, jobEvents } from "../queries/history.ts";
import { listSms } from "../queries/misc.ts";
import { findModemByRotationToken, findRotationByJob } from "../../db/queries/rotations.ts";
import { loadModem, regenerateLink, requestAction, revokeLink, rotationLinkUrl, runAt, sendSms, sendUssd } from "../services/modem-ops.ts";
import { modemDetailJson, modemJson } from "../api-shapes.ts";
import { ActionBody, ActionParam, AtBody, SmsBody, UssdBody } from "./pages-modem.ts";

const ListQuery = v.object({
  node: queryText(40),
  state: v.optional(v.picklist(["online", "degraded", "offline", "failed", "detected", "identifying", "searching", "registered", "connecting", "healing", "rotating", "unplugged", "disabled"], "a state or group")),
  q: queryText(64),
});

const RefParam = v.pipe(v.string(), v.regex(/^[0-9]{1,16}$/, "a modem id or IMEI"));
const JobIdParam = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, "a job id"));
const TokenParam = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16,128}$/, "a rotation token"));

const body = (summary: string, properties: Record<string, unknown>, required: string[] = []) => ({
  requestBody: { required: required.length > 0, content: { "application/json": { schema: { type: "object", properties, required } } } },
});

export function apiModemsPlugin(env: HttpEnv) {
  const { ctx } = env;
  const sinr = env.render.sinr;
  const ref = (params: { id: string }) => parseInput(RefParam, params.id, "modem reference");

  return new Elysia({ name: "api-modems", prefix: "/api/v1" })
    .get("/modems", async ({ query }) => {
      const q = parseInput(ListQuery, query, "query");
      const rows = await dashboardRows(ctx.sql, { nodeId: q.node, state: q.state, q: q.q });
      return rows.map((m) => modemJson(m, sinr));
    }, access("viewer", "List modems", { tags: ["modems"] }))
    .get("/modems/:id", async ({ params }) => {
      const m = await loadModem(env, ref(params));
      return modemDetailJson(m, sinr);
    }, access("viewer", "Modem detail (by id or IMEI)", { tags: ["modems"] }))
    .get("/modems/:id/history", async ({ params, query }) => {
      const m = await loadModem(env, ref(params));
      const q = parseInput(v.object({ hours: queryInt(1, 24 * 31) }), query, "query");
      const points = await healthHistory(ctx.sql, m.id, { hours: q.hours ?? 24 });
      return points.map((p) => ({ ts: p.ts, ok: p.ok, rsrp: p.rsrp, sinr: sinr(p.sinr_raw), rtt_ms: p.rtt_ms }));
    }, access("viewer", "Signal history (RSRP, SINR, RTT)", { tags: ["modems"] }))
    .post("/modems/:id/actions/:action", async ({ request, params, body, set }) => {
      const m = await loadModem(env, ref(params));
      const action = parseInput(ActionParam, params.action, "action");
      const opts = parseInput(ActionBody, body ?? {}, "body");
      const { jobId } = await requestAction(env, actorOf(request), m.id, action, { ...opts, trigger: "api" });
      set.status = 202;
      return { jobId, modemId: m.id, action, status: `/api/v1/jobs/${jobId}` };
    }, access("technician", `Run an action: ${MODEM_ACTIONS.join(", ")}; answers 202 with a job id`, { tags: ["modems"], ...body("action", { method: { enum: ["data", "airplane", "reboot"] } }) }))
    .post("/modems/:id/rotate", async ({ request, params, body, set }) => {
      const m = await loadModem(env, ref(params));
      const opts = parseInput(ActionBody, body ?? {}, "body");
      const { jobId } = await requestAction(env, actorOf(request), m.id, "rotate", { ...opts, trigger: "api" });
      set.status = 202;
      return { jobId, modemId: m.id, action: "rotate", status: `/api/v1/jobs/${jobId}` };
    }, access("technician", "Rotate the public IP; answers 202 with a job id", { tags: ["modems"], ...body("rotate", { method: { enum: ["data", "airplane", "reboot"] } }) }))
    .post("/modems/:id/at", async ({ request, params, body }) => {
      const m = await loadModem(env, ref(params));
      const b = parseInput(AtBody, body, "body");
      return runAt(env, actorOf(request), m.id, b.command);
    }, access("technician", "One AT command (allow-listed, audited)", { tags: ["modems"], ...body("at", { command: { type: "string", maxLength: 256 } }, ["command"]) }))
    .get("/modems/:id/sms", async ({ params }) => {
      const m = await loadModem(env, ref(params));
      return listSms(ctx.sql, m.id, 200);
    }, access("technician", "SMS inbox and sent messages", { tags: ["modems"] }))
    .post("/modems/:id/sms", async ({ request, params, body }) => {
      const m = await loadModem(env, ref(params));
      const b = parseInput(SmsBody, body, "body");
      return sendSms(env, actorOf(request), m.id, b.to, b.text);
    }, access("technician", "Send an SMS", { tags: ["modems"], ...body("sms", { to: { type: "string" }, text: { type: "string", maxLength: 480 } }, ["to", "text"]) }))
    .post("/modems/:id/ussd", async ({ request, params, body }) => {
      const m = await loadModem(env, ref(params));
      const b = parseInput(UssdBody, body, "body");
      return sendUssd(env, actorOf(request), m.id, b.code);
    }, access("technician", "USSD request", { tags: ["modems"], ...body("ussd", { code: { type: "string", pattern: "^[0-9*#+]{1,32}$" } }, ["code"]) }))
    .post("/modems/:id/rotation-link", async ({ request, params, set }) => {
      const m = await loadModem(env, ref(params));
      const token = await regenerateLink(env, actorOf(request), m.id);
      set.status = 201;
      return { url: rotationLinkUrl(env, request, token), token };
    }, access("technician", "Create or regenerate the secure rotation link (shown once)", { tags: ["modems"] }))
    .delete("/modems/:id/rotation-link", async ({ request, params }) => {
      const m = await loadModem(env, ref(params));
      await revokeLink(env, actorOf(request), m.id);
      return new Response(null, { status: 204 });
    }, access("technician", "Revoke the secure rotation link", { tags: ["modems"] }))
    .get("/jobs/:jobId", async ({ params }) => {
      const jobId = parseInput(JobIdParam, params.jobId, "job id");
      const fromActions = await ctx.actions?.job?.(jobId);
      if (fromActions) return fromActions;
      const rotation = await findRotationByJob(ctx.sql, jobId);
      const events = await jobEvents(ctx.sql, jobId);
      if (!rotation && !events.length) throw notFound("job");
      const last = events[events.length - 1]?.payload ?? {};
      return {
        jobId,
        modemId: rotation?.modem_id ?? events[0]?.modem_id ?? null,
        action: rotation ? "rotate" : (typeof last.action === "string" ? last.action : events[0]!.kind),
        status: rotation?.status ?? (typeof last.status === "string" ? last.status : "running"),
        result: rotation?.result ?? (typeof last.result === "string" ? last.result : null),
        rotation,
        events: events.map((e) => ({ seq: e.seq, kind: e.kind, payload: e.payload, at: e.created_at })),
      };
    }, access("viewer", "Job status (rotation or other action)", { tags: ["jobs"] }))
    .get("/rotate/:token", ({ request, params, set }) => rotateByLink(env, request, params.token, set), access("public", "Secure rotation link (no login: the token is the credential)", { tags: ["rotations"], "x-csrf": false }))
    .post("/rotate/:token", ({ request, params, set }) => rotateByLink(env, request, params.token, set), access("public", "Secure rotation link (POST form)", { tags: ["rotations"], "x-csrf": false }));
}

/** The per-port secure rotation link: unknown and revoked tokens are 404 and count as offences (IP blocks). */
async function rotateByLink(env: HttpEnv, request: Request, token: string, set: { status?: number | string }) {
  const ip = stateOf(request).ip;
  const ok = v.safeParse(TokenParam, token).success;
  const modem = ok ? await findModemByRotationToken(env.ctx.sql, token) : null;
  if (!modem) {
    await env.security.record("rotation_link_invalid", { ip });
    throw new HttpError(404, "NOT_FOUND", "unknown or revoked rotation link");
  }
  const actor = { userId: null, username: "rotation-link", role: "technician" as const, via: "link" as const, ip };
  const { jobId } = await requestAction(env, actor, modem.id, "rotate", { trigger: "link" });
  set.status = 202;
  return { jobId, modemId: modem.id, status: "queued" };
}

