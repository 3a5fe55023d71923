import { describe, expect, test } from "bun:test";
import { csrfProblem } from "../../../src/http/auth/csrf.ts";
import { atCommandProblem } from "../../../src/http/services/modem-ops.ts";
import { safeNext } from "../../../src/http/plugins/auth-routes.ts";
import { peekKid } from "../../../src/http/auth/jwt-keys.ts";
import { plotSegments } from "../../../views/components/plot.tsx";
import { signalBars, bytes, bandShort } from "../../../views/components/format.ts";

const req = (headers: Record<string, string>) => new Request("http://box.lan:8080/x", { method: "POST", headers });

describe("CSRF check", () => {
  test("same origin + HX-Request passes", () => {
    expect(csrfProblem(req({ origin: "http://box.lan:8080", "hx-request": "true" }))).toBeNull();
    expect(csrfProblem(req({ "sec-fetch-site": "same-origin", "hx-request": "true" }))).toBeNull();
  });
  test("other origins, cross-site fetch metadata, or a missing HX-Request header fail", () => {
    expect(csrfProblem(req({ origin: "http://evil.example", "hx-request": "true" }))).toMatch(/cross-origin/);
    expect(csrfProblem(req({ origin: "http://box.lan:8081", "hx-request": "true" }))).toMatch(/cross-origin/);
    expect(csrfProblem(req({ "sec-fetch-site": "cross-site", "hx-request": "true" }))).toMatch(/cross-site/);
    expect(csrfProblem(req({ "hx-request": "true" }))).toMatch(/no Origin/);
    expect(csrfProblem(req({ origin: "http://box.lan:8080" }))).toMatch(/HX-Request/);
    expect(csrfProblem(req({ origin: "null", "hx-request": "true" }))).toMatch(/opaque Origin/);
    expect(csrfProblem(req({ origin: "null", "sec-fetch-site": "cross-site", "hx-request": "true" }))).toMatch(/opaque Origin/);
  });
  test("Origin: null from our own page (no-referrer form post) passes on Sec-Fetch-Site: same-origin", () => {
    expect(csrfProblem(req({ origin: "null", "sec-fetch-site": "same-origin", "hx-request": "true" }))).toBeNull();
  });
  test("origin-only mode (login form without JavaScript): same origin suffices, other origins still fail", () => {
    expect(csrfProblem(req({ origin: "http://box.lan:8080" }), { htmx: false })).toBeNull();
    expect(csrfProblem(req({ "sec-fetch-site": "same-origin" }), { htmx: false })).toBeNull();
    expect(csrfProblem(req({ origin: "http://evil.example" }), { htmx: false })).toMatch(/cross-origin/);
    expect(csrfProblem(req({ "sec-fetch-site": "same-site" }), { htmx: false })).toMatch(/same-site/);
    expect(csrfProblem(req({}), { htmx: false })).toMatch(/no Origin/);
    expect(csrfProblem(req({ origin: "http://grafana.lan:3000" }), { htmx: false, extraOrigins: ["http://grafana.lan:3000"] })).toBeNull();
  });
});

describe("AT console edge validation", () => {
  test.each([
    ["ATI", null],
    ["AT+CSQ", null],
    ["at+cops?", null],
    ["AT+CFUN=1,1;+CFUN=0", /chaining/],
    ["ATI\r\nAT+CFUN=0", /control characters/],
    ["ATI\nATD123;", /control characters/],
    ["ATI\u0000", /control/],
    ["+CSQ", /start with AT/],
    ["", /empty/],
    ["AT" + "X".repeat(300), /256/],
  ])("%j", (cmd, expected) => {
    const p = atCommandProblem(cmd);
    if (expected === null) expect(p).toBeNull();
    else expect(p).toMatch(expected);
  });
});

describe("small helpers", () => {
  test("safeNext keeps same-site paths only", () => {
    expect(safeNext("/modems/3")).toBe("/modems/3");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("/login")).toBe("/");
    expect(safeNext(undefined)).toBe("/");
  });
  test("peekKid reads the kid of an HS256 token only", () => {
    const h = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    expect(peekKid(`${h({ alg: "HS256", kid: "k1" })}.e30.sig`)).toBe("k1");
    expect(peekKid(`${h({ alg: "none", kid: "k1" })}.e30.`)).toBeNull();
    expect(peekKid("garbage")).toBeNull();
    expect(peekKid(`${h({ alg: "HS256" })}.e30.sig`)).toBeNull();
  });
  test("plot segments break at gaps and nulls", () => {
    const t0 = 0;
    const pts = [
      { t: t0, v: -90 }, { t: t0 + 60_000, v: -91 },
      { t: t0 + 120_000, v: null }, { t: t0 + 180_000, v: -92 }, { t: t0 + 240_000, v: -93 },
      { t: t0 + 3600_000, v: -94 }, // > 15 min after the previous point: new segment of one point (dropped)
    ];
    const segs = plotSegments({ points: pts, from: 0, to: 3600_000 }, -100, -80);
    expect(segs.length).toBe(2);
    expect(segs[0]!.split(" ").length).toBe(2);
    expect(segs[1]!.split(" ").length).toBe(2);
  });
  test("format helpers", () => {
    expect([signalBars(-80), signalBars(-94), signalBars(-100), signalBars(-110), signalBars(-130), signalBars(null)]).toEqual([4, 3, 2, 1, 0, 0]);
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1_234_567)).toBe("1.2 MB");
    expect(bandShort("LTE BAND 3")).toBe("B3");
    expect(bandShort("WCDMA")).toBe("WCDMA");
  });
});
