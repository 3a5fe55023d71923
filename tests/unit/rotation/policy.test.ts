import { describe, expect, test } from "bun:test";
import { describeAttempts, judgeIp, methodForAttempt, rotationResult, type AttemptOutcome } from "../../../src/health/rotation-policy.ts";
import { isConnectionError, mayHaveCommitted, retryDb } from "../../../src/health/outage-errors.ts";
import { triggerOf } from "../../../src/health/rotation-actions.ts";

const attempt = (o: Partial<AttemptOutcome>): AttemptOutcome => ({ attempt: 1, method: "airplane", ip: null, verdict: null, error: null, ms: 1, ...o });

describe("escalation ladder", () => {
  test.each([
    ["data", 1, "data"], ["data", 2, "airplane"], ["data", 3, "reboot"], ["data", 4, "reboot"],
    ["airplane", 1, "airplane"], ["airplane", 2, "reboot"], ["airplane", 3, "reboot"],
    ["reboot", 1, "reboot"], ["reboot", 2, "reboot"],
  ] as const)("%s, attempt %d → %s", (first, k, want) => {
    expect(methodForAttempt(first, k)).toBe(want);
  });
});

describe("unique-IP verdict", () => {
  const ctx = { oldIp: "198.18.0.5", history: ["198.18.0.5", "198.18.0.4", "198.18.0.3"], others: new Set(["198.18.0.9"]) };
  test.each([
    ["198.18.0.5", "same"], ["198.18.0.3", "recent"], ["198.18.0.9", "taken"], ["198.18.0.10", "ok"],
  ] as const)("%s → %s", (ip, want) => {
    expect(judgeIp(ip, ctx)).toBe(want);
  });
  test("no previous IP: only history and other modems count", () => {
    expect(judgeIp("1.2.3.4", { oldIp: null, history: [], others: new Set() })).toBe("ok");
  });
});

describe("job result", () => {
  test("OK when the last attempt was unique, COLLISION when it had an IP that was not, FAILED without an IP", () => {
    expect(rotationResult([attempt({ ip: "a", verdict: "same" }), attempt({ ip: "b", verdict: "ok" })])).toBe("OK");
    expect(rotationResult([attempt({ ip: "a", verdict: "same" }), attempt({ ip: "a", verdict: "recent" })])).toBe("COLLISION");
    expect(rotationResult([attempt({ ip: "a", verdict: "same" }), attempt({ error: "ROTATION_TIMEOUT: x" })])).toBe("FAILED");
    expect(rotationResult([])).toBe("FAILED");
    expect(rotationResult([attempt({ ip: "a", verdict: "same" })], true)).toBe("CANCELLED");
  });
  test("the error line names each bad attempt", () => {
    const line = describeAttempts([
      attempt({ attempt: 1, ip: "198.18.0.1", verdict: "same" }),
      attempt({ attempt: 2, method: "reboot", error: "ROTATION_TIMEOUT: not online" }),
      attempt({ attempt: 3, method: "reboot", ip: "198.18.0.2", verdict: "taken" }),
    ]);
    expect(line).toBe("#1 airplane: same IP 198.18.0.1; #2 reboot: ROTATION_TIMEOUT: not online; #3 reboot: IP 198.18.0.2 in use by another modem");
    expect(describeAttempts([attempt({ ip: "x", verdict: "ok" })])).toBeNull();
  });
});

describe("connection errors", () => {
  const err = (code: string, message = "x") => Object.assign(new Error(message), { code });
  test("connection loss and server shutdown are retryable; statement errors are not", () => {
    for (const c of ["CONNECTION_CLOSED", "CONNECT_TIMEOUT", "ECONNREFUSED", "57P01", "57P03", "08006"]) expect(isConnectionError(err(c))).toBe(true);
    for (const c of ["23505", "42601", "22P02", "MODEM_NOT_FOUND"]) expect(isConnectionError(err(c))).toBe(false);
    expect(isConnectionError(new Error("connect ECONNREFUSED 127.0.0.1:5432"))).toBe(true);
    expect(isConnectionError(null)).toBe(false);
  });
  test("a refused connect certainly wrote nothing; a cut connection may have committed", () => {
    expect(mayHaveCommitted(err("ECONNREFUSED"))).toBe(false);
    expect(mayHaveCommitted(err("57P03"))).toBe(false);
    expect(mayHaveCommitted(err("CONNECTION_CLOSED"))).toBe(true);
    expect(mayHaveCommitted(err("23505"))).toBe(false);
  });
  test("retryDb waits out connection errors, throws others at once, and gives up with DB_UNAVAILABLE", async () => {
    let n = 0;
    expect(await retryDb(async () => (++n < 3 ? Promise.reject(err("ECONNREFUSED")) : "ok"), { baseMs: 1, capMs: 2 })).toBe("ok");
    expect(n).toBe(3);
    await expect(retryDb(async () => Promise.reject(err("23505")))).rejects.toMatchObject({ code: "23505" });
    await expect(retryDb(async () => Promise.reject(err("CONNECTION_CLOSED")), { waitMs: 30, baseMs: 5, capMs: 5 })).rejects.toMatchObject({ code: "DB_UNAVAILABLE" });
  });
});

test("panel/API trigger: the secure link is 'link' whatever the caller says, the API 'api', else 'manual'", () => {
  expect(triggerOf({ via: "link" }, "api")).toBe("link");
  expect(triggerOf({ via: "api_key" }, "api")).toBe("api");
  expect(triggerOf({ via: "session" })).toBe("manual");
  expect(triggerOf({ via: "session" }, "schedule")).toBe("manual");
});
