/**
 * The Elysia app: health endpoints, static assets from the binary, and the pages. Feature plugins (auth, api,
 * sse, metrics) attach here. Routes are tested in-process with app.handle(new Request(...)).
 */
import { Elysia } from "elysia";
import type { Sql } from "../db/client.ts";
import { ping } from "../db/client.ts";
import { migrationStatus } from "../db/migrate.ts";
import { listModems } from "../db/queries/modems.ts";
import { ASSETS } from "../../views/static/assets.ts";
import { ModemsPage } from "../../views/pages/modems.tsx";
import { VERSION, COMMIT } from "../version.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("http");

export interface HttpContext {
  sql: Sql;
  nodeId: string;
}

export interface ReadyReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Readiness: the database answers and every migration is applied. */
export async function readiness(sql: Sql): Promise<ReadyReport> {
  const checks: ReadyReport["checks"] = {};
  const dbOk = await ping(sql);
  checks.database = { ok: dbOk, detail: dbOk ? undefined : "unreachable" };
  if (dbOk) {
    try {
      const s = await migrationStatus(sql);
      const ok = s.pending.length === 0 && s.modified.length === 0 && s.unknown.length === 0;
      checks.migrations = { ok, detail: ok ? `${s.applied.length} applied` : `${s.pending.length} pending, ${s.modified.length} modified` };
    } catch (error) {
      checks.migrations = { ok: false, detail: (error as Error).message };
    }
  } else {
    checks.migrations = { ok: false, detail: "database unreachable" };
  }
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

export function createHttpApp(ctx: HttpContext) {
  return new Elysia()
    .onAfterHandle(({ set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
    })
    .onError(({ code, set, error }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
      if (code === "NOT_FOUND") {
        set.status = 404;
        return { error: { code: "NOT_FOUND", message: "no such route" } };
      }
      if (code === "VALIDATION" || code === "PARSE") {
        set.status = code === "PARSE" ? 400 : 422;
        return { error: { code, message: "invalid request" } };
      }
      set.status = 500;
      log.error({ err: (error as Error)?.message, code }, "unhandled request error");
      return { error: { code: "INTERNAL", message: "internal error" } };
    })
    .get("/healthz", () => ({ ok: true, version: VERSION, commit: COMMIT }))
    .get("/readyz", async ({ set }) => {
      const report = await readiness(ctx.sql);
      if (!report.ok) set.status = 503;
      return report;
    })
    .get("/static/:name", ({ params, set }) => {
      const asset = ASSETS[params.name];
      if (!asset) {
        set.status = 404;
        return "not found";
      }
      set.headers["content-type"] = asset.type;
      set.headers["cache-control"] = "public, max-age=3600";
      return asset.body;
    })
    .get("/", async ({ set }) => {
      set.headers["content-type"] = "text/html; charset=utf-8";
      let banner: string | undefined;
      let modems: Awaited<ReturnType<typeof listModems>> = [];
      try {
        modems = await listModems(ctx.sql, ctx.nodeId);
      } catch {
        banner = "Database unreachable: showing no data. Modems and proxies keep running.";
      }
      return ModemsPage({ modems, nodeId: ctx.nodeId, banner });
    });
}
