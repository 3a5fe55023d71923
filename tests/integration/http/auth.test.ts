import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshIp, login, makeHarness, PASSWORDS, request, type Harness } from "./harness.ts";
import { ensureAdmin } from "../../../src/http/auth/ensure-admin.ts";
import { rotateJwtKey } from "../../../src/http/auth/jwt-keys.ts";
import { createTestDb } from "../../helpers/db.ts";
import { loadConfig } from "../../../src/config.ts";
import { LOGIN_FAILED, LOGIN_LOCKED } from "../../../src/http/plugins/auth-routes.ts";
import { createUser } from "../../../src/db/queries/users.ts";
import { hashPassword } from "../../../src/http/auth/passwords.ts";

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h.close();
});

describe("first run", () => {
  test("no users → admin with a printed one-time password that must be changed; never twice", async () => {
    const db = await createTestDb({ prefix: "first" });
    try {
      const printed: string[] = [];
      const r = await ensureAdmin(db.sql, loadConfig({ env: {} }), { print: (l) => printed.push(l) });
      expect(r.created).toBe(true);
      expect(r.password).toMatch(/^[A-Za-z2-9]{20}$/);
      expect(printed.join("")).toContain(r.password!);
      const row = (await db.sql`select username, role, must_change_password, password_hash from users`)[0]!;
      expect(row).toMatchObject({ username: "admin", role: "admin", must_change_password: true });
      expect(String(row.password_hash)).toStartWith("$argon2id$");
      expect(await ensureAdmin(db.sql, loadConfig({ env: {} }), { print: () => undefined })).toEqual({ created: false });
    } finally {
      await db.drop();
    }
  });

  test("LTEPROXY_ADMIN_PASSWORD is used as given and nothing is printed", async () => {
    const db = await createTestDb({ prefix: "first" });
    try {
      const printed: string[] = [];
      const r = await ensureAdmin(db.sql, loadConfig({ env: { LTEPROXY_ADMIN_PASSWORD: "installer-set-pw" } }), { print: (l) => printed.push(l) });
      expect(r).toEqual({ created: true });
      expect(printed).toEqual([]);
      const hash = String((await db.sql`select password_hash from users where username = 'admin'`)[0]!.password_hash);
      expect(await Bun.password.verify("installer-set-pw", hash)).toBe(true);
    } finally {
      await db.drop();
    }
  });
});

describe("login", () => {
  test("unknown user and wrong password get the same status and message", async () => {
    const ip = freshIp();
    const unknown = await login(h.app, "nobody", "whatever-pass", ip);
    const wrong = await login(h.app, "viewer", "wrong-password", ip);
    expect(unknown.res.status).toBe(401);
    expect(wrong.res.status).toBe(401);
    expect(await unknown.res.text()).toBe(`<span>${LOGIN_FAILED}</span>`);
    expect(await wrong.res.text()).toBe(`<span>${LOGIN_FAILED}</span>`);
    expect(unknown.cookie).toBeNull();
  });

  test("success sets an HttpOnly, SameSite=Strict session cookie (no Secure over plain HTTP) and redirects via HX-Redirect", async () => {
    const r = await request(h.app, "POST", "/login", { form: { username: "viewer", password: PASSWORDS.viewer, next: "/alerts" }, ip: freshIp(), htmx: true });
    expect(r.status).toBe(204);
    expect(r.headers.get("hx-redirect")).toBe("/alerts");
    const cookie = r.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^lteproxy_session=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=1800$/);
    const https = await h.app.handle(new Request("https://localhost/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "hx-request": "true", origin: "https://localhost", "x-test-ip": freshIp() },
      body: new URLSearchParams({ username: "viewer", password: PASSWORDS.viewer }).toString(),
    }));
    expect(https.headers.get("set-cookie")).toEndWith("; Secure");
    expect(https.headers.get("strict-transport-security")).toContain("max-age=");
  });

  test("an open redirect through ?next is refused", async () => {
    const r = await request(h.app, "POST", "/login", { form: { username: "viewer", password: PASSWORDS.viewer, next: "//evil.example/x" }, ip: freshIp(), htmx: true });
    expect(r.headers.get("hx-redirect")).toBe("/");
  });

  test("10 wrong passwords lock the account (even the right password is refused) and record security_events", async () => {
    await createUser(h.db.sql, { username: "victim", role: "viewer", passwordHash: await hashPassword("victim-pass-1") });
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      const r = await login(h.app, "victim", `wrong-${i}-password`, ip);
      expect(r.res.status).toBe(401);
    }
    const right = await login(h.app, "victim", "victim-pass-1", ip);
    expect(right.res.status).toBe(429);
    expect(await right.res.text()).toBe(`<span>${LOGIN_LOCKED}</span>`);
    expect(right.cookie).toBeNull();
    const kinds = (await h.db.sql`select kind, count(*)::int as n from security_events where username = 'victim' group by kind`)
      .reduce((acc, r) => ({ ...acc, [String(r.kind)]: Number(r.n) }), {} as Record<string, number>);
    expect(kinds).toEqual({ login_failed: 10, account_locked: 1, login_locked: 1 });
    const u = (await h.db.sql`select failed_logins, locked_until > now() as locked from users where username = 'victim'`)[0]!;
    expect(u).toMatchObject({ failed_logins: 10, locked: true });
    // an admin unlocks it from the users page
    const unlock = await request(h.app, "PATCH", `/api/v1/users/${(await h.db.sql`select id from users where username='victim'`)[0]!.id}`, { bearer: h.keys.admin, json: { unlock: true } });
    expect(unlock.status).toBe(200);
    expect((await login(h.app, "victim", "victim-pass-1", freshIp())).res.status).toBe(204);
  });

  test("unknown usernames lock the same way, so a lockout does not reveal that an account exists", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login(h.app, "ghost-user", `pw-${i}-xxxxxxxx`, ip)).res.status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  test("more than 20 attempts a minute from one address are rate limited (429)", async () => {
    const ip = freshIp();
    let limited = 0;
    for (let i = 0; i < 22; i++) {
      const r = await request(h.app, "POST", "/login", { form: { username: `nobody${i}`, password: "x" }, ip, htmx: true });
      if (r.status === 429) limited++;
    }
    expect(limited).toBe(2);
    expect((await h.db.sql`select count(*)::int as n from security_events where kind = 'rate_limited' and ip = ${ip}::inet`)[0]!.n).toBe(2);
  });

  test("a must-change-password user lands on /account and can change the password; other sessions end", async () => {
    await createUser(h.db.sql, { username: "newbie", role: "viewer", passwordHash: await hashPassword("first-pass-123"), mustChangePassword: true });
    const first = await login(h.app, "newbie", "first-pass-123", freshIp());
    expect(first.res.headers.get("hx-redirect")).toBe("/account");
    const other = await login(h.app, "newbie", "first-pass-123", freshIp());
    const bad = await request(h.app, "POST", "/account/password", { cookie: first.cookie!, form: { current: "first-pass-123", password: "short", repeat: "short" } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("at least 10 characters");
    const ok = await request(h.app, "POST", "/account/password", { cookie: first.cookie!, form: { current: "first-pass-123", password: "second-pass-456", repeat: "second-pass-456" } });
    expect(ok.status).toBe(200);
    const fresh = ok.headers.get("set-cookie")!.split(";")[0]!;
    expect((await request(h.app, "GET", "/account", { cookie: fresh, htmx: false })).status).toBe(200);
    expect((await request(h.app, "GET", "/api/v1/me", { cookie: other.cookie!, htmx: false })).status).toBe(401);
  });
});

describe("sessions", () => {
  test("pages redirect to /login without a session; the API answers 401 JSON", async () => {
    const page = await request(h.app, "GET", "/modems/1?x=1", {});
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Fmodems%2F1%3Fx%3D1");
    const api = await request(h.app, "GET", "/api/v1/modems", {});
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "authentication required" } });
    const hx = await request(h.app, "GET", "/alerts", { htmx: true });
    expect(hx.status).toBe(401);
    expect(hx.headers.get("hx-redirect")).toBe("/login?next=%2Falerts");
  });

  test("a tampered or foreign-key token is refused", async () => {
    const [head, payload, sig] = h.cookies.viewer.split("=")[1]!.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: String(h.userIds.admin), ep: 0 })).toString("base64url");
    for (const token of [`${head}.${forged}.${sig}`, `${head}.${payload}.${sig!.slice(0, -2)}AA`, "not-a-jwt"]) {
      expect((await request(h.app, "GET", "/api/v1/me", { cookie: `lteproxy_session=${token}`, htmx: false })).status).toBe(401);
    }
  });

  test("JWT key rotation: new sessions use the new kid, tokens signed with the old key stay valid", async () => {
    const before = h.cookies.technician;
    const oldKid = JSON.parse(Buffer.from(before.split("=")[1]!.split(".")[0]!, "base64url").toString()).kid;
    const newKid = await rotateJwtKey(h.db.sql);
    // the ring reloads on an unknown kid or after its refresh interval; force the reload path via a new login
    const env = h.app.decorator.env;
    await env.keys.load();
    const r = await login(h.app, "technician", PASSWORDS.technician, freshIp());
    const kid = JSON.parse(Buffer.from(r.cookie!.split("=")[1]!.split(".")[0]!, "base64url").toString()).kid;
    expect(kid).toBe(newKid);
    expect(kid).not.toBe(oldKid);
    const me = await request(h.app, "GET", "/api/v1/me", { cookie: before, htmx: false });
    expect(me.status).toBe(200);
    expect((await me.json()).username).toBe("technician");
    expect((await h.db.sql`select count(*)::int as n from jwt_keys where retired_at is not null`)[0]!.n).toBeGreaterThanOrEqual(1);
  });

  test("sliding refresh: a token past half its lifetime gets a new cookie", async () => {
    const env = h.app.decorator.env;
    const realNow = env.sessions["now"];
    try {
      (env.sessions as unknown as { now: () => number }).now = () => Date.now() + 16 * 60_000;
      const r = await request(h.app, "GET", "/api/v1/me", { cookie: h.cookies.viewer, htmx: false });
      expect(r.status).toBe(200);
      expect(r.headers.get("set-cookie")).toMatch(/^lteproxy_session=.+HttpOnly; SameSite=Strict/);
      (env.sessions as unknown as { now: () => number }).now = () => Date.now();
      const fresh = await request(h.app, "GET", "/api/v1/me", { cookie: h.cookies.viewer, htmx: false });
      expect(fresh.headers.get("set-cookie")).toBeNull();
    } finally {
      (env.sessions as unknown as { now: () => number }).now = realNow;
    }
  });

  test("logout ends every session of the user", async () => {
    const a = await login(h.app, "viewer", PASSWORDS.viewer, freshIp());
    const b = await login(h.app, "viewer", PASSWORDS.viewer, freshIp());
    const out = await request(h.app, "POST", "/logout", { cookie: a.cookie! });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(out.headers.get("hx-redirect")).toBe("/login");
    expect((await request(h.app, "GET", "/api/v1/me", { cookie: b.cookie!, htmx: false })).status).toBe(401);
    // the harness's own viewer cookie predates the logout too
    h.cookies.viewer = (await login(h.app, "viewer", PASSWORDS.viewer, freshIp())).cookie!;
  });

  test("disabling a user ends their sessions at once", async () => {
    await createUser(h.db.sql, { username: "temp", role: "technician", passwordHash: await hashPassword("temp-pass-123") });
    const s = await login(h.app, "temp", "temp-pass-123", freshIp());
    expect((await request(h.app, "GET", "/api/v1/me", { cookie: s.cookie!, htmx: false })).status).toBe(200);
    const id = (await h.db.sql`select id from users where username = 'temp'`)[0]!.id;
    expect((await request(h.app, "PATCH", `/api/v1/users/${id}`, { bearer: h.keys.admin, json: { disabled: true } })).status).toBe(200);
    expect((await request(h.app, "GET", "/api/v1/me", { cookie: s.cookie!, htmx: false })).status).toBe(401);
    expect((await login(h.app, "temp", "temp-pass-123", freshIp())).res.status).toBe(401);
  });
});

describe("API keys", () => {
  test("created once (hash stored), used as bearer, narrowed by role, revoked", async () => {
    const create = await request(h.app, "POST", "/api/v1/keys", { bearer: h.keys.admin, json: { name: "grafana", userId: h.userIds.technician, role: "viewer" } });
    expect(create.status).toBe(201);
    const { key, info } = await create.json();
    expect(key).toMatch(/^lpk_[a-z0-9]{10}_[A-Za-z0-9_-]{32}$/);
    const stored = (await h.db.sql`select key_hash, prefix from api_keys where id = ${info.id}`)[0]!;
    expect(String(stored.key_hash)).not.toContain(key.split("_")[2]);
    expect(JSON.stringify(await (await request(h.app, "GET", "/api/v1/keys", { bearer: h.keys.admin })).json())).not.toContain(key);
    const me = await (await request(h.app, "GET", "/api/v1/me", { bearer: key })).json();
    expect(me).toEqual({ userId: h.userIds.technician, username: "technician", role: "viewer", via: "api_key" });
    expect((await request(h.app, "POST", "/api/v1/modems/1/rotate", { bearer: key, json: {} })).status).toBe(403);
    expect((await request(h.app, "DELETE", `/api/v1/keys/${info.id}`, { bearer: h.keys.admin })).status).toBe(204);
    const after = await request(h.app, "GET", "/api/v1/me", { bearer: key, ip: freshIp() });
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toBe("Bearer");
  });

  test("a key cannot be made stronger than its owner", async () => {
    const r = await request(h.app, "POST", "/api/v1/keys", { bearer: h.keys.admin, json: { name: "x", userId: h.userIds.viewer, role: "admin" } });
    expect(r.status).toBe(422);
    expect((await r.json()).error.fields.role).toContain("cannot exceed");
  });
});

describe("IP blocks", () => {
  test("repeated offences block the address (visible in the panel), liftable by an admin", async () => {
    await h.db.sql`insert into settings (node_id, key, value) values ('', 'security.ip_block_threshold', '5')`;
    const env = h.app.decorator.env;
    (env.security as unknown as { settings: { at: number } }).settings.at = 0; // drop the 10 s settings cache
    const ip = freshIp();
    for (let i = 0; i < 5; i++) await request(h.app, "GET", "/api/v1/me", { bearer: `lpk_bogus${i}`, ip });
    const blocked = await request(h.app, "GET", "/login", { ip });
    expect(blocked.status).toBe(403);
    expect((await blocked.json()).error.code).toBe("IP_BLOCKED");
    expect((await request(h.app, "GET", "/healthz", { ip })).status).toBe(200);
    expect((await h.db.sql`select count(*)::int as n from security_events where kind = 'ip_blocked' and ip = ${ip}::inet`)[0]!.n).toBe(1);
    const page = await (await request(h.app, "GET", "/security", { cookie: h.cookies.admin, htmx: false })).text();
    expect(page).toContain(ip);
    expect(page).toContain(`/security/blocks/${encodeURIComponent(ip)}/lift`);
    const lift = await request(h.app, "POST", `/security/blocks/${encodeURIComponent(ip)}/lift`, { cookie: h.cookies.admin });
    expect(lift.status).toBe(200);
    expect(await lift.text()).toContain("lifted by admin");
    expect((await request(h.app, "GET", "/login", { ip })).status).toBe(200);
    await h.db.sql`delete from settings where key = 'security.ip_block_threshold'`;
    (env.security as unknown as { settings: { at: number } }).settings.at = 0;
  });
});
