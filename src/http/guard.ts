/**
 * The one guard every request passes. Before routing: IP blocks and CORS preflights. After routing, for the
 * matched route's declared access level (route-policy.ts): authentication (API key or session), CSRF for
 * state-changing cookie requests, the role check, read-only mode while PostgreSQL is down, and the sliding
 * session refresh. Refusals become security_events (forbidden, csrf_rejected, api_key_invalid).
 */
import { Elysia } from "elysia";
import { timingSafeEqual } from "node:crypto";
import type { HttpEnv } from "./env.ts";
import { HttpError, forbidden, unauthorized } from "./errors.ts";
import { stateOf } from "./request-state.ts";
import { clientIpOf } from "./client-ip.ts";
import { csrfProblem, isUnsafeMethod } from "./auth/csrf.ts";
import { roleAllows } from "./auth/roles.ts";
import { isHttps } from "./auth/session.ts";
import { ipAllowed } from "./ip-match.ts";

function corsHeaders(env: HttpEnv, request: Request): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin || !env.ctx.config.http.cors_origins.includes(origin)) return {};
  // Never Allow-Credentials: cross-origin callers use API keys, never the session cookie.
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
    "access-control-allow-headers": "authorization, content-type",
    "access-control-max-age": "600",
    vary: "Origin",
  };
}

function tokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** /metrics: a bearer token (when configured) or a client address in metrics.allow. */
function checkMetricsAccess(env: HttpEnv, request: Request, ip: string | null): void {
  const { token, allow } = env.ctx.config.metrics;
  const authz = request.headers.get("authorization");
  if (authz !== null) {
    const m = /^Bearer\s+(\S+)$/i.exec(authz.trim());
    if (token && m && tokenMatches(m[1]!, token)) return;
    throw new HttpError(401, "UNAUTHENTICATED", "invalid metrics token", undefined, { "www-authenticate": 'Bearer realm="metrics"' });
  }
  if (ipAllowed(ip, allow)) return;
  throw new HttpError(401, "UNAUTHENTICATED", "metrics need a bearer token or an allowed address", undefined, { "www-authenticate": 'Bearer realm="metrics"' });
}

export function guardPlugin(env: HttpEnv) {
  return new Elysia({ name: "guard" })
    .onRequest(({ request, server, set }) => {
      const state = stateOf(request);
      state.ip = clientIpOf(env.ctx, request, server as never);
      if (env.security.isBlocked(state.ip) && new URL(request.url).pathname !== "/healthz") {
        return new Response(JSON.stringify({ error: { code: "IP_BLOCKED", message: "this address is blocked for a while after repeated failures" } }), {
          status: 403,
          headers: { "content-type": "application/json", "x-content-type-options": "nosniff" },
        });
      }
      const cors = corsHeaders(env, request);
      if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
      Object.assign(set.headers, cors);
    })
    .onBeforeHandle({ as: "global" }, async ({ request, route, set }) => {
      const meta = env.policy.lookup(request.method, route);
      if (!meta) throw new HttpError(403, "ROUTE_POLICY_MISSING", "this route declares no access policy");
      const state = stateOf(request);
      const access = meta["x-role"];
      const unsafe = isUnsafeMethod(request.method);
      const bearer = request.headers.has("authorization");
      if (access === "metrics") return checkMetricsAccess(env, request, state.ip);
      if (access === "public") {
        if (unsafe && !bearer && meta["x-csrf"] !== false) {
          const problem = csrfProblem(request, { htmx: meta["x-csrf"] !== "origin" });
          if (problem) {
            await env.security.record("csrf_rejected", { ip: state.ip, details: { path: route, problem } });
            throw new HttpError(403, "CSRF_REJECTED", "cross-site request refused");
          }
        }
        return;
      }
      const result = await env.auth.authenticate(request);
      if (result.badKey) {
        await env.security.record("api_key_invalid", { ip: state.ip, details: { path: route } });
        throw new HttpError(401, "UNAUTHENTICATED", "invalid API key", undefined, { "www-authenticate": "Bearer" });
      }
      const p = result.principal;
      if (!p) throw unauthorized();
      state.principal = p;
      if (unsafe && p.via === "session") {
        const problem = csrfProblem(request);
        if (problem) {
          await env.security.record("csrf_rejected", { ip: state.ip, username: p.username, details: { path: route, problem } });
          throw new HttpError(403, "CSRF_REJECTED", "cross-site request refused");
        }
      }
      if (!roleAllows(p.role, access)) {
        await env.security.record("forbidden", { ip: state.ip, username: p.username, details: { method: request.method, path: route, role: p.role, need: access } });
        throw forbidden(`this needs the ${access} role`);
      }
      if (unsafe && !env.ctx.db.healthy() && route !== "/logout") {
        throw new HttpError(503, "DB_UNAVAILABLE", "the database is unreachable: the panel is read-only until it is back");
      }
      if (result.claims && env.sessions.needsRefresh(result.claims)) {
        try {
          set.headers["set-cookie"] = await env.sessions.issue(p.userId, result.claims.ep, isHttps(request));
        } catch {
          // refresh is best effort (DB down while loading keys): the current cookie stays valid until it expires
        }
      }
    });
}
