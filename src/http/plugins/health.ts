/** Public, unauthenticated: liveness, readiness and the embedded static assets. */
import { Elysia } from "elysia";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import type { Sql } from "../../db/client.ts";
import { ping } from "../../db/client.ts";
import { migrationStatus } from "../../db/migrate.ts";
import { ASSETS } from "../../../views/static/assets.ts";
import { VERSION, COMMIT } from "../../version.ts";
import { notFound } from "../errors.ts";

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

export function healthPlugin(env: HttpEnv) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ ok: true, version: VERSION, commit: COMMIT }), access("public", "Liveness"))
    .get("/readyz", async ({ set }) => {
      const report = await readiness(env.ctx.sql);
      if (!report.ok) set.status = 503;
      return report;
    }, access("public", "Readiness: database reachable, migrations applied"))
    .get("/static/:name", ({ params, request }) => {
      const asset = ASSETS[params.name];
      if (!asset) throw notFound("asset");
      const headers = { "content-type": asset.type, "cache-control": "public, max-age=3600", etag: asset.etag };
      if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
      return new Response(asset.body, { headers });
    }, access("public", "Embedded static assets"));
}
