import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshIp, makeHarness, ORIGIN, PASSWORDS, request, seedModems, type Harness } from "./harness.ts";

let h: Harness;
let modemId: number;
beforeAll(async () => {
  h = await makeHarness({ config: { http: { cors_origins: ["http://grafana.lan:3000"] } } });
  [modemId] = await seedModems(h.db, 1);
});
afterAll(async () => {
  await h.close();
});

const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  h.app.handle(new Request(`${ORIGIN}${path}`, { method, headers: { "x-test-ip": freshIp(), ...headers }, body }));

describe("CSRF", () => {
  test("a cross-site form post with the session cookie is refused and nothing happens", async () => {
    const before = h.actions.calls.length;
    const attempts: Array<Record<string, string>> = [
      { cookie: h.cookies.technician, origin: "http://evil.example", "hx-request": "true" },
      { cookie: h.cookies.technician, origin: ORIGIN }, // same origin but no HX-Request (a plain <form> post)
      { cookie: h.cookies.technician, "sec-fetch-site": "cross-site", "hx-request": "true" },
      { cookie: h.cookies.technician, "hx-request": "true" }, // no Origin, no Sec-Fetch-Site
    ];
    for (const headers of attempts) {
      const r = await raw("POST", `/modems/${modemId}/actions/reboot`, { ...headers, "content-type": "application/x-www-form-urlencoded" }, "");
      expect(r.status).toBe(403);
      expect(await r.text()).toContain("cross-site request refused");
    }
    expect(h.actions.calls.length).toBe(before);
    const recorded = Number((await h.db.sql`select count(*)::int as n from security_events where kind = 'csrf_rejected'`)[0]!.n);
    expect(recorded).toBeGreaterThanOrEqual(4);
  });

  test("the same request from the panel (same origin + HX-Request) works", async () => {
    const r = await request(h.app, "POST", `/modems/${modemId}/actions/reboot`, { cookie: h.cookies.technician, form: {} });
    expect(r.status).toBe(202);
    expect(h.actions.calls.at(-1)).toMatchObject({ kind: "reboot", modemId });
  });

  test("API-key requests carry no ambient credential and are exempt", async () => {
    const r = await raw("POST", `/api/v1/modems/${modemId}/rotate`, { authorization: `Bearer ${h.keys.technician}`, "content-type": "application/json", origin: "http://evil.example" }, "{}");
    expect(r.status).toBe(202);
  });

  test("login itself is protected (login CSRF), the rotation link is not (its token is the credential)", async () => {
    const body = new URLSearchParams({ username: "viewer", password: PASSWORDS.viewer }).toString();
    const cross = await raw("POST", "/login", { origin: "http://evil.example", "hx-request": "true", "content-type": "application/x-www-form-urlencoded" }, body);
    expect(cross.status).toBe(403);
    expect(cross.headers.get("set-cookie")).toBeNull();
    const link = await raw("POST", "/api/v1/rotate/AAAAAAAAAAAAAAAAAAAAAAAA", {});
    expect(link.status).toBe(404);
  });
});

describe("login without JavaScript", () => {
  const form = (extra: Record<string, string> = {}) =>
    new URLSearchParams({ username: "viewer", password: PASSWORDS.viewer, ...extra }).toString();
  const plain = { "content-type": "application/x-www-form-urlencoded", accept: "text/html" };

  test("a plain same-origin form post logs in with a 303 to `next`, and the cookie works", async () => {
    const r = await raw("POST", "/login", { ...plain, origin: ORIGIN }, form({ next: "/events" }));
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/events");
    const cookie = r.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^lteproxy_session=.+HttpOnly; SameSite=Strict/);
    const page = await raw("GET", "/events", { cookie: cookie.split(";")[0]!, accept: "text/html" });
    expect(page.status).toBe(200);
    // Sec-Fetch-Site alone (a browser that omits Origin) is enough too; an off-site `next` is ignored
    const viaFetchMeta = await raw("POST", "/login", { ...plain, "sec-fetch-site": "same-origin" }, form({ next: "//evil.example/" }));
    expect(viaFetchMeta.status).toBe(303);
    expect(viaFetchMeta.headers.get("location")).toBe("/");
  });

  test("a wrong password re-renders the whole login page with the generic message", async () => {
    const r = await raw("POST", "/login", { ...plain, origin: ORIGIN }, form({ password: "wrong-password", next: "/alerts" }));
    expect(r.status).toBe(401);
    expect(r.headers.get("set-cookie")).toBeNull();
    const html = await r.text();
    expect(html.toLowerCase()).toStartWith("<!doctype html>");
    expect(html).toContain('action="/login"');
    expect(html).toContain("Invalid username or password.");
    expect(html).toContain('value="/alerts"');
  });

  test("cross-site or origin-less plain posts are still refused (login CSRF) and recorded", async () => {
    const before = Number((await h.db.sql`select count(*)::int as n from security_events where kind = 'csrf_rejected'`)[0]!.n);
    const attempts: Array<Record<string, string>> = [{ origin: "http://evil.example" }, { "sec-fetch-site": "cross-site" }, {}];
    for (const headers of attempts) {
      const r = await raw("POST", "/login", { ...plain, ...headers }, form());
      expect(r.status).toBe(403);
      expect(r.headers.get("set-cookie")).toBeNull();
    }
    const after = Number((await h.db.sql`select count(*)::int as n from security_events where kind = 'csrf_rejected'`)[0]!.n);
    expect(after - before).toBe(3);
  });

  test("once logged in, state changes still need HX-Request: a plain form post to logout is refused", async () => {
    const r = await raw("POST", "/logout", { ...plain, origin: ORIGIN, cookie: h.cookies.viewer }, "");
    expect(r.status).toBe(403);
    expect(r.headers.get("set-cookie")).toBeNull();
  });
});

describe("CORS", () => {
  test("off by default: no Access-Control headers for unknown origins", async () => {
    const pre = await raw("OPTIONS", "/api/v1/modems", { origin: "http://evil.example", "access-control-request-method": "GET" });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const get = await raw("GET", "/api/v1/modems", { origin: "http://evil.example", authorization: `Bearer ${h.keys.viewer}` });
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a configured LAN origin may call the API with a key, never with credentials (cookies)", async () => {
    const pre = await raw("OPTIONS", "/api/v1/modems", { origin: "http://grafana.lan:3000", "access-control-request-method": "GET", "access-control-request-headers": "authorization" });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://grafana.lan:3000");
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    const get = await raw("GET", "/api/v1/modems", { origin: "http://grafana.lan:3000", authorization: `Bearer ${h.keys.viewer}` });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe("http://grafana.lan:3000");
    // a cookie request from that origin is still cross-origin for CSRF purposes
    const post = await raw("POST", `/modems/${modemId}/actions/reboot`, { cookie: h.cookies.technician, origin: "http://grafana.lan:3000", "hx-request": "true" });
    expect(post.status).toBe(403);
  });
});

describe("security headers", () => {
  test("pages, API answers, errors and static files carry CSP without inline scripts/styles, nosniff and frame-deny", async () => {
    const responses = [
      await request(h.app, "GET", "/", { cookie: h.cookies.viewer, htmx: false }),
      await request(h.app, "GET", "/api/v1/modems", { bearer: h.keys.viewer }),
      await request(h.app, "GET", "/nope", {}),
      await request(h.app, "GET", "/static/htmx.min.js", {}),
      await request(h.app, "GET", "/login", {}),
    ];
    for (const r of responses) {
      const csp = r.headers.get("content-security-policy")!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  test("the pages themselves hold no inline script, style attribute or style element", async () => {
    for (const path of ["/", `/modems/${modemId}`, "/login", "/settings", "/users", "/system", "/events", "/rotations", "/alerts", "/jobs", "/audit", "/security", "/account"]) {
      const res = await request(h.app, "GET", path, { cookie: h.cookies.admin, htmx: false });
      expect(`${path} ${res.status}`).toBe(`${path} ${path === "/login" ? 303 : 200}`);
      if (path === "/login") continue;
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).not.toMatch(/<style/i);
      expect(html).not.toMatch(/\shx-on[:-]/i);
      expect(html).toContain('name="htmx-config"');
    }
  });
});
