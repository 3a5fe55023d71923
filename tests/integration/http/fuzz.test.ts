/**
 * Fuzz every /api/v1 route (and the panel's form routes) with invalid path parameters, queries and bodies:
 * malformed JSON, wrong types, huge and nested values, unknown fields, wrong content types. The server must answer
 * each with a 4xx (or a 2xx when the garbage happens to be valid), never a 5xx. Deterministic (seeded).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeHarness, ORIGIN, seedModems, type Harness } from "./harness.ts";
import type { JobsView } from "../../../src/http/context.ts";
import { openAlert } from "../../../src/db/queries/alerts.ts";
import { createApiKey } from "../../../src/http/auth/api-keys.ts";

let h: Harness;
let fuzzKey: string;
beforeAll(async () => {
  h = await makeHarness();
  await seedModems(h.db, 3);
  await openAlert(h.db.sql, { nodeId: "n1", kind: "x", severity: "info", scope: "system", dedupKey: "fz", message: "fuzz" });
  const jobs: JobsView = {
    list: () => [{ id: "health-sweep", description: "health", schedule: "*/30 * * * * *", nextRunAt: null, running: false, lastRun: null }],
    runNow: async () => undefined,
  };
  h.ctx.jobs = jobs;
  fuzzKey = (await createApiKey(h.db.sql, { userId: h.userIds.admin, name: "fuzz" })).key;
});
afterAll(async () => {
  await h.close();
});

/** mulberry32: small deterministic PRNG. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARAMS = ["%25E0%25A4", "%2541", "1", "2", "0", "-1", "abc", "1e5", "1.5", "99999999999999999999", "424242", "%00", "..%2F..%2Fetc", "%3Cscript%3E", "x".repeat(300),
  "%E2%9C%93", "1%3Bdrop%20table", "00000000-0000-4000-8000-000000000001", "NaN", "%20", "::1", "127.0.0.1", "health-sweep", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"];
const QKEYS = ["after", "before", "limit", "state", "kind", "node", "modem", "hours", "q", "result", "trigger", "severity", "action", "actor", "junk"];
const QVALS = ["", "-1", "0", "abc", "99999999999999999999", "1.5", "%27%22", "%00", "x".repeat(500), "online", "OK", "%25", "[]", "{}", "true", "1&1=1"];
const FIELDS = ["username", "role", "password", "name", "userId", "command", "to", "text", "code", "method", "ip", "minutes", "reason", "disabled", "unlock",
  "health.interval_s", "proxy.whitelist", "proxy.auth_mode", "rotation.interval_s", "current", "repeat", "next", "__proto__", "constructor"];

function junkValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 14);
  switch (k) {
    case 0: return null;
    case 1: return -1;
    case 2: return 1e308;
    case 3: return "x".repeat(Math.floor(r() * 5000));
    case 4: return "AT+CFUN=1,1;\r\nATD123";
    case 5: return [];
    case 6: return depth < 6 ? { nested: junkValue(r, depth + 1) } : {};
    case 7: return true;
    case 8: return "<script>alert(1)</script>";
    case 9: return "admin";
    case 10: return "\u0000\uffff";
    case 11: return Array.from({ length: 50 }, () => r());
    case 12: return "10.0.0.0/99";
    default: return String(Math.floor(r() * 1e6));
  }
}

function junkBody(r: () => number): { type?: string; body?: string } {
  const k = Math.floor(r() * 10);
  if (k === 0) return { type: "application/json", body: "{bad json" };
  if (k === 1) return { type: "application/json", body: JSON.stringify(junkValue(r)) };
  if (k === 2) return { type: "text/plain", body: "hello" };
  if (k === 3) return { type: "application/xml", body: "<a/>" };
  if (k === 4) return {};
  if (k === 5) return { type: "application/x-www-form-urlencoded", body: "a=%ZZ&&=&role[]=x&password" };
  if (k === 6) return { type: "application/json", body: "[" .repeat(2000) };
  if (k === 7) return { type: "multipart/form-data; boundary=zz", body: "--zz\r\nbroken" };
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < 1 + Math.floor(r() * 5); i++) obj[FIELDS[Math.floor(r() * FIELDS.length)]!] = junkValue(r);
  return k === 8 ? { type: "application/json", body: JSON.stringify(obj) } : { type: "application/x-www-form-urlencoded", body: new URLSearchParams(Object.entries(obj).map(([a, b]) => [a, String(b)])).toString() };
}

describe("fuzz", () => {
  test("≥ 2,000 invalid requests across every API route: zero 5xx", async () => {
    const r = rng(20240607);
    const all = h.app.decorator.env.policy.list().filter((x) => !x.path.startsWith("/sse/") && x.path !== "/logout");
    const apiRoutes = all.filter((x) => x.path.startsWith("/api/v1/"));
    const failures: string[] = [];
    let apiRequests = 0;
    const perRoute = Math.ceil(2100 / apiRoutes.length);
    const plan = [...apiRoutes.flatMap((rt) => Array(perRoute).fill(rt)), ...all.filter((x) => !x.path.startsWith("/api/")).flatMap((rt) => Array(8).fill(rt))];
    for (const route of plan) {
      const path = route.path.replace(/:[A-Za-z]+/g, () => PARAMS[Math.floor(r() * PARAMS.length)]!);
      const q = new URLSearchParams();
      for (let i = 0; i < Math.floor(r() * 4); i++) q.append(QKEYS[Math.floor(r() * QKEYS.length)]!, decodeURIComponent(QVALS[Math.floor(r() * QVALS.length)]!.replace(/%(?![0-9A-F]{2})/g, "%25")));
      const url = `${ORIGIN}${path}${q.size ? `?${q}` : ""}`;
      const unsafe = route.method !== "GET";
      const { type, body } = unsafe ? junkBody(r) : {};
      const headers: Record<string, string> = { "x-test-ip": "10.250.0.1", authorization: `Bearer ${fuzzKey}` };
      if (!route.path.startsWith("/api/")) {
        delete headers.authorization;
        Object.assign(headers, { cookie: h.cookies.admin, "hx-request": "true", origin: ORIGIN });
      }
      if (type) headers["content-type"] = type;
      let status: number;
      try {
        const res = await h.app.handle(new Request(url, { method: route.method, headers, body }));
        status = res.status;
        const text = await res.text();
        if (route.path.startsWith("/api/") && status >= 400 && status !== 404 && !text.startsWith('{"error":{"code":')) failures.push(`${route.method} ${url}: ${status} not in the error format: ${text.slice(0, 120)}`);
      } catch (error) {
        failures.push(`${route.method} ${url}: threw ${(error as Error).message}`);
        continue;
      }
      if (route.path.startsWith("/api/")) apiRequests++;
      if (status >= 500) failures.push(`${route.method} ${url} [${type}] ${String(body).slice(0, 80)} → ${status}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(apiRequests).toBeGreaterThanOrEqual(2000);
    // the fuzzing never knocked out the admin's access (no self-lockout through garbage)
    expect((await h.app.handle(new Request(`${ORIGIN}/api/v1/me`, { headers: { authorization: `Bearer ${fuzzKey}`, "x-test-ip": "10.250.0.2" } }))).status).toBe(200);
  }, 180_000);
});
