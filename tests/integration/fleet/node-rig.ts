/**
 * One appliance's control plane for the SMS and fleet tests, wired the way src/app.ts wires it (own connection
 * pool, EventStream, ModemManager on its own simulated lab over real ptys, SMS inbox, local actions behind the fleet
 * wrapper, forwarded-request server, heartbeat, in-process HTTP app), without the data plane. Several nodes can share
 * one test database. `restartControlPlane()` stops the manager and inbox and starts new ones on the same lab.
 */
import { connect, type Sql } from "../../../src/db/client.ts";
import { heartbeat, registerNode } from "../../../src/db/queries/nodes.ts";
import { createUser } from "../../../src/db/queries/users.ts";
import { loadConfig } from "../../../src/config.ts";
import { EventStream } from "../../../src/events/event-stream.ts";
import { createHttpApp, stopHttpApp, type HttpApp } from "../../../src/http/server.ts";
import type { HttpContext, ModemActions } from "../../../src/http/context.ts";
import { hashPassword } from "../../../src/http/auth/passwords.ts";
import { createApiKey } from "../../../src/http/auth/api-keys.ts";
import { createModemActions } from "../../../src/jobs/modem-actions.ts";
import { fleetActions, serveActionRequests } from "../../../src/jobs/fleet-actions.ts";
import { eventSink } from "../../../src/db/queries/events.ts";
import { ModemManager } from "../../../src/modem/manager.ts";
import { startSmsInbox, type SmsInbox } from "../../../src/modem/sms-inbox.ts";
import { startSimLab, type SimLab, type SimLabOptions } from "../../../src/sim/lab.ts";
import { TEST_CHANNEL, TEST_TIMINGS, until } from "../modem/helpers.ts";
import { ORIGIN, request } from "../http/harness.ts";

export const TECH = { username: "tech", password: "tech-pass-1234" };

export interface TestNode {
  nodeId: string;
  sql: Sql;
  lab: SimLab;
  manager: ModemManager;
  inbox: SmsInbox;
  events: EventStream;
  local: ModemActions;
  actions: ModemActions;
  app: HttpApp;
  /** Waits until every lab modem is registered and known to the manager; returns their row ids by lab index. */
  registered(): Promise<number[]>;
  restartControlPlane(): Promise<void>;
  stop(): Promise<void>;
}

/** The technician all nodes share (same database); returns an API key for it. */
export async function createTechnician(sql: Sql): Promise<{ userId: number; key: string }> {
  const u = await createUser(sql, { username: TECH.username, role: "technician", passwordHash: await hashPassword(TECH.password) });
  const key = (await createApiKey(sql, { userId: u!.id, name: "tech-key" })).key;
  return { userId: u!.id, key };
}

export async function startNode(dbUrl: string, nodeId: string, lab: SimLabOptions): Promise<TestNode> {
  const sql = connect(dbUrl, { max: 6 });
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => sql.end({ timeout: 2 })];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch(() => undefined);
  };
  try {
    await registerNode(sql, { id: nodeId, hostname: nodeId, version: "test" });
    const beat = setInterval(() => void heartbeat(sql, nodeId).catch(() => undefined), 1000);
    cleanups.push(() => clearInterval(beat));
    const simLab = await startSimLab({ control: { socket: false }, timeScale: 0.05, ...lab, timings: { driftMs: 10_000_000, ...lab.timings } });
    cleanups.push(() => simLab.stop());
    const events = new EventStream(sql, { pollMs: 200 });
    await events.start();
    cleanups.push(() => events.stop());

    const newManager = () => new ModemManager({
      sql, nodeId, deviceDir: simLab.info.deviceDir, sysfsRoot: simLab.info.sysfsRoot, devRoot: simLab.info.devRoot,
      channel: TEST_CHANNEL, ...TEST_TIMINGS,
    });
    const node = { nodeId, sql, lab: simLab, events } as TestNode;
    node.manager = newManager();
    node.inbox = startSmsInbox({ sql, nodeId, manager: node.manager, firstSweepDelayMs: 200, retryMs: 500 });
    await node.manager.start();
    cleanups.push(async () => {
      await node.inbox.stop();
      await node.manager.stop();
    });
    // As app.ts: the local actions serve this node's modems and forwarded requests; the panel gets the fleet wrapper.
    const managerRef = new Proxy({} as ModemManager, {
      get: (_t, k) => {
        const v = (node.manager as unknown as Record<string | symbol, unknown>)[k];
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(node.manager) : v;
      },
    });
    node.local = createModemActions({ sql, nodeId, manager: managerRef, airplaneHoldMs: 200, ussdTimeoutMs: 5000 });
    node.actions = fleetActions(node.local, { sql, nodeId, staleMs: 5000 });
    const unserve = serveActionRequests(node.local, (fn) => events.subscribe(fn), { nodeId, events: eventSink(sql) });
    cleanups.push(unserve);

    const config = loadConfig({ env: {}, overrides: { node: { id: nodeId }, auth: { lockout_attempts: 10 } } });
    const ctx: HttpContext = {
      sql, config, nodeId, events, db: { healthy: () => true }, actions: node.actions,
      clientIp: (req) => req.headers.get("x-test-ip") ?? "127.0.0.1",
    };
    node.app = createHttpApp(ctx);
    cleanups.push(() => stopHttpApp(node.app));

    node.registered = async () => {
      await until(() => simLab.modems.every((m) => node.manager.get(m.identity.imei)?.state === "registered"),
        () => `registered on ${nodeId}: ${node.manager.list().map((m) => m.state).join(",")}`, 30_000);
      return simLab.modems.map((m) => node.manager.get(m.identity.imei)!.id);
    };
    node.restartControlPlane = async () => {
      await node.inbox.stop();
      await node.manager.stop();
      node.manager = newManager();
      node.inbox = startSmsInbox({ sql, nodeId, manager: node.manager, firstSweepDelayMs: 200, retryMs: 500 });
      await node.manager.start();
    };
    node.stop = stopAll;
    return node;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * A request through the node's HTTP app (in process): the HTTP tests' `request`, always with same-origin headers
 * as a browser sends them (the CSRF check wants them on form posts), and the htmx header with a cookie.
 */
export function call(app: HttpApp, method: string, path: string, o: { bearer?: string; cookie?: string; json?: unknown; form?: Record<string, string> } = {}): Promise<Response> {
  return request(app, method, path, {
    ...o, cookie: o.cookie || undefined, htmx: o.cookie !== undefined, headers: { origin: ORIGIN, "sec-fetch-site": "same-origin" },
  });
}

/** Logs the technician in through POST /login; returns the session cookie. */
export async function loginTech(app: HttpApp): Promise<string> {
  const res = await call(app, "POST", "/login", { form: { username: TECH.username, password: TECH.password }, cookie: "" });
  const set = res.headers.get("set-cookie");
  if (!set) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return set.split(";")[0]!;
}
