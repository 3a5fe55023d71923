/** Validation of the renderer's input: everything that would break 3proxy's syntax is refused with a clear AppError. */
import { describe, expect, test } from "bun:test";
import { AppError } from "../../../src/lib/errors.ts";
import { passwordProblem, validateThreeProxyModem, type ThreeProxyModem } from "../../../src/proxy/three-proxy/model.ts";
import { defaultThreeProxyPaths, renderThreeProxyConfig } from "../../../src/proxy/three-proxy/render.ts";

function base(): ThreeProxyModem {
  return {
    imei: "860000000000001",
    listen: "192.168.50.1",
    port: 3128,
    outAddress: "10.64.0.2",
    dns: ["10.64.0.1"],
    users: [{ name: "alice", password: "s3cret" }],
    whitelist: ["192.168.50.0/24"],
    maxconn: 200,
    paths: defaultThreeProxyPaths("860000000000001"),
  };
}

function errorOf(mutate: (m: ThreeProxyModem) => void): AppError {
  const m = base();
  mutate(m);
  try {
    renderThreeProxyConfig(m);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected renderThreeProxyConfig to throw");
}

describe("validateThreeProxyModem", () => {
  test("the base model is valid", () => {
    expect(() => validateThreeProxyModem(base())).not.toThrow();
  });

  const BAD_PASSWORDS: Array<[string, string]> = [
    ["with space", "space"], ["tab\there", "tab"], ['quo"te', "double quote"], ["it's", "single quote"],
    ["a:b", "colon"], ["line\nbreak", "line break"], ["cr\rhere", "line break"], ["back\\slash", "backslash"],
    ["hash#tag", "'#'"], ["", "empty"], ["pässword", "non-ASCII"], ["bell\x07", "control"], ["x".repeat(129), "128"],
  ];
  for (const [password, what] of BAD_PASSWORDS) {
    test(`password ${JSON.stringify(password.slice(0, 20))} is refused (${what})`, () => {
      const e = errorOf((m) => { m.users[0]!.password = password; });
      expect(e.code).toBe("THREEPROXY_INVALID");
      expect(e.details?.field).toBe("users[0].password");
      expect(e.message).toContain(what);
      expect(e.message).toContain("alice");
      // The password itself never appears in the error.
      if (password.length > 3) expect(e.message).not.toContain(password);
    });
  }

  test("passwords with $ and other punctuation are accepted", () => {
    for (const pw of ["pa$$word", "a!b@c%d^e&f*g(h)", "x,y;z=+~`|{}[]<>?/"]) expect(passwordProblem(pw)).toBeNull();
  });

  const BAD_NAMES = ["with space", "a:b", "a,b", 'q"uote', "*", "", "x".repeat(65), "new\nline", "dollar$"];
  for (const name of BAD_NAMES) {
    test(`username ${JSON.stringify(name.slice(0, 20))} is refused`, () => {
      const e = errorOf((m) => { m.users[0]!.name = name; });
      expect(e.code).toBe("THREEPROXY_INVALID");
      expect(e.details?.field).toBe("users[0].name");
    });
  }

  const CASES: Array<[string, (m: ThreeProxyModem) => void, string]> = [
    ["both password and hash", (m) => { m.users[0]!.hash = "$1$s$abc"; }, "users[0]"],
    ["neither password nor hash", (m) => { delete m.users[0]!.password; }, "users[0]"],
    ["a hash with a colon", (m) => { m.users[0] = { name: "bob", hash: "$1$s:x$abc" }; }, "users[0].hash"],
    ["a hash that is not crypt", (m) => { m.users[0] = { name: "bob", hash: "plain" }; }, "users[0].hash"],
    ["duplicate users", (m) => { m.users.push({ name: "alice", password: "x" }); }, "users[1].name"],
    ["no DNS", (m) => { m.dns = []; }, "dns"],
    ["a DNS name instead of an IP", (m) => { m.dns = ["dns.example"]; }, "dns[0]"],
    ["a bad listen address", (m) => { m.listen = "0.0.0.0 -e1.2.3.4"; }, "listen"],
    ["a bad out address", (m) => { m.outAddress = "10.64.0.300"; }, "outAddress"],
    ["port 0", (m) => { m.port = 0; }, "port"],
    ["port 70000", (m) => { m.port = 70000; }, "port"],
    ["fractional maxconn", (m) => { m.maxconn = 1.5; }, "maxconn"],
    ["a whitelist entry with a space", (m) => { m.whitelist = ["10.0.0.0/8 *"]; }, "whitelist[0]"],
    ["a whitelist prefix out of range", (m) => { m.whitelist = ["10.0.0.0/33"]; }, "whitelist[0]"],
    ["a quota for an unknown user", (m) => { m.quotas = [{ user: "mallory", dir: "in", period: "M", mb: 1 }]; }, "quotas[0].user"],
    ["a quota with a bad period", (m) => { m.quotas = [{ user: "alice", dir: "in", period: "Y" as "M", mb: 1 }]; }, "quotas[0].period"],
    ["a quota of 0 MB", (m) => { m.quotas = [{ user: "alice", dir: "in", period: "M", mb: 0 }]; }, "quotas[0].mb"],
    ["duplicate counter numbers", (m) => {
      m.quotas = [{ user: "alice", dir: "in", period: "M", mb: 1, id: 3 }, { user: "alice", dir: "out", period: "M", mb: 1, id: 3 }];
    }, "quotas[1].id"],
    ["a bandwidth for an unknown user", (m) => { m.bandwidth = [{ user: "eve", dir: "in", bps: 1e6 }]; }, "bandwidth[0].user"],
    ["a bandwidth with dir all", (m) => { m.bandwidth = [{ user: "alice", dir: "all" as "in", bps: 1e6 }]; }, "bandwidth[0].dir"],
    ["a relative path", (m) => { m.paths.cfg = "etc/3proxy/x.cfg"; }, "paths.cfg"],
    ["a path with a space", (m) => { m.paths.log = "/var/log/3proxy/a b.log"; }, "paths.log"],
    ["a path with ..", (m) => { m.paths.pid = "/run/3proxy/../x.pid"; }, "paths.pid"],
    ["an instance name with a slash", (m) => { m.imei = "../86"; }, "imei"],
  ];
  for (const [name, mutate, field] of CASES) {
    test(`refuses ${name}`, () => {
      const e = errorOf(mutate);
      expect(e.code).toBe("THREEPROXY_INVALID");
      expect(e.details?.field).toBe(field);
      expect(e.message.startsWith(`${field}: `)).toBe(true);
    });
  }

  test("IPv6 whitelist entries and single addresses are accepted", () => {
    const m = base();
    m.whitelist = ["fd00::/64", "10.1.2.3", "2001:db8::1"];
    expect(() => validateThreeProxyModem(m)).not.toThrow();
  });
});
