import { describe, expect, test } from "bun:test";
import { authenticate, compilePortAuth, parseBasicAuth } from "../../../src/proxy/engine/auth.ts";
import { parseProxyConfig } from "../../../src/proxy/engine/config-schema.ts";
import { createPasswordVerifier } from "../../../src/proxy/engine/password-cache.ts";

describe("parseBasicAuth", () => {
  const enc = (s: string) => Buffer.from(s).toString("base64");
  test.each([
    [`Basic ${enc("alice:s3cret")}`, { user: "alice", pass: "s3cret" }],
    [`basic ${enc("bob:pa:ss")}`, { user: "bob", pass: "pa:ss" }],
    [`Basic ${enc("u:")}`, { user: "u", pass: "" }],
  ])("%s", (h, want) => expect(parseBasicAuth(h)).toEqual(want));
  test.each([undefined, "", "Bearer abc", `Basic ${enc("nocolon")}`, `Basic ${enc(":nouser")}`, "Basic !!!"])("null for %p", (h) => {
    expect(parseBasicAuth(h)).toBeNull();
  });
});

describe("authenticate", async () => {
  const hash = await Bun.password.hash("s3cret", { algorithm: "argon2id", memoryCost: 4096, timeCost: 2 });
  const cfg = parseProxyConfig({
    version: 1,
    ports: [{ id: "a", port: 1, state: "online", users: [{ name: "alice", passwordHash: hash }], whitelist: ["10.0.0.0/8"] }],
  });
  const auth = compilePortAuth(cfg.ports[0], ["192.168.50.0/24"]);
  const v = createPasswordVerifier();

  test.each([
    ["user from anywhere", "8.8.8.8", { user: "alice", pass: "s3cret" }, { ok: true, user: "alice" }],
    ["wrong password", "8.8.8.8", { user: "alice", pass: "x" }, { ok: false, reason: "auth_failed" }],
    ["unknown user", "8.8.8.8", { user: "eve", pass: "s3cret" }, { ok: false, reason: "auth_failed" }],
    ["no credentials", "8.8.8.8", null, { ok: false, reason: "auth_required" }],
    ["port whitelist", "10.1.2.3", null, { ok: true, user: null }],
    ["global whitelist", "192.168.50.9", null, { ok: true, user: null }],
    ["whitelisted but wrong password", "10.1.2.3", { user: "alice", pass: "x" }, { ok: false, reason: "auth_failed" }],
  ])("%s", async (_n, ip, creds, want) => {
    expect(await authenticate(auth, v, ip, creds)).toEqual(want as never);
  });
});
