/**
 * 3proxy CR hashes (MD5-crypt, checked against `openssl passwd -1`) and the mapping of the desired engine config to
 * per-modem 3proxy models: which ports get an instance, which users, limits and DNS servers they carry.
 */
import { describe, expect, test } from "bun:test";
import { cryptSalt, isCryptSalt, md5Crypt } from "../../../src/proxy/supervisor/md5-crypt.ts";
import { planThreeProxyPort, plainDnsServers, type DesiredPort } from "../../../src/proxy/supervisor/three-proxy-desired.ts";
import { parseListUnits } from "../../../src/proxy/supervisor/systemctl.ts";
import { renderThreeProxyConfig, defaultThreeProxyPaths } from "../../../src/proxy/three-proxy/render.ts";

describe("md5Crypt", () => {
  // Expected values from `openssl passwd -1 -salt <salt> <password>` (OpenSSL 3.0, Debian 12).
  const vectors: Array<[string, string, string]> = [
    ["s3cret", "abcdefgh", "$1$abcdefgh$7.vq19w/w3Vm.hk1FOA7Q/"],
    ["", "x", "$1$x$fwjfZtMwarkdetsjiQreU1"],
    ["password", "saltsalt", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"],
    ["pässwörd", "./AZaz09", "$1$./AZaz09$87xngk/H7sx3dxtRf5NlC1"],
    ["a-very-long-password-that-is-longer-than-sixteen-bytes", "12345678", "$1$12345678$BRBkm7DKkID3BCFjKySwv/"],
  ];
  for (const [pw, salt, want] of vectors) {
    test(`${JSON.stringify(pw)} with salt ${salt}`, () => expect(md5Crypt(pw, salt)).toBe(want));
  }

  test("salts: derived ones are stable, 8 crypt characters, different per seed; bad ones are refused", () => {
    expect(cryptSalt("866000000000001:alice")).toBe(cryptSalt("866000000000001:alice"));
    expect(cryptSalt("866000000000001:alice")).not.toBe(cryptSalt("866000000000002:alice"));
    expect(isCryptSalt(cryptSalt("x"))).toBe(true);
    expect(cryptSalt("x")).toHaveLength(8);
    expect(() => md5Crypt("pw", "bad$salt")).toThrow();
    expect(() => md5Crypt("pw", "")).toThrow();
  });
});

describe("desired port → 3proxy model", () => {
  const users = new Map([
    ["$argon2id$a", { password: "pa:ss w\"rd", id: 7, quotaMb: 1024, bandwidthBps: 5_000_000 }],
    ["$argon2id$b", { password: "pb", id: 8 }],
  ]);
  const paths = (imei: string) => defaultThreeProxyPaths(imei, { etc: "/etc/3proxy" });
  const port: DesiredPort = {
    id: "866000000000001", port: 3128, listen: "0.0.0.0", outAddress: "10.64.0.2", state: "online", maxConnections: 300,
    users: [{ name: "alice", passwordHash: "$argon2id$a" }, { name: "bob", passwordHash: "$argon2id$b" }, { name: "carol", passwordHash: "$argon2id$c" },
      { name: "alice", passwordHash: "$argon2id$b" }],
    whitelist: ["192.168.1.0/24"], dns: { servers: ["10.64.0.1", "10.64.0.9:53", "10.64.0.8:5353"] },
  };

  test("an online port becomes a model with CR users, limits, merged whitelist and plain DNS servers", () => {
    const plan = planThreeProxyPort(port, { global: { whitelist: ["10.0.0.0/8", "192.168.1.0/24"] }, users, paths, portOffset: 20000 });
    if (!("model" in plan)) throw new Error(plan.skip);
    expect(plan.missingUsers).toEqual(["carol"]);
    const m = plan.model;
    expect(m).toMatchObject({ imei: port.id, listen: "0.0.0.0", port: 23128, outAddress: "10.64.0.2", maxconn: 300, dns: ["10.64.0.1", "10.64.0.9"] });
    expect(m.whitelist).toEqual(["10.0.0.0/8", "192.168.1.0/24"]);
    expect(m.users.map((u) => u.name)).toEqual(["alice", "bob"]);
    expect(m.users[0]!.hash).toBe(md5Crypt("pa:ss w\"rd", cryptSalt(`${port.id}:alice`)));
    expect(m.users.every((u) => u.password === undefined)).toBe(true);
    expect(m.quotas).toEqual([{ user: "alice", dir: "all", period: "M", mb: 1024, id: 7 }]);
    expect(m.bandwidth).toEqual([{ user: "alice", dir: "in", bps: 5_000_000 }]);
    // A password 3proxy could never take as CL (colon, space, quote) renders fine as CR.
    const { passwd } = renderThreeProxyConfig(m);
    expect(passwd.split("\n")[0]).toMatch(/^"alice:CR:\$1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}"$/);
  });

  test("ports that get no instance, with the reason", () => {
    const plan = (p: Partial<DesiredPort>) => planThreeProxyPort({ ...port, ...p }, { global: {}, users, paths });
    expect(plan({ state: "searching" })).toEqual({ imei: port.id, skip: "state searching" });
    expect(plan({ outAddress: null })).toEqual({ imei: port.id, skip: "no modem address" });
    expect(plan({ dns: { servers: ["10.64.0.1:5353"] } })).toMatchObject({ skip: expect.stringContaining("no carrier DNS") });
  });

  test("plain DNS servers: ip, ip:53 and [v6]:53 kept; other ports dropped; duplicates once", () => {
    expect(plainDnsServers(["1.1.1.1", "1.1.1.1:53", "[2001:db8::1]:53", "9.9.9.9:5353", "::1", "junk"])).toEqual(["1.1.1.1", "2001:db8::1", "::1"]);
  });
});

describe("systemctl list-units parsing", () => {
  test("plain, failed (●) and garbage lines", () => {
    const out = [
      "3proxy@866000000000001.service loaded active running 3proxy for modem 866000000000001 (lteproxy)",
      "● 3proxy@866000000000002.service loaded failed failed 3proxy for modem 866000000000002 (lteproxy)",
      "3proxy@866000000000003.service loaded activating auto-restart 3proxy for modem",
      "", "garbage", "0 loaded units listed.",
    ].join("\n");
    expect(parseListUnits(out)).toEqual([
      { unit: "3proxy@866000000000001.service", active: "active", sub: "running" },
      { unit: "3proxy@866000000000002.service", active: "failed", sub: "failed" },
      { unit: "3proxy@866000000000003.service", active: "activating", sub: "auto-restart" },
    ]);
  });
});
