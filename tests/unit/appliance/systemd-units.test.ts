/**
 * systemd/: `systemd-analyze verify` on every unit (with its drop-in), the `systemd-analyze security` exposure scores
 * documented in docs/install.md, and the properties issue 8 asks of each unit.
 * verify refuses units whose ExecStart binary is missing, so it runs on copies in a temp dir where binaries that do
 * not exist on this machine (/usr/local/bin/lteproxy, /usr/bin/3proxy) are replaced by /bin/true.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = join(import.meta.dir, "../../..");
const DIR = join(REPO, "systemd");
const UNITS = readdirSync(DIR).filter((f) => f.endsWith(".service")).sort();
const DROPIN = "3proxy@.service.d/50-lteproxy-limits.conf";
const haveAnalyze = Bun.which("systemd-analyze") !== null;
if (!haveAnalyze) console.warn("SKIPPED systemd-analyze checks: systemd-analyze not installed");

type Unit = Map<string, Map<string, string[]>>;

/** Sections → keys → values (a key may repeat); comments and blank lines dropped. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      if (!unit.has(section)) unit.set(section, new Map());
      continue;
    }
    const eq = line.indexOf("=");
    const key = line.slice(0, eq).trim();
    const s = unit.get(section)!;
    s.set(key, [...(s.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}
const units = new Map(UNITS.map((u) => [u, parseUnit(readFileSync(join(DIR, u), "utf8"))]));
const get = (u: string, section: string, key: string) => units.get(u)?.get(section)?.get(key) ?? [];
const one = (u: string, section: string, key: string) => get(u, section, key).at(-1);
const words = (u: string, section: string, key: string) => get(u, section, key).flatMap((v) => v.split(/\s+/)).filter(Boolean);

const work = mkdtempSync(join(tmpdir(), "ltp-units-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Copies the units (and the drop-in) into dir, pointing binaries missing here at /bin/true. */
function stage(dir: string): string[] {
  cpSync(DIR, dir, { recursive: true });
  for (const u of UNITS) {
    const text = readFileSync(join(dir, u), "utf8").replace(/^(Exec\w+=[-@:+!]*)(\/\S+)/gm, (line, prefix: string, bin: string) =>
      existsSync(bin) ? line : `${prefix}/bin/true`);
    writeFileSync(join(dir, u), text);
  }
  return UNITS.map((u) => join(dir, u));
}

function verify(files: string[]): { code: number; out: string } {
  const r = spawnSync("systemd-analyze", ["verify", ...files], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(!haveAnalyze)("systemd-analyze", () => {
  test("verify passes on every unit, the 3proxy drop-in included, with no warnings", () => {
    const dir = join(work, "ok");
    const r = verify(stage(dir));
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  });

  test("verify would catch a broken unit or drop-in (the check above can fail)", () => {
    const dir = join(work, "bad");
    const files = stage(dir);
    appendFileSync(join(dir, DROPIN), "MemoryMaxx=1G\n");
    expect(verify(files).out).toContain("Unknown key 'MemoryMaxx'");
    appendFileSync(join(dir, "lteproxy.service"), "\n[Service]\nExecStart=relative/path\n");
    expect(verify(files).code).not.toBe(0);
  });

  test("security exposure is no worse than the scores documented in docs/install.md", () => {
    const doc = readFileSync(join(REPO, "docs/install.md"), "utf8");
    const dir = join(work, "sec");
    for (const file of stage(dir)) {
      const name = file.split("/").at(-1)!;
      const r = spawnSync("systemd-analyze", ["security", "--offline=yes", file], { encoding: "utf8", timeout: 60_000 });
      const score = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout)?.[1];
      expect(score).toBeDefined();
      const documented = new RegExp(`\\| \`${name.replace(/[.@]/g, "\\$&")}\` \\| (\\d+\\.\\d) `).exec(doc)?.[1];
      expect(`${name}: documented ${documented !== undefined}`).toBe(`${name}: documented true`);
      expect(Number(score)).toBeLessThanOrEqual(Number(documented));
    }
  });
});

describe("unit properties (issue 8 §3)", () => {
  test("the units and the drop-in exist", () => {
    expect(UNITS).toEqual(["3proxy@.service", "lteproxy-db-setup.service", "lteproxy-dns-relay.service", "lteproxy-proxy.service", "lteproxy.service"]);
    expect(readFileSync(join(DIR, DROPIN), "utf8")).toMatch(/^\[Service\]\nCPUQuota=2%\nMemoryMax=128M$/m);
  });

  test("lteproxy.service: notify + watchdog, after PostgreSQL, unprivileged with only network capabilities, sandboxed", () => {
    const u = "lteproxy.service";
    expect(one(u, "Service", "Type")).toBe("notify");
    expect(one(u, "Service", "NotifyAccess")).toBe("all");
    expect(Number(one(u, "Service", "WatchdogSec"))).toBeGreaterThan(0);
    expect(one(u, "Service", "Restart")).toBe("always");
    expect(words(u, "Unit", "After")).toContain("postgresql.service");
    expect(words(u, "Unit", "Wants")).toContain("postgresql.service");
    expect(one(u, "Service", "User")).toBe("lteproxy");
    expect(words(u, "Service", "SupplementaryGroups")).toContain("dialout");
    expect(words(u, "Service", "CapabilityBoundingSet").sort()).toEqual(["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]);
    expect(words(u, "Service", "AmbientCapabilities").sort()).toEqual(["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]);
    for (const [k, v] of [["ProtectSystem", "strict"], ["PrivateTmp", "yes"], ["NoNewPrivileges", "yes"], ["ProtectHome", "yes"],
      ["ProtectKernelModules", "yes"], ["DevicePolicy", "closed"]]) expect(`${k}=${one(u, "Service", k)}`).toBe(`${k}=${v}`);
    expect(words(u, "Service", "RestrictAddressFamilies").sort()).toEqual(["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_UNIX"]);
    expect(get(u, "Service", "DeviceAllow")).toEqual(["char-ttyUSB rw", "char-usb rw"]);
    expect(words(u, "Service", "ReadWritePaths")).toContain("-/etc/3proxy");
    expect(one(u, "Service", "StateDirectory")).toBe("lteproxy");
    expect(one(u, "Service", "RuntimeDirectoryPreserve")).toBe("yes");
  });

  test("lteproxy-proxy.service is independent of the control plane", () => {
    const p = "lteproxy-proxy.service";
    expect(one(p, "Service", "Restart")).toBe("always");
    for (const key of ["PartOf", "BindsTo", "Requires", "Requisite", "PropagatesStopTo", "StopPropagatedFrom", "ReloadPropagatedFrom"]) {
      expect(`${key}: ${words(p, "Unit", key).join(" ")}`).toBe(`${key}: `);
    }
    const c = "lteproxy.service";
    for (const key of ["PartOf", "BindsTo", "Requires", "Wants", "PropagatesStopTo", "PropagatesReloadTo", "Upholds"]) {
      expect(words(c, "Unit", key)).not.toContain(p);
    }
    // Sharing /run/lteproxy (proxy.json in, stats socket and spool out): neither unit may delete it when it stops,
    // and both must be told where it is (as a non-root user the engine would default to /tmp).
    for (const u of [p, c]) {
      expect(one(u, "Service", "RuntimeDirectory")).toBe("lteproxy");
      expect(one(u, "Service", "RuntimeDirectoryPreserve")).toBe("yes");
      expect(get(u, "Service", "Environment")).toContain("LTEPROXY_RUNTIME_DIR=/run/lteproxy");
    }
    // The engine reads proxy.json, not the TOML file: `--config` there names the JSON file.
    expect(one(p, "Service", "ExecStart")).toBe("/usr/local/bin/lteproxy proxy");
  });

  test("3proxy@.service: User= not setuid, Restart=always, preserved runtime dir, limits, USR1 reload", () => {
    const u = "3proxy@.service";
    expect(one(u, "Service", "User")).toBe("lteproxy-3proxy");
    expect(one(u, "Service", "Restart")).toBe("always");
    expect(one(u, "Service", "RuntimeDirectoryPreserve")).toBe("yes");
    expect(Number(one(u, "Service", "LimitNOFILE"))).toBeGreaterThanOrEqual(65536);
    expect(one(u, "Service", "TasksMax")).toBe("infinity");
    expect(one(u, "Service", "ExecReload")).toBe("/bin/kill -USR1 $MAINPID");
    expect(one(u, "Service", "ExecStart")).toBe("/usr/bin/3proxy /etc/3proxy/%i.cfg");
    expect(one(u, "Service", "CapabilityBoundingSet")).toBe("");
  });

  test("lteproxy-dns-relay.service: no capabilities, its own process, the shared runtime dir; 3proxy instances want it", () => {
    const u = "lteproxy-dns-relay.service";
    expect(one(u, "Service", "ExecStart")).toBe("/usr/local/bin/lteproxy dns-relay");
    expect(one(u, "Service", "Restart")).toBe("always");
    expect(one(u, "Service", "User")).toBe("lteproxy");
    expect(one(u, "Service", "CapabilityBoundingSet")).toBe("");
    expect(one(u, "Service", "RuntimeDirectory")).toBe("lteproxy");
    expect(one(u, "Service", "RuntimeDirectoryPreserve")).toBe("yes");
    expect(get(u, "Service", "Environment")).toContain("LTEPROXY_RUNTIME_DIR=/run/lteproxy");
    expect(words(u, "Service", "RestrictAddressFamilies").sort()).toEqual(["AF_INET", "AF_INET6", "AF_UNIX"]);
    for (const key of ["PartOf", "BindsTo", "Requires"]) expect(words(u, "Unit", key)).not.toContain("lteproxy.service");
    expect(words("3proxy@.service", "Unit", "Wants")).toContain(u);
    expect(words("3proxy@.service", "Unit", "After")).toContain(u);
  });

  test("lteproxy-db-setup.service runs before the control plane without root", () => {
    const u = "lteproxy-db-setup.service";
    expect(one(u, "Service", "Type")).toBe("oneshot");
    expect(one(u, "Service", "User")).toBe("postgres");
    expect(words(u, "Unit", "Before")).toContain("lteproxy.service");
    expect(words("lteproxy.service", "Unit", "After")).toContain(u);
    expect(one(u, "Service", "LoadCredential")).toBe("lteproxy.toml:/etc/lteproxy/lteproxy.toml");
  });
});
