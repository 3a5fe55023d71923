/** /api/v1 admin routes: users, API keys, settings, IP blocks, security events, audit log. */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { HttpError, invalid } from "../errors.ts";
import { actorOf, stateOf } from "../request-state.ts";
import { parseInput, queryInt, queryText, IdParam } from "../validation.ts";
import { createKeyOp, createUserOp, deleteUserOp, NewKeyBody, NewUserBody, resetPasswordOp, revokeKeyOp, updateUserOp, UserPatchBody } from "../services/user-admin.ts";
import { listUsers } from "../../db/queries/users.ts";
import { listApiKeys } from "../../db/queries/api-keys.ts";
import { listAudit, writeAudit } from "../../db/queries/audit.ts";
import { activeIpBlocks, listSecurityEvents } from "../../db/queries/security.ts";
import { getSettings, putSettings } from "../../db/queries/settings.ts";
import { BlockBody, settingsFromForm } from "./pages-admin.ts";
import { parseIp } from "../ip-match.ts";

const jsonBody = (properties: Record<string, unknown>, required: string[] = []) => ({
  requestBody: { required: required.length > 0, content: { "application/json": { schema: { type: "object", properties, required } } } },
});

export function apiAdminPlugin(env: HttpEnv) {
  const { ctx } = env;
  const id = (params: { id: string }, what = "id") => parseInput(IdParam, params.id, what);

  return new Elysia({ name: "api-admin", prefix: "/api/v1" })
    .get("/users", () => listUsers(ctx.sql), access("admin", "List users", { tags: ["users"] }))
    .post("/users", async ({ request, body, set }) => {
      const r = await createUserOp(env, actorOf(request), parseInput(NewUserBody, body, "body"));
      set.status = 201;
      return { user: r.user, ...(r.password ? { password: r.password } : {}) };
    }, access("admin", "Create a user (a generated one-time password is returned once)", { tags: ["users"], ...jsonBody({ username: { type: "string" }, role: { enum: ["admin", "technician", "viewer"] }, password: { type: "string", minLength: 10 } }, ["username", "role"]) }))
    .patch("/users/:id", async ({ request, params, body }) => updateUserOp(env, actorOf(request), id(params, "user id"), parseInput(UserPatchBody, body, "body")),
      access("admin", "Change role, disabled, password or lock", { tags: ["users"], ...jsonBody({ role: { enum: ["admin", "technician", "viewer"] }, disabled: { type: "boolean" }, password: { type: "string" }, unlock: { type: "boolean" } }) }))
    .post("/users/:id/reset-password", async ({ request, params }) => resetPasswordOp(env, actorOf(request), id(params, "user id")),
      access("admin", "Reset to a generated one-time password (returned once)", { tags: ["users"] }))
    .delete("/users/:id", async ({ request, params }) => {
      await deleteUserOp(env, actorOf(request), id(params, "user id"));
      return new Response(null, { status: 204 });
    }, access("admin", "Delete a user", { tags: ["users"] }))
    .get("/keys", () => listApiKeys(ctx.sql), access("admin", "List API keys (never the keys themselves)", { tags: ["users"] }))
    .post("/keys", async ({ request, body, set }) => {
      const r = await createKeyOp(env, actorOf(request), parseInput(NewKeyBody, body, "body"));
      set.status = 201;
      return { key: r.key, info: r.info };
    }, access("admin", "Create an API key (returned once)", { tags: ["users"], ...jsonBody({ name: { type: "string" }, userId: { type: "integer" }, role: { enum: ["admin", "technician", "viewer"] } }, ["name"]) }))
    .delete("/keys/:id", async ({ request, params }) => {
      await revokeKeyOp(env, actorOf(request), id(params, "key id"));
      return new Response(null, { status: 204 });
    }, access("admin", "Revoke an API key", { tags: ["users"] }))
    .put("/settings", async ({ request, body }) => {
      const r = settingsFromForm(body);
      if (!r.ok) throw invalid(r.fields, "invalid settings");
      const actor = actorOf(request);
      await putSettings(ctx.sql, r.value, actor.username);
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: actor.userId, actor: actor.username, action: "settings.update", ip: actor.ip, details: r.value as Record<string, unknown> });
      return getSettings(ctx.sql, ctx.nodeId);
    }, access("admin", "Change settings (fleet-wide)", { tags: ["settings"] }))
    .get("/security/blocks", () => activeIpBlocks(ctx.sql), access("admin", "Active IP blocks", { tags: ["security"] }))
    .post("/security/blocks", async ({ request, body, set }) => {
      const b = parseInput(BlockBody, body, "body");
      const actor = actorOf(request);
      if (b.ip === stateOf(request).ip) throw invalid({ ip: "that is your own address" });
      await env.security.block(b.ip, b.reason || `blocked by ${actor.username}`, b.minutes, actor.username);
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: actor.userId, actor: actor.username, action: "security.block", target: `ip:${b.ip}`, ip: actor.ip, details: { minutes: b.minutes } });
      set.status = 201;
      return { ip: b.ip, minutes: b.minutes };
    }, access("admin", "Block an address", { tags: ["security"], ...jsonBody({ ip: { type: "string" }, minutes: { type: "integer" }, reason: { type: "string" } }, ["ip", "minutes"]) }))
    .delete("/security/blocks/:ip", async ({ request, params }) => {
      const ip = params.ip; // Elysia has decoded it already
      if (!parseIp(ip)) throw invalid({ ip: "an IPv4 or IPv6 address" });
      const actor = actorOf(request);
      if (!(await env.security.lift(ip, actor.username))) throw new HttpError(404, "NOT_FOUND", "no active block for that address");
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: actor.userId, actor: actor.username, action: "security.unblock", target: `ip:${ip}`, ip: actor.ip });
      return new Response(null, { status: 204 });
    }, access("admin", "Lift an IP block", { tags: ["security"] }))
    .get("/security/events", async ({ query }) => {
      const q = parseInput(v.object({ kind: queryText(40), before: queryInt(1, Number.MAX_SAFE_INTEGER), limit: queryInt(1, 1000) }), query, "query");
      return listSecurityEvents(ctx.sql, { kind: q.kind, beforeId: q.before, limit: q.limit ?? 100 });
    }, access("admin", "Security events (failed logins, lockouts, forbidden, blocks)", { tags: ["security"] }))
    .get("/audit", async ({ query }) => {
      const q = parseInput(v.object({ action: queryText(64), actor: queryText(64), before: queryInt(1, Number.MAX_SAFE_INTEGER), limit: queryInt(1, 1000) }), query, "query");
      return listAudit(ctx.sql, { action: q.action, actor: q.actor, beforeId: q.before, limit: q.limit ?? 100 });
    }, access("admin", "Audit log", { tags: ["security"] }));
}
