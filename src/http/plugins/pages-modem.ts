/** The modem page and its htmx actions: control-plane actions, AT console, SMS, USSD, the rotation link. */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { MODEM_ACTIONS, type ModemAction } from "../context.ts";
import { access } from "../route-policy.ts";
import { html } from "../respond.ts";
import { HttpError, toHttpError } from "../errors.ts";
import { actorOf, principalOf } from "../request-state.ts";
import { checkInput, parseInput, IdParam } from "../validation.ts";
import { roleAllows } from "../auth/roles.ts";
import { pageUser, readOr } from "../page-context.ts";
import { loadModem, regenerateLink, requestAction, revokeLink, rotationLinkUrl, runAt, sendSms, sendUssd } from "../services/modem-ops.ts";
import { healthHistory, listEvents, type SamplePoint } from "../queries/history.ts";
import { listProxies, listSms, type ProxyRow, type SmsRow } from "../queries/misc.ts";
import { lastEventSeq, type EventRow } from "../../db/queries/events.ts";
import { ModemPage } from "../../../views/pages/modem.tsx";
import { JobLine, jobFromEvent, type JobView } from "../../../views/partials/jobs.tsx";
import { AtEntry, RotationLink, SmsForm, SmsList, UssdForm } from "../../../views/partials/modem-tools.tsx";

export const ActionParam = v.picklist(MODEM_ACTIONS as ModemAction[], `one of ${MODEM_ACTIONS.join(", ")}`);
export const ActionBody = v.object({ method: v.optional(v.picklist(["data", "airplane", "reboot"], "data, airplane or reboot")) });
export const AtBody = v.object({ command: v.pipe(v.string("a command"), v.trim(), v.minLength(1, "a command"), v.maxLength(256, "at most 256 characters")) });
export const SmsBody = v.object({
  to: v.pipe(v.string("a phone number"), v.trim(), v.regex(/^\+?[0-9]{3,20}$/, "digits, optionally with a leading +")),
  text: v.pipe(v.string("a message"), v.minLength(1, "a message"), v.maxLength(480, "at most 480 characters")),
});
export const UssdBody = v.object({ code: v.pipe(v.string("a USSD code"), v.trim(), v.regex(/^[0-9*#+]{1,32}$/, "digits, * and # only (e.g. *100#)")) });

interface ModemPageData {
  afterSeq: number;
  history: SamplePoint[];
  events: EventRow[];
  sms: SmsRow[] | null;
  proxy: ProxyRow | null;
}

/** Latest state of recent jobs among the modem's events. */
function recentJobs(events: EventRow[], now: number): JobView[] {
  const jobs = new Map<string, JobView>();
  for (const e of [...events].reverse()) {
    const j = jobFromEvent(e);
    if (j && now - j.at.getTime() < 3600_000) jobs.set(j.jobId, j);
  }
  return [...jobs.values()].reverse().slice(0, 5);
}

export function modemPagesPlugin(env: HttpEnv) {
  const { ctx } = env;
  const modemId = (params: { id: string }) => parseInput(IdParam, params.id, "modem id");

  return new Elysia({ name: "pages-modem" })
    .get("/modems/:id", async ({ request, params }) => {
      const p = principalOf(request);
      const id = modemId(params);
      const m = await loadModem(env, id);
      const canOperate = roleAllows(p.role, "technician");
      const now = env.now();
      const fallback: ModemPageData = { afterSeq: 0, history: [], events: [], sms: canOperate ? [] : null, proxy: null };
      const { value, banner } = await readOr(env, fallback, async (): Promise<ModemPageData> => {
        const afterSeq = await lastEventSeq(ctx.sql);
        const [history, events, sms, proxies] = await Promise.all([
          healthHistory(ctx.sql, id, { hours: 24 }),
          listEvents(ctx.sql, { modemId: id, limit: 50 }),
          canOperate ? listSms(ctx.sql, id) : Promise.resolve(null),
          listProxies(ctx.sql, { modemId: id }),
        ]);
        return { afterSeq, history, events, sms, proxy: proxies[0] ?? null };
      });
      return html(ModemPage({
        m, ...value, jobs: recentJobs(value.events, now), canOperate,
        panel: { sinr: env.render.sinr, now },
        proxyPanel: { proxyHost: ctx.config.proxy.public_host || new URL(request.url).hostname, showSecrets: canOperate, now },
        user: pageUser(request), nodeId: ctx.nodeId, banner, now,
      }));
    }, access("viewer", "Modem page"))
    .post("/modems/:id/actions/:action", async ({ request, params, body }) => {
      const id = modemId(params);
      const action = parseInput(ActionParam, params.action, "action");
      const opts = parseInput(ActionBody, body ?? {}, "action options");
      const { jobId } = await requestAction(env, actorOf(request), id, action, { ...opts, trigger: "manual" });
      return html(JobLine({ j: { jobId, action, status: "queued", at: new Date(env.now()) } }), 202);
    }, access("technician", "Run a modem action (panel)"))
    .post("/modems/:id/at", async ({ request, params, body }) => {
      const id = modemId(params);
      const parsed = checkInput(AtBody, body);
      const command = parsed.ok ? parsed.value.command : String((body as Record<string, unknown>)?.command ?? "").slice(0, 256);
      try {
        if (!parsed.ok) throw new HttpError(422, "VALIDATION_FAILED", Object.values(parsed.fields)[0] ?? "invalid command");
        const r = await runAt(env, actorOf(request), id, parsed.value.command);
        return html(AtEntry({ e: { command, ok: r.ok, lines: r.lines, final: r.final } }));
      } catch (error) {
        const e = toHttpError(error);
        if (!e || e.status === 401 || e.status === 403) throw error;
        return html(AtEntry({ e: { command, ok: false, lines: [], final: `${e.code}: ${e.message}` } }), e.status);
      }
    }, access("technician", "AT console command (panel)"))
    .get("/modems/:id/sms", async ({ params }) => {
      const m = await loadModem(env, modemId(params));
      return html(SmsList({ sms: await listSms(ctx.sql, m.id) }));
    }, access("technician", "SMS list of a modem (panel fragment, reloaded live)"))
    .post("/modems/:id/sms", async ({ request, params, body }) => {
      const id = modemId(params);
      const parsed = checkInput(SmsBody, body);
      if (!parsed.ok) return html(SmsForm({ id, errors: parsed.fields }), 422);
      try {
        const r = await sendSms(env, actorOf(request), id, parsed.value.to, parsed.value.text);
        return r.ok ? html(SmsForm({ id, result: "Sent." })) : html(SmsForm({ id, errors: { _: r.error ?? "sending failed" } }), 502);
      } catch (error) {
        const e = toHttpError(error);
        if (!e || e.status === 401 || e.status === 403) throw error;
        return html(SmsForm({ id, errors: { _: e.message } }), e.status);
      }
    }, access("technician", "Send an SMS (panel)"))
    .post("/modems/:id/ussd", async ({ request, params, body }) => {
      const id = modemId(params);
      const parsed = checkInput(UssdBody, body);
      if (!parsed.ok) return html(UssdForm({ id, errors: parsed.fields }), 422);
      try {
        const r = await sendUssd(env, actorOf(request), id, parsed.value.code);
        return html(UssdForm({ id, response: r.response }), r.ok ? 200 : 502);
      } catch (error) {
        const e = toHttpError(error);
        if (!e || e.status === 401 || e.status === 403) throw error;
        return html(UssdForm({ id, errors: { _: e.message } }), e.status);
      }
    }, access("technician", "USSD request (panel)"))
    .post("/modems/:id/rotation-link", async ({ request, params }) => {
      const id = modemId(params);
      const token = await regenerateLink(env, actorOf(request), id);
      return html(RotationLink({ id, exists: true, url: rotationLinkUrl(env, request, token) }));
    }, access("technician", "Create or regenerate the secure rotation link (panel)"))
    .post("/modems/:id/rotation-link/revoke", async ({ request, params }) => {
      const id = modemId(params);
      await revokeLink(env, actorOf(request), id);
      return html(RotationLink({ id, exists: false }));
    }, access("technician", "Revoke the secure rotation link (panel)"));
}
