/**
 * Login, logout, session keep-alive and the own-account page. Unknown users, wrong passwords and disabled
 * accounts get the same message and take the same time; lockouts look the same for real and unknown usernames.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { html, isHtmx } from "../respond.ts";
import { stateOf, principalOf } from "../request-state.ts";
import { checkInput } from "../validation.ts";
import { burnVerification, hashPassword, PASSWORD_MAX, PASSWORD_MIN, verifyPassword } from "../auth/passwords.ts";
import { clearSessionCookie, isHttps } from "../auth/session.ts";
import { bumpSessionEpoch, findUserById, findUserByName, recordLoginFailure, recordLoginSuccess, updateUser } from "../../db/queries/users.ts";
import { writeAudit } from "../../db/queries/audit.ts";
import { LoginError, LoginPage } from "../../../views/pages/login.tsx";
import { AccountPage, PasswordForm } from "../../../views/pages/account.tsx";

export const LOGIN_FAILED = "Invalid username or password.";
export const LOGIN_LOCKED = "Too many failed attempts. Try again later.";

const LoginBody = v.object({
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(PASSWORD_MAX)),
  next: v.optional(v.string()),
});

const PasswordBody = v.pipe(
  v.object({
    current: v.pipe(v.string("required"), v.minLength(1, "required"), v.maxLength(PASSWORD_MAX)),
    password: v.pipe(v.string("required"), v.minLength(PASSWORD_MIN, `at least ${PASSWORD_MIN} characters`), v.maxLength(PASSWORD_MAX, `at most ${PASSWORD_MAX} characters`)),
    repeat: v.string("required"),
  }),
  v.forward(v.check((b) => b.password === b.repeat, "the passwords differ"), ["repeat"]),
);

/** Only same-site paths: `next` must never send a freshly logged-in user to another origin. */
export function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])[\x21-\x7e]{0,500}$/.test(next) && !next.startsWith("/login") ? next : "/";
}

export function authRoutesPlugin(env: HttpEnv) {
  const { ctx, security } = env;
  /**
   * htmx swaps the message into #login-error; a plain form post (no JavaScript) gets the whole page again, with
   * the message and the `next` it came with.
   */
  const failFor = (request: Request, body: unknown) => (message: string, status: number) =>
    isHtmx(request)
      ? html(LoginError({ message }), status)
      : html(LoginPage({ message, next: safeNext((body as Record<string, unknown> | null)?.next) }), status);

  return new Elysia({ name: "auth-routes" })
    .get("/login", async ({ request, query }) => {
      const next = safeNext((query as Record<string, unknown>).next);
      const existing = await env.auth.authenticate(request).catch(() => null);
      if (existing?.principal && existing.principal.via === "session") return new Response(null, { status: 303, headers: { location: next } });
      return html(LoginPage({ next }));
    }, access("public", "Login page"))
    .post("/login", async ({ request, body }) => {
      const ip = stateOf(request).ip;
      const fail = failFor(request, body);
      const parsed = checkInput(LoginBody, body);
      if (!parsed.ok) return fail(LOGIN_FAILED, 401);
      const { username, password } = parsed.value;
      if (!security.allowLoginAttempt(ip)) {
        await security.record("rate_limited", { ip, username, details: { what: "login" } });
        return fail(LOGIN_LOCKED, 429);
      }
      const user = await findUserByName(ctx.sql, username);
      if (!user) {
        await burnVerification(password);
        const locked = security.unknownUserLocked(username);
        security.unknownUserFailed(username);
        await security.record(locked ? "login_locked" : "login_failed", { ip, username, details: { reason: "unknown user" } });
        return locked ? fail(LOGIN_LOCKED, 429) : fail(LOGIN_FAILED, 401);
      }
      if (user.locked_until && new Date(user.locked_until).getTime() > env.now()) {
        await burnVerification(password);
        await security.record("login_locked", { ip, username });
        return fail(LOGIN_LOCKED, 429);
      }
      const ok = await verifyPassword(password, user.password_hash);
      if (!ok || user.disabled) {
        const settings = await security.currentSettings();
        const r = ok ? { lockedNow: false, failures: user.failed_logins } : await recordLoginFailure(ctx.sql, user.id, { lockAfter: ctx.config.auth.lockout_attempts, lockMinutes: settings["security.login_lock_minutes"] });
        await security.record("login_failed", { ip, username, details: { reason: ok ? "disabled" : "wrong password", failures: r.failures } });
        if (r.lockedNow) await security.record("account_locked", { ip, username, details: { failures: r.failures, minutes: settings["security.login_lock_minutes"] } });
        return fail(LOGIN_FAILED, 401);
      }
      await recordLoginSuccess(ctx.sql, user.id);
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: user.id, actor: user.username, action: "auth.login", ip });
      const cookie = await env.sessions.issue(user.id, user.session_epoch, isHttps(request));
      const target = user.must_change_password ? "/account" : safeNext((body as Record<string, unknown>)?.next);
      if (!isHtmx(request)) return new Response(null, { status: 303, headers: { "set-cookie": cookie, location: target } });
      return new Response(null, { status: 204, headers: { "set-cookie": cookie, "hx-redirect": target } });
    }, access("public", "Log in (htmx, or a plain same-origin form post without JavaScript)", { "x-csrf": "origin" }))
    .post("/logout", async ({ request }) => {
      const p = principalOf(request);
      // Ends every session of this user: a stolen copy of the cookie dies with the logout.
      if (p.via === "session") await bumpSessionEpoch(ctx.sql, p.userId).catch(() => undefined);
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: p.userId, actor: p.username, action: "auth.logout", ip: stateOf(request).ip }).catch(() => undefined);
      return new Response(null, { status: 204, headers: { "set-cookie": clearSessionCookie(isHttps(request)), "hx-redirect": "/login" } });
    }, access("viewer", "Log out (ends all of the user's sessions)"))
    .get("/auth/ping", () => new Response(null, { status: 204 }), access("viewer", "Session keep-alive (sliding refresh)"))
    .get("/account", ({ request }) => {
      const p = principalOf(request);
      return html(AccountPage({ user: p, mustChange: p.mustChangePassword, nodeId: ctx.nodeId }));
    }, access("viewer", "Own account"))
    .post("/account/password", async ({ request, body }) => {
      const p = principalOf(request);
      const parsed = checkInput(PasswordBody, body);
      if (!parsed.ok) return html(PasswordForm({ errors: parsed.fields }), 422);
      const user = await findUserById(ctx.sql, p.userId);
      if (!user || !(await verifyPassword(parsed.value.current, user.password_hash))) {
        await security.record("login_failed", { ip: stateOf(request).ip, username: p.username, details: { reason: "wrong current password" } });
        return html(PasswordForm({ errors: { current: "wrong password" } }), 422);
      }
      const updated = await updateUser(ctx.sql, p.userId, { passwordHash: await hashPassword(parsed.value.password), mustChangePassword: false });
      await writeAudit(ctx.sql, { nodeId: ctx.nodeId, userId: p.userId, actor: p.username, action: "user.password.change", target: p.username, ip: stateOf(request).ip });
      // The epoch moved on: give this browser a new cookie so only the other sessions end.
      const cookie = await env.sessions.issue(p.userId, updated!.session_epoch, isHttps(request));
      return html(PasswordForm({ done: true }), 200, { "set-cookie": cookie });
    }, access("viewer", "Change own password"));
}
