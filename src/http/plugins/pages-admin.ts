/** Admin pages (users, API keys, security, audit) and the settings and system pages. */
import { Elysia } from "elysia";
import * as v from "valibot";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { statfsSync } from "node:fs";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { html } from "../respond.ts";
import { HttpError, invalid } from "../errors.ts";
import { actorOf, principalOf, stateOf } from "../request-state.ts";
import { checkInput, parseInput, queryInt, queryText, IdParam } from "../validation.ts";
import { roleAllows } from "../auth/roles.ts";
import { pageUser, readOr } from "../page-context.ts";
import { partial } from "../live/partial.ts";
import { createKeyOp, createUserOp, deleteUserOp, NewKeyBody, NewUserBody, resetPasswordOp, revokeKeyOp, updateUserOp, UserPatchBody } from "../services/user-admin.ts";
import { listUsers } from "../../db/queries/users.ts";
import { listApiKeys } from "../../db/queries/api-keys.ts";
import { listAudit } from "../../db/queries/audit.ts";
import { listSecurityEvents, recentIpBlocks } from "../../db/queries/security.ts";
import { getSettings, putSettings, SettingsSchema, type Settings } from "../../db/queries/settings.ts";
import { writeAudit } from "../../db/queries/audit.ts";
import { listNodes } from "../queries/misc.ts";
import { parseIp } from "../ip-match.ts";
import { ping } from "../../db/client.ts";
import { VERSION, COMMIT } from "../../version.ts";
import { KeyRow, NewKeyForm, NewUserForm, SecretOnce, UserRow, UsersPage } from "../../../views/pages/users.tsx";
import { SettingsForm, SettingsPage } from "../../../views/pages/settings.tsx";
import { AuditPage } from "../../../views/pages/audit.tsx";
import { BlockForm, BlockRow, SecurityPage } from "../../../views/pages/security.tsx";
import { SystemPage, type SystemInfo } from "../../../views/pages/system.tsx";

export const BlockBody = v.object({
  ip: v.pipe(v.string("an address"), v.trim(), v.check((x) => parseIp(x) !== null, "an IPv4 or IPv6 address")),
  minutes: v.pipe(v.unknown(), v.transform((x) => (typeof x === "string" && /^\d{1,7}$/.test(x) ? Number(x) : x)), v.number("minutes"), v.integer("minutes"), v.minValue(1, "at least 1 minute"), v.maxValue(525600, "at most a year")),
  reason: v.optional(v.pipe(v.string(), v.maxLength(200, "at most 200 characters")), ""),
});

export const SettingsBody = v.partial(SettingsSchema);

/** Settings form values → the keys present (unknown keys are refused, so a typo is not silently ignored). */
export function settingsFromForm(body: unknown): { ok: true; value: Partial<Settings> } | { ok: false; fields: Record<string, string> } {
  if (!body || typeof body !== "object" || Array.isArray(body)) return { ok: false, fields: { _: "expected a form or JSON object" } };
  const unknown = Object.keys(body).filter((k) => !(k in SettingsSchema.entries));
  if (unknown.length) return { ok: false, fields: Object.fromEntries(unknown.slice(0, 10).map((k) => [k.slice(0, 64), "unknown setting"])) };
  const r = checkInput(SettingsBody, body);
  if (r.ok) return { ok: true, value: r.value as Partial<Settings> };
  // "proxy.whitelist.1" (an entry of a list) belongs to the "proxy.whitelist" field of the form.
  const fields: Record<string, string> = {};
  for (const [path, message] of Object.entries(r.fields)) {
    const key = Object.keys(SettingsSchema.entries).find((k) => path === k || path.startsWith(`${k}.`)) ?? path;
    const entry = path.length > key.length ? Number(path.slice(key.length + 1)) : NaN;
    fields[key] ??= Number.isInteger(entry) ? `entry ${entry + 1}: ${message}` : message;
  }
  return { ok: false, fields };
}

async function systemInfo(env: HttpEnv): Promise<SystemInfo> {
  const t0 = performance.now();
  const dbOk = await ping(env.ctx.sql, 1500);
  let disk: SystemInfo["disk"] = null;
  for (const path of [env.ctx.config.paths.data_dir, "/"]) {
    try {
      const s = statfsSync(path);
      disk = { path, total: s.blocks * s.bsize, free: s.bavail * s.bsize };
      break;
    } catch {
      // data dir may not exist on a dev box
    }
  }
  return {
    version: VERSION, commit: COMMIT, dbHealthy: dbOk && env.ctx.db.healthy(), dbLatencyMs: dbOk ? performance.now() - t0 : null,
    eventLagMs: env.ctx.events.lastLagMs, lastSeq: env.ctx.events.lastSeq, sseClients: env.broker.getStats().clients,
    load: loadavg(), cpus: cpus().length, memTotal: totalmem(), memFree: freemem(), disk, uptimeS: process.uptime(),
    conditions: (await env.ctx.conditions?.()) ?? [],
  };
}

export function adminPagesPlugin(env: HttpEnv) {
  const { ctx } = env;
  const userId = (params: { id: string }) => parseInput(IdParam, params.id, "user id");

  return new Elysia({ name: "pages-admin" })
    .get("/users", async ({ request }) => {
      const [users, keys] = await Promise.all([listUsers(ctx.sql), listApiKeys(ctx.sql)]);
      return html(UsersPage({ users, keys, selfId: principalOf(request).userId, user: pageUser(request), nodeId: ctx.nodeId }));
    }, access("admin", "Users and API keys"))
    .post("/users", async ({ request, body }) => {
      const parsed = checkInput(NewUserBody, body);
      if (!parsed.ok) return html(NewUserForm({ errors: parsed.fields }), 422);
      try {
        const { user, password } = await createUserOp(env, actorOf(request), parsed.value);
        const parts = [
          NewUserForm({}) as string,
          partial("#users-body", "beforeend", UserRow({ u: user, self: false }) as string),
          password ? partial("#user-secret", "innerHTML", SecretOnce({ label: `One-time password for ${user.username}`, secret: password }) as string) : "",
        ];
        return html(parts.join(""), 201);
      } catch (error) {
        if (error instanceof HttpError && error.status === 409) return html(NewUserForm({ errors: { username: error.message } }), 409);
        throw error;
      }
    }, access("admin", "Create a user (panel)"))
    .post("/users/:id", async ({ request, params, body }) => {
      const id = userId(params);
      const patch = parseInput(UserPatchBody, body, "user change");
      const u = await updateUserOp(env, actorOf(request), id, patch);
      return html(UserRow({ u, self: u.id === principalOf(request).userId }));
    }, access("admin", "Change a user's role, status or lock (panel)"))
    .post("/users/:id/reset-password", async ({ request, params }) => {
      const { user, password } = await resetPasswordOp(env, actorOf(request), userId(params));
      return html(SecretOnce({ label: `One-time password for ${user.username}`, secret: password }));
    }, access("admin", "Reset a user's password (panel)"))
    .post("/users/:id/delete", async ({ request, params }) => {
      await deleteUserOp(env, actorOf(request), userId(params));
      return html("");
    }, access("admin", "Delete a user (panel)"))
    .post("/keys", async ({ request, body }) => {
      const users = await listUsers(ctx.sql);
      const parsed = checkInput(NewKeyBody, body);
      if (!parsed.ok) return html(NewKeyForm({ users, errors: parsed.fields }), 422);
      try {
        const { key, info } = await createKeyOp(env, actorOf(request), parsed.value);
        return html([
          NewKeyForm({ users }) as string,
          partial("#keys-body", "afterbegin", KeyRow({ k: info }) as string),
          partial("#user-secret", "innerHTML", SecretOnce({ label: `API key "${info.name}" for ${info.username}`, secret: key }) as string),
        ].join(""), 201);
      } catch (error) {
        if (error instanceof HttpError && (error.status === 422 || error.status === 404)) return html(NewKeyForm({ users, errors: error.fields ?? { _: error.message } }), error.status);
        throw error;
      }
    }, access("admin", "Create an API key (panel)"))
    .post("/keys/:id/revoke", async ({ request, params }) => {
      const id = parseInput(IdParam, params.id, "key id");
      await revokeKeyOp(env, actorOf(request), id);
      const k = (await listApiKeys(ctx.sql)).find((x) => x.id === id)!;
      return html(KeyRow({ k }));
    }, access("admin", "Revoke an API key (panel)"))
    .get("/settings", async ({ request }) => {
      const { value, banner } = await readOr(env, null as Settings | null, () => getSettings(ctx.sql, ctx.nodeId));
      if (!value) throw new HttpError(503, "DB_UNAVAILABLE", "settings need the database");
      return html(SettingsPage({ values: value, canEdit: roleAllows(principalOf(request).role, "admin"), user: pageUser(request), nodeId: ctx.nodeId, banner }));
    }, access("viewer", "Settings"))
    .post("/settings", async ({ request, body }) => {
      const r = settingsFromForm(body);
      if (!r.ok) return html(SettingsForm({ values: (body && typeof body === "object" ? body : {}) as Record<string, unknown>, errors: r.fields, canEdit: true }), 422);
      const actor = actorOf(request);
      await putSettings(ctx.sql, r.value, actor.username);
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: actor.userId, actor: actor.username, action: "settings.update", ip: actor.ip, details: r.value as Record<string, unknown> });
      return html(SettingsForm({ values: (await getSettings(ctx.sql, ctx.nodeId)) as unknown as Record<string, unknown>, canEdit: true, saved: true }));
    }, access("admin", "Save settings (panel)"))
    .get("/audit", async ({ request, query }) => {
      const q = parseInput(v.object({ action: queryText(64), before: queryInt(1, Number.MAX_SAFE_INTEGER) }), query, "filter");
      const rows = await listAudit(ctx.sql, { action: q.action, beforeId: q.before, limit: 200 });
      const last = rows[rows.length - 1];
      const older = rows.length === 200 && last ? `/audit?${new URLSearchParams({ ...(q.action ? { action: q.action } : {}), before: String(last.id) })}` : undefined;
      return html(AuditPage({ rows, action: q.action, olderHref: older, user: pageUser(request), nodeId: ctx.nodeId }));
    }, access("admin", "Audit log"))
    .get("/security", async ({ request }) => {
      const [blocks, events] = await Promise.all([recentIpBlocks(ctx.sql, 100), listSecurityEvents(ctx.sql, { limit: 200 })]);
      return html(SecurityPage({ blocks, events, now: env.now(), user: pageUser(request), nodeId: ctx.nodeId }));
    }, access("admin", "IP blocks and security events"))
    .post("/security/blocks", async ({ request, body }) => {
      const parsed = checkInput(BlockBody, body);
      if (!parsed.ok) return html(BlockForm({ errors: parsed.fields }), 422);
      const actor = actorOf(request);
      if (parsed.value.ip === stateOf(request).ip) return html(BlockForm({ errors: { ip: "that is your own address" } }), 422);
      await env.security.block(parsed.value.ip, parsed.value.reason || `blocked by ${actor.username}`, parsed.value.minutes, actor.username);
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: actor.userId, actor: actor.username, action: "security.block", target: `ip:${parsed.value.ip}`, ip: actor.ip, details: { minutes: parsed.value.minutes } });
      return html(BlockForm({ done: `${parsed.value.ip} blocked.` }), 201, { "hx-refresh": "true" });
    }, access("admin", "Block an address (panel)"))
    .post("/security/blocks/:ip/lift", async ({ request, params }) => {
      const ip = params.ip; // Elysia has decoded it already
      if (!parseIp(ip)) throw invalid({ ip: "an IPv4 or IPv6 address" });
      const actor = actorOf(request);
      if (!(await env.security.lift(ip, actor.username))) throw new HttpError(404, "NOT_FOUND", "no active block for that address");
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: actor.userId, actor: actor.username, action: "security.unblock", target: `ip:${ip}`, ip: actor.ip });
      const row = (await recentIpBlocks(ctx.sql, 500)).find((b) => b.ip === ip);
      return html(row ? BlockRow({ b: row, now: env.now() }) : "");
    }, access("admin", "Lift an IP block (panel)"))
    .get("/system", async ({ request }) => {
      const info = await systemInfo(env);
      const { value: nodes, banner } = await readOr(env, [], () => listNodes(ctx.sql));
      return html(SystemPage({ info, nodes, user: pageUser(request), nodeId: ctx.nodeId, banner, now: env.now() }));
    }, access("viewer", "System status"));
}
