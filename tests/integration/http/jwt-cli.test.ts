/**
 * `lteproxy jwt rotate` against a running panel: the CLI writes the new key to PostgreSQL, the panel signs new
 * sessions with it after its key reload (30 s, driven by the harness clock), and a cookie signed with the old key
 * keeps working until the retired key's grace period is over.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freshIp, login, makeHarness, PASSWORDS, request, type Harness } from "./harness.ts";
import { jwtCommand } from "../../../src/cli/jwt.ts";
import { RETIRED_KEY_GRACE_MINUTES } from "../../../src/http/auth/jwt-keys.ts";

let h: Harness;
let offsetMs = 0;
beforeAll(async () => {
  h = await makeHarness({ now: () => Date.now() + offsetMs });
});
afterAll(async () => {
  await h.close();
});

const kidOf = (cookie: string) => JSON.parse(Buffer.from(cookie.split("=")[1]!.split(".")[0]!, "base64url").toString()).kid as string;

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { code: await jwtCommand(argv, h.db.sql), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

describe("lteproxy jwt", () => {
  test("rotate: new sessions carry the new kid, a cookie signed with the old key stays valid", async () => {
    const oldCookie = h.cookies.technician;
    const oldKid = kidOf(oldCookie);
    const r = await cli(["rotate"]);
    expect(r.code).toBe(0);
    const newKid = /new session signing key: (\S+)/.exec(r.out)?.[1];
    expect(newKid).toMatch(/^k\d{8}-[0-9a-f]{8}$/);
    expect(newKid).not.toBe(oldKid);
    const keys = await h.db.sql`select kid, retired_at from jwt_keys order by created_at`;
    expect(keys.filter((k) => k.retired_at === null).map((k) => k.kid)).toEqual([newKid]);

    // the running panel reloads its keys after 30 s (no restart, no forced reload)
    offsetMs = 31_000;
    const fresh = await login(h.app, "technician", PASSWORDS.technician, freshIp());
    expect(kidOf(fresh.cookie!)).toBe(newKid!);
    const me = await request(h.app, "GET", "/api/v1/me", { cookie: oldCookie, htmx: false });
    expect(me.status).toBe(200);
    expect((await me.json()).username).toBe("technician");
    expect((await request(h.app, "GET", "/api/v1/me", { cookie: fresh.cookie!, htmx: false })).status).toBe(200);

    const listed = await cli(["list", "--json"]);
    const list = JSON.parse(listed.out) as Array<{ kid: string; status: string }>;
    expect(list.find((k) => k.kid === newKid)?.status).toBe("current");
    expect(list.find((k) => k.kid === oldKid)?.status).toBe("verifying");
    expect(listed.out).not.toContain("secret");

    // past the grace period the old key no longer verifies (its sessions have long expired anyway)
    await h.db.sql`update jwt_keys set retired_at = now() - make_interval(mins => ${RETIRED_KEY_GRACE_MINUTES + 1}) where kid = ${oldKid}`;
    offsetMs = 62_000;
    expect((await request(h.app, "GET", "/api/v1/me", { cookie: oldCookie, htmx: false })).status).toBe(401);
    expect((await cli(["list"])).out).toMatch(new RegExp(`${oldKid}\\s.*expired`));
  });

  test("usage errors are clear", async () => {
    await expect(jwtCommand(["spin"], h.db.sql)).rejects.toMatchObject({ code: "CLI_USAGE" });
    await expect(jwtCommand(["rotate", "extra"], h.db.sql)).rejects.toMatchObject({ code: "CLI_USAGE" });
    expect((await cli(["--help"])).out).toContain("lteproxy jwt rotate");
  });
});
