/**
 * The Elysia app: one guard for every route, then one plugin per feature (health/static, auth, pages, API, SSE,
 * metrics). Routes are tested in-process with app.handle(new Request(...)). The app.ts wiring calls
 * createHttpApp(ctx) and listens; ensureAdmin(sql, config) runs once at start.
 */
import { Elysia } from "elysia";
import { sinrDb } from "../modem/parsers/serving-cell.ts";
import { childLogger } from "../lib/logger.ts";
import type { HttpContext } from "./context.ts";
import type { HttpEnv } from "./env.ts";
import { HttpError, notFound, toHttpError } from "./errors.ts";
import { parseBody } from "./body-parser.ts";
import { stateOf } from "./request-state.ts";
import { html, isHtmx, json, securityHeaders } from "./respond.ts";
import { RoutePolicy } from "./route-policy.ts";
import { guardPlugin } from "./guard.ts";
import { JwtKeyRing } from "./auth/jwt-keys.ts";
import { Sessions } from "./auth/session.ts";
import { Authenticator } from "./auth/principal.ts";
import { SecurityMonitor } from "./auth/security-monitor.ts";
import { SseBroker } from "./sse-broker.ts";
import { LiveFeeds } from "./live/live-feeds.ts";
import { MetricsRegistry } from "./metrics-registry.ts";
import { healthPlugin } from "./plugins/health.ts";
import { authRoutesPlugin } from "./plugins/auth-routes.ts";
import { dashboardPagesPlugin } from "./plugins/pages-dashboard.ts";
import { modemPagesPlugin } from "./plugins/pages-modem.ts";
import { opsPagesPlugin } from "./plugins/pages-ops.ts";
import { adminPagesPlugin } from "./plugins/pages-admin.ts";
import { ssePlugin } from "./plugins/sse.ts";
import { apiModemsPlugin } from "./plugins/api-modems.ts";
import { apiFleetPlugin } from "./plugins/api-fleet.ts";
import { apiAdminPlugin } from "./plugins/api-admin.ts";
import { openApiPlugin } from "./plugins/openapi.ts";
import { metricsPlugin, registerHttpMetrics } from "./plugins/metrics.ts";
import { ErrorNotice, ErrorPage } from "../../views/layout.tsx";

const log = childLogger("http");

export type { HttpContext } from "./context.ts";

export { readiness, type ReadyReport } from "./plugins/health.ts";

/** JSON for API clients and streams, fragments for htmx, pages (or the login redirect) for browsers. */
function wantsJson(request: Request, path: string): boolean {
  if (path.startsWith("/api/") || path === "/metrics" || path.startsWith("/sse/")) return true;
  const accept = request.headers.get("accept") ?? "";
  return !isHtmx(request) && !accept.includes("text/html") && accept.includes("application/json");
}

export function errorResponse(request: Request, err: HttpError): Response {
  const url = new URL(request.url);
  const headers = { ...securityHeaders(request), ...(err.headers ?? {}) };
  if (wantsJson(request, url.pathname)) return json(err.body(), err.status, headers);
  if (isHtmx(request)) {
    if (err.status === 401) return html("", 401, { ...headers, "hx-redirect": `/login?next=${encodeURIComponent(url.pathname)}` });
    // htmx 4 swaps error responses: send them to the flash area instead of the request's target.
    return html(ErrorNotice({ status: err.status, message: err.message }), err.status, { ...headers, "hx-retarget": "#flash", "hx-reswap": "innerHTML" });
  }
  if (err.status === 401 && request.method === "GET") {
    return new Response(null, { status: 303, headers: { ...headers, location: `/login?next=${encodeURIComponent(url.pathname + url.search)}` } });
  }
  return html(ErrorPage({ status: err.status, message: err.message }), err.status, headers);
}

/** Builds the shared services from the context. */
export function createHttpEnv(ctx: HttpContext, routes: () => Array<{ method: string; path: string; hooks?: { detail?: unknown } }>): HttpEnv {
  const now = ctx.now ?? Date.now;
  const keys = new JwtKeyRing(ctx.sql, { lifetimeMinutes: ctx.config.auth.session_minutes, initialSecret: ctx.config.auth.jwt_secret, now });
  const sessions = new Sessions(keys, ctx.config.auth.session_minutes, now);
  const metrics = ctx.metrics ?? new MetricsRegistry();
  const broker = new SseBroker({
    onDrop: () => metrics.counter("lteproxy_sse_clients_dropped_total", "SSE clients dropped because they could not keep up").inc(),
  });
  const scale = ctx.sinrScale ?? "db";
  const render = { sinr: (raw: number | null) => sinrDb(raw, scale) };
  return {
    ctx,
    keys,
    sessions,
    auth: new Authenticator(ctx.sql, sessions),
    security: new SecurityMonitor(ctx.sql, { nodeId: ctx.nodeId, lockAfter: ctx.config.auth.lockout_attempts, now }),
    policy: new RoutePolicy(routes),
    broker,
    feeds: new LiveFeeds(ctx, broker, metrics, render),
    metrics,
    render,
    now,
  };
}

/**
 * The HTTP application. Call `.listen({ hostname, port, tls })` on it; `.stop()` closes SSE clients too.
 * Export kept as `createHttpApp` (app.ts imports it).
 */
export function createHttpApp(ctx: HttpContext) {
  // The policy reads the final route table lazily (first request), after every plugin is registered.
  let appRef: { routes: Array<{ method: string; path: string; hooks?: { detail?: unknown } }> } | null = null;
  const env = createHttpEnv(ctx, () => appRef?.routes ?? []);
  registerHttpMetrics(env);
  env.feeds.start();

  const app = new Elysia()
    .decorate("env", env)
    .onParse(({ request, contentType }) => parseBody(request, contentType))
    .onAfterHandle({ as: "global" }, ({ request, set }) => {
      Object.assign(set.headers, securityHeaders(request));
    })
    .onError({ as: "global" }, ({ code, error, request, set }) => {
      let err: HttpError | null;
      if (code === "NOT_FOUND") err = notFound("route");
      else if (code === "PARSE") err = new HttpError(400, "INVALID_BODY", "the request body could not be parsed");
      else if (code === "VALIDATION") err = new HttpError(422, "VALIDATION_FAILED", "invalid request");
      else err = toHttpError(error);
      if (!err) {
        log.error({ err: (error as Error)?.message, stack: (error as Error)?.stack, code, path: new URL(request.url).pathname }, "unhandled request error");
        err = new HttpError(500, "INTERNAL", "internal error (see the server log)");
      }
      set.status = err.status;
      return errorResponse(request, err);
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      try {
        const status = typeof set.status === "number" ? set.status : 200;
        const name = route || "unmatched";
        const seconds = (performance.now() - stateOf(request).startedAt) / 1000;
        env.metrics.counter("lteproxy_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"])
          .inc({ method: request.method, route: name, status: String(status) });
        if (!name.startsWith("/sse/")) {
          env.metrics.histogram("lteproxy_http_request_duration_seconds", "HTTP request duration (SSE streams excluded)", ["route"])
            .observe({ route: name }, seconds);
        }
      } catch (error) {
        log.debug({ err: (error as Error).message }, "request metrics failed");
      }
    })
    .onStop(() => {
      env.feeds.stop();
      env.broker.close();
    })
    .use(guardPlugin(env))
    .use(healthPlugin(env))
    .use(authRoutesPlugin(env))
    .use(dashboardPagesPlugin(env))
    .use(modemPagesPlugin(env))
    .use(opsPagesPlugin(env))
    .use(adminPagesPlugin(env))
    .use(ssePlugin(env))
    .use(apiModemsPlugin(env))
    .use(apiFleetPlugin(env))
    .use(apiAdminPlugin(env))
    .use(openApiPlugin(env))
    .use(metricsPlugin(env));
  appRef = app;
  return app;
}

export type HttpApp = ReturnType<typeof createHttpApp>;

/** Closes SSE clients, detaches from the event stream and stops listening (when it was). Idempotent. */
export async function stopHttpApp(app: HttpApp): Promise<void> {
  const env = app.decorator.env;
  env.feeds.stop();
  env.broker.close();
  if (app.server) await app.stop(true).catch(() => undefined);
}
