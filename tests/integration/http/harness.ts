/**
 * An in-process HTTP harness on a real PostgreSQL: a fresh database, the real EventStream, createHttpApp with a
 * fake ModemActions (the control-plane boundary), three users (admin, technician, viewer) and request helpers
 * that log in through the real /login route. The client address comes from an x-test-ip header (app.handle has
 * no socket); a fresh address per test keeps throttles and blocks from leaking between tests.
 */
import { createTestDb, type TestDb } from "../../helpers/db.ts";
import { loadConfig, type Config } from "../../../src/config.ts";
import { EventStream } from "../../../src/events/event-stream.ts";
import { createHttpApp, stopHttpApp, type HttpApp } from "../../../src/http/server.ts";
import type { Actor, HttpContext, ModemActions, Role } from "../../../src/http/context.ts";
import { hashPassword } from "../../../src/http/auth/passwords.ts";
import { createUser } from "../../../src/db/queries/users.ts";
import { createApiKey } from "../../../src/http/auth/api-keys.ts";

export const ORIGIN = "http://localhost";
export const PASSWORDS: Record<Role, string> = { admin: "admin-pass-123", technician: "tech-pass-1234", viewer: "viewer-pass-12" };

export interface FakeActions extends ModemActions {
  calls: Array<{ kind: string; modemId: number; arg?: unknown; actor: Actor }>;
}

export function fakeActions(): FakeActions {
  const calls: FakeActions["calls"] = [];
  let n = 0;
  return {
    calls,
    async request(modemId, action, actor, opts) {
      calls.push({ kind: action, modemId, arg: opts, actor });
      n++;
      return { jobId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}` };
    },
    async at(modemId, command, actor) {
      calls.push({ kind: "at", modemId, arg: command, actor });
      if (/^ATI$/i.test(command)) return { ok: true, lines: ["Quectel", "EC25", "Revision: EC25EUXGAR08A07M1G"], final: "OK" };
      return { ok: false, lines: [], final: "ERROR" };
    },
    sms: {
      async send(modemId, to, text, actor) {
        calls.push({ kind: "sms", modemId, arg: { to, text }, actor });
        return { ok: true };
      },
    },
    async ussd(modemId, code, actor) {
      calls.push({ kind: "ussd", modemId, arg: code, actor });
      return { ok: true, response: "Balance: 5.00 EUR" };
    },
  };
}

export interface Harness {
  db: TestDb;
  app: HttpApp;
  ctx: HttpContext;
  config: Config;
  events: EventStream;
  actions: FakeActions;
  userIds: Record<Role, number>;
  /** Session cookies per role (logged in once). */
  cookies: Record<Role, string>;
  keys: Record<Role, string>;
  setDbHealthy(ok: boolean): void;
  close(): Promise<void>;
}

let ipCounter = 1;
/** A fresh client address (10.x.y.z) for one test. */
export function freshIp(): string {
  const n = ipCounter++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export interface ReqOptions {
  cookie?: string;
  bearer?: string;
  ip?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Default true for cookie requests: same-origin + HX-Request, as htmx sends them. */
  htmx?: boolean;
}

export function request(app: HttpApp, method: string, path: string, o: ReqOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { "x-test-ip": o.ip ?? "127.0.0.1", ...(o.headers ?? {}) };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
  if (o.htmx ?? !!o.cookie) Object.assign(headers, { "hx-request": "true", origin: ORIGIN, "sec-fetch-site": "same-origin", ...(o.headers ?? {}) });
  let body: string | undefined;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(o.json);
  } else if (o.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(o.form).toString();
  }
  return app.handle(new Request(`${ORIGIN}${path}`, { method, headers, body }));
}

/** Logs in through POST /login; returns the cookie pair ("lteproxy_session=…"). */
export async function login(app: HttpApp, username: string, password: string, ip = "127.0.0.1"): Promise<{ res: Response; cookie: string | null }> {
  const res = await request(app, "POST", "/login", { form: { username, password }, ip, htmx: true });
  const set = res.headers.get("set-cookie");
  return { res, cookie: set ? set.split(";")[0]! : null };
}

export async function makeHarness(opts: { config?: Record<string, Record<string, unknown>>; actions?: boolean; now?: () => number } = {}): Promise<Harness> {
  const db = await createTestDb({ prefix: "http" });
  await db.sql`insert into nodes (id, hostname, version) values ('n1', 'box-1', '0.1.0')`;
  const events = new EventStream(db.sql, { pollMs: 200 });
  await events.start();
  const config = loadConfig({ env: {}, overrides: { auth: { lockout_attempts: 10 }, ...(opts.config ?? {}) } });
  let healthy = true;
  const actions = fakeActions();
  const ctx: HttpContext = {
    sql: db.sql,
    config,
    nodeId: "n1",
    events,
    db: { healthy: () => healthy },
    actions: opts.actions === false ? undefined : actions,
    clientIp: (req) => req.headers.get("x-test-ip"),
    now: opts.now,
  };
  const app = createHttpApp(ctx);
  const userIds = {} as Record<Role, number>;
  for (const role of ["admin", "technician", "viewer"] as Role[]) {
    const u = await createUser(db.sql, { username: role, role, passwordHash: await hashPassword(PASSWORDS[role]) });
    userIds[role] = u!.id;
  }
  const cookies = {} as Record<Role, string>;
  const keys = {} as Record<Role, string>;
  for (const role of ["admin", "technician", "viewer"] as Role[]) {
    const r = await login(app, role, PASSWORDS[role]);
    if (!r.cookie) throw new Error(`login as ${role} failed: ${r.res.status} ${await r.res.text()}`);
    cookies[role] = r.cookie;
    keys[role] = (await createApiKey(db.sql, { userId: userIds[role], name: `${role}-key` })).key;
  }
  return {
    db, app, ctx, config, events, actions, userIds, cookies, keys,
    setDbHealthy: (ok) => void (healthy = ok),
    async close() {
      await stopHttpApp(app);
      await events.stop();
      await db.drop();
    },
  };
}

/** Inserts modems directly (the modem manager is someone else's; rows are all the panel needs). */
export async function seedModems(db: TestDb, n: number, nodeId = "n1"): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 1; i <= n; i++) {
    const rows = await db.sql`
      insert into modems (node_id, imei, iccid, slot, state, operator, rat, band, csq, rsrp, rsrq, sinr_raw, wan_ip, public_ip,
                          proxy_port, route_table, temperature, rtt_ms, bytes_tx, bytes_rx)
      values (${nodeId}, ${String(860000000000000 + i + (nodeId === "n1" ? 0 : 1000))}, ${"8949" + String(i).padStart(15, "0")},
              ${`1-1.${i}`}, ${i % 10 === 0 ? "offline" : "online"}, 'Telekom.de', 'LTE', 'LTE BAND 3', 20, ${-90 - i}, -10, 12,
              ${`10.64.0.${i}`}, ${`203.0.113.${i}`}, ${3127 + i + (nodeId === "n1" ? 0 : 500)}, ${100 + i + (nodeId === "n1" ? 0 : 500)}, 41, 48.5, 1000, 2000)
      returning id`;
    ids.push(Number(rows[0]!.id));
  }
  return ids;
}
