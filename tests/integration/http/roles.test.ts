/**
 * The role × route walk: every route of the app (read from the app's own route table) is requested anonymously
 * and as viewer, technician and admin, both with a session cookie and with an API key. A route allows exactly the
 * roles its declaration says: lower roles get 403, anonymous callers 401 (or the login redirect), and a route
 * without a declaration would be refused outright (and fail this test).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshIp, login, makeHarness, PASSWORDS, request, seedModems, type Harness } from "./harness.ts";
import type { Role } from "../../../src/http/context.ts";
import { roleAllows } from "../../../src/http/auth/roles.ts";
import { createUser } from "../../../src/db/queries/users.ts";
import { createApiKey } from "../../../src/http/auth/api-keys.ts";
import { openAlert } from "../../../src/db/queries/alerts.ts";

let h: Harness;
let modemId: number;
beforeAll(async () => {
  h = await makeHarness();
  [modemId] = await seedModems(h.db, 2);
  // The walk provokes hundreds of 403s from one address: keep the repeat-offender block out of the way.
  await h.db.sql`insert into settings (node_id, key, value) values ('', 'security.ip_block_threshold', '10000')`;
});
afterAll(async () => {
  await h.close();
});

async function fixtures() {
  const u = await createUser(h.db.sql, { username: `disposable${Math.random().toString(36).slice(2, 8)}`, role: "viewer", passwordHash: "x" });
  const k = await createApiKey(h.db.sql, { userId: u!.id, name: "disposable" });
  const a = await openAlert(h.db.sql, { nodeId: "n1", kind: "test", severity: "warning", scope: "modem", modemId, dedupKey: `t-${Math.random()}`, message: "x" });
  return { userId: u!.id, keyId: k.info.id, alertId: a.id };
}

function fill(path: string, f: { userId: number; keyId: number; alertId: number }): string {
  return path
    .replace(/^(\/api\/v1)?\/(sse\/)?modems\/:id/, (_m, api, sse) => `${api ?? ""}/${sse ?? ""}modems/${modemId}`)
    .replace(/^(\/api\/v1)?\/alerts\/:id/, (_m, api) => `${api ?? ""}/alerts/${f.alertId}`)
    .replace(/^(\/api\/v1)?\/users\/:id/, (_m, api) => `${api ?? ""}/users/${f.userId}`)
    .replace(/^(\/api\/v1)?\/keys\/:id/, (_m, api) => `${api ?? ""}/keys/${f.keyId}`)
    .replace(":action", "reconnect")
    .replace(":jobId", "00000000-0000-4000-8000-000000000001")
    .replace("/jobs/:id", "/jobs/health-sweep")
    .replace(":token", "AAAAAAAAAAAAAAAAAAAAAAAA")
    .replace(":ip", "192.0.2.1")
    .replace(":name", "app.css");
}

async function call(method: string, path: string, auth: { cookie?: string; bearer?: string }, ip: string): Promise<number> {
  const unsafe = !["GET", "HEAD"].includes(method);
  const res = await request(h.app, method, path, {
    ...auth,
    ip,
    htmx: !!auth.cookie || (!auth.bearer && unsafe),
    ...(unsafe ? (path.startsWith("/api/") ? { json: {} } : { form: {} }) : {}),
  });
  await res.body?.cancel().catch(() => undefined); // SSE streams stay open otherwise
  return res.status;
}

describe("role × route", () => {
  test("every route declares an access level", () => {
    const routes = h.app.decorator.env.policy.list();
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes.filter((r) => !r.meta).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test("each role gets exactly the routes it is allowed, by cookie and by API key", async () => {
    const routes = h.app.decorator.env.policy.list().sort((a, b) => Number(a.path === "/logout") - Number(b.path === "/logout"));
    const problems: string[] = [];
    let requests = 0;
    for (const who of ["anonymous", "viewer", "technician", "admin"] as const) {
      const ip = freshIp();
      const cookie = who === "anonymous" ? undefined : (await login(h.app, who, PASSWORDS[who as Role], ip)).cookie!;
      const key = who === "anonymous" ? undefined : (await createApiKey(h.db.sql, { userId: h.userIds[who as Role], name: `walk-${who}` })).key;
      for (const r of routes) {
        const access = r.meta!["x-role"];
        for (const auth of who === "anonymous" ? [{}] : [{ cookie }, { bearer: key }]) {
          const f = /:(id|ip)\b/.test(r.path) ? await fixtures() : { userId: 0, keyId: 0, alertId: 0 };
          const path = fill(r.path, f);
          const status = await call(r.method, path, auth, ip);
          requests++;
          const label = `${who}${"bearer" in auth ? " (key)" : ""} ${r.method} ${path} [${access}] → ${status}`;
          if (status === 500) problems.push(`${label}: server error`);
          if (access === "public") {
            // POST /login with an empty form is a failed login (401), not a refusal of the route
            const loginFailure = r.method === "POST" && r.path === "/login" && status === 401;
            if ((status === 401 && !loginFailure) || status === 403) problems.push(`${label}: public route refused`);
          } else if (access === "metrics") {
            // 127.0.0.1 is not used here: the walk's addresses are outside metrics.allow, so a token is needed
            if (status !== 401) problems.push(`${label}: metrics without token`);
          } else if (who === "anonymous") {
            if (![401, 303].includes(status)) problems.push(`${label}: anonymous not refused`);
          } else if (roleAllows(who, access)) {
            if (status === 401 || status === 403) problems.push(`${label}: allowed role refused`);
          } else if (status !== 403) {
            problems.push(`${label}: lower role not forbidden`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(requests).toBeGreaterThan(400);
    // refusals of authenticated callers were recorded
    const forbidden = Number((await h.db.sql`select count(*)::int as n from security_events where kind = 'forbidden'`)[0]!.n);
    expect(forbidden).toBeGreaterThan(20);
  }, 120_000);
});
