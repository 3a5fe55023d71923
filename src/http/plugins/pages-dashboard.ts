/** The dashboard: every modem on one screen, the filter fragment, and live rows via /sse/dashboard. */
import { Elysia } from "elysia";
import * as v from "valibot";
import type { HttpEnv } from "../env.ts";
import { access } from "../route-policy.ts";
import { html } from "../respond.ts";
import { parseInput, queryText } from "../validation.ts";
import { dashboardRows, modemCounters, countStates, type Counters, type DashboardRow } from "../queries/modem-rows.ts";
import { lastEventSeq } from "../../db/queries/events.ts";
import { nodeIds, pageUser, readOr } from "../page-context.ts";
import { DashboardPage } from "../../../views/pages/dashboard.tsx";
import { ModemTableBody } from "../../../views/partials/modem-row.tsx";

const FilterQuery = v.object({
  q: queryText(64),
  state: v.optional(v.picklist(["", "online", "degraded", "offline", "failed"], "one of online, degraded, offline, failed")),
  node: queryText(40),
});

export function dashboardPagesPlugin(env: HttpEnv) {
  const { ctx } = env;
  const opts = () => ({ sinr: env.render.sinr, now: env.now() });
  const filterOf = (query: unknown) => {
    const f = parseInput(FilterQuery, query, "filter");
    return { q: f.q, state: f.state || undefined, node: f.node };
  };

  return new Elysia({ name: "pages-dashboard" })
    .get("/", async ({ request, query }) => {
      const filter = filterOf(query);
      const empty = { rows: [] as DashboardRow[], counters: countStates([]) as Counters, afterSeq: 0 };
      const { value, banner } = await readOr(env, empty, async () => {
        // The sequence first, then the rows: the live stream replays anything committed in between.
        const afterSeq = await lastEventSeq(ctx.sql);
        const [rows, counters] = await Promise.all([
          dashboardRows(ctx.sql, { q: filter.q, state: filter.state, nodeId: filter.node }),
          modemCounters(ctx.sql, filter.node ?? null),
        ]);
        return { rows, counters, afterSeq };
      });
      return html(DashboardPage({ ...value, filter, nodes: await nodeIds(env), opts: opts(), user: pageUser(request), nodeId: ctx.nodeId, banner }));
    }, access("viewer", "Dashboard"))
    .get("/fragments/modems", async ({ query }) => {
      const filter = filterOf(query);
      const rows = await dashboardRows(ctx.sql, { q: filter.q, state: filter.state, nodeId: filter.node });
      const params = new URLSearchParams();
      for (const [k, val] of Object.entries(filter)) if (val) params.set(k, val);
      const url = params.size ? `/?${params}` : "/";
      return html(ModemTableBody({ rows, opts: opts() }), 200, { "hx-replace-url": url });
    }, access("viewer", "Dashboard table body for the filter form"));
}
