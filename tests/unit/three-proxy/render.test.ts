/**
 * Golden tests for the 3proxy renderer: each case renders a model and compares both files byte for byte with
 * tests/unit/three-proxy/golden/<case>.{cfg,passwd}. Regenerate after an intended change with
 * UPDATE_GOLDEN=1 bun test tests/unit/three-proxy, then read the diff.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultThreeProxyPaths, renderThreeProxyConfig, THREEPROXY_LOGFORMAT } from "../../../src/proxy/three-proxy/render.ts";
import type { ThreeProxyModem } from "../../../src/proxy/three-proxy/model.ts";

const GOLDEN = join(import.meta.dir, "golden");
const IMEI = "860000000000001";

function modem(over: Partial<ThreeProxyModem>): ThreeProxyModem {
  return {
    imei: IMEI,
    listen: "192.168.50.1",
    port: 3128,
    outAddress: "10.64.0.2",
    dns: ["10.64.0.1", "10.64.0.3"],
    users: [],
    whitelist: [],
    maxconn: 200,
    paths: defaultThreeProxyPaths(IMEI),
    ...over,
  };
}

const alice = { name: "alice", password: "s3cret" };
const bob = { name: "bob", hash: "$1$salt$Q0PqHt9XmI5Y3W2aT0e8b." };

const CASES: Record<string, ThreeProxyModem> = {
  "whitelist-only": modem({ whitelist: ["192.168.50.0/24", "10.10.0.7"] }),
  "users-only": modem({ users: [alice, bob] }),
  both: modem({ whitelist: ["192.168.50.0/24"], users: [alice, bob] }),
  quotas: modem({
    users: [alice, bob],
    quotas: [
      { user: "alice", dir: "in", period: "M", mb: 20000, id: 7 },
      { user: "alice", dir: "out", period: "M", mb: 2000, id: 8 },
      { user: "bob", dir: "all", period: "D", mb: 500, id: 9 },
    ],
  }),
  bandwidth: modem({
    whitelist: ["192.168.50.0/24"],
    users: [alice, bob],
    bandwidth: [
      { user: "alice", dir: "in", bps: 20_000_000 },
      { user: "alice", dir: "out", bps: 5_000_000 },
    ],
  }),
};

describe("renderThreeProxyConfig golden files", () => {
  for (const [name, model] of Object.entries(CASES)) {
    test(name, () => {
      const out = renderThreeProxyConfig(model);
      for (const ext of ["cfg", "passwd"] as const) {
        const file = join(GOLDEN, `${name}.${ext}`);
        if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, out[ext]);
        expect(existsSync(file)).toBe(true);
        expect(out[ext]).toBe(readFileSync(file, "utf8"));
      }
    });
  }
});

describe("rendered config follows 3proxy's rules (3proxy.md §2-3)", () => {
  for (const [name, model] of Object.entries(CASES)) {
    test(`${name}: no inline comments, no setuid, ACL order, one auto service`, () => {
      const { cfg } = renderThreeProxyConfig(model);
      const lines = cfg.trimEnd().split("\n");
      for (const line of lines) {
        // A '#' anywhere but the first column would be an inline comment; logformat has none either.
        if (!line.startsWith("#")) expect(line.includes("#")).toBe(false);
        expect(line).not.toMatch(/^\s/);
      }
      const directives = lines.filter((l) => !l.startsWith("#")).map((l) => l.split(" ")[0]);
      expect(directives).not.toContain("setuid");
      expect(directives).not.toContain("setgid");
      expect(directives).not.toContain("daemon");
      expect(directives.indexOf("nserver")).toBeLessThan(directives.indexOf("nscache"));
      expect(directives.filter((d) => d === "auto")).toHaveLength(1);
      expect(directives.at(-1)).toBe("auto");
      // ACL: auth, then allow lines, then deny *, all before the service.
      const auth = lines.indexOf("auth iponly strong");
      const deny = lines.indexOf("deny *");
      expect(auth).toBeGreaterThan(-1);
      expect(deny).toBeGreaterThan(auth);
      const allows = lines.map((l, i) => (l.startsWith("allow ") ? i : -1)).filter((i) => i >= 0);
      expect(allows.every((i) => i > auth && i < deny)).toBe(true);
      const whitelistAllows = allows.filter((i) => lines[i]!.startsWith("allow * "));
      const userAllows = allows.filter((i) => !lines[i]!.startsWith("allow * "));
      if (whitelistAllows.length && userAllows.length) expect(Math.max(...whitelistAllows)).toBeLessThan(Math.min(...userAllows));
      expect(lines).toContain("noforce");
      expect(lines).toContain(`auto -p${model.port} -i${model.listen} -e${model.outAddress} -ocTCP_NODELAY -osTCP_NODELAY`);
      expect(lines).toContain(`logformat "${THREEPROXY_LOGFORMAT}"`);
      expect(lines).toContain(`log ${model.paths.log} D`);
      expect(lines).toContain(`monitor ${model.paths.cfg}`);
      expect(lines).toContain(`monitor ${model.paths.passwd}`);
    });
  }

  test("users entries with $ are quoted, others are not", () => {
    const { passwd } = renderThreeProxyConfig(CASES.both!);
    expect(passwd).toBe(`alice:CL:s3cret\n"bob:CR:${bob.hash}"\n`);
    const dollar = renderThreeProxyConfig(modem({ users: [{ name: "carol", password: "pa$$word" }] }));
    expect(dollar.passwd).toBe('"carol:CL:pa$$word"\n');
  });

  test("whitelist-only has no users line and an empty users file", () => {
    const out = renderThreeProxyConfig(CASES["whitelist-only"]!);
    expect(out.cfg).not.toContain("\nusers ");
    expect(out.passwd).toBe("");
  });

  test("rendering is deterministic", () => {
    expect(renderThreeProxyConfig(CASES.quotas!)).toEqual(renderThreeProxyConfig(structuredClone(CASES.quotas!)));
  });

  test("long user lists are split over several allow lines", () => {
    const users = Array.from({ length: 70 }, (_, i) => ({ name: `u${i}`, password: `p${i}` }));
    const { cfg } = renderThreeProxyConfig(modem({ users }), { aclChunk: 32 });
    const allowLines = cfg.split("\n").filter((l) => l.startsWith("allow "));
    expect(allowLines).toHaveLength(3);
    expect(allowLines.flatMap((l) => l.slice(6).split(","))).toEqual(users.map((u) => u.name));
  });

  test("quota ids default to position + 1", () => {
    const { cfg } = renderThreeProxyConfig(modem({ users: [alice], quotas: [{ user: "alice", dir: "in", period: "W", mb: 5 }] }));
    expect(cfg).toContain("\ncountin 1 W 5 alice\n");
    expect(cfg.indexOf("counter /var/lib/3proxy/")).toBeLessThan(cfg.indexOf("countin 1"));
  });
});
