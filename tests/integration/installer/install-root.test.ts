/**
 * Installer end-to-end on a fresh Debian root (issue 8 acceptance): a bookworm minbase made by debootstrap (cached in
 * /var/cache/lteproxy-test between runs by prepare-rootfs.sh), copied to a temp dir, then `install.sh --root` with a
 * dummy binary. apt and useradd run for real inside the chroot. Checks the files, modes, users, packages, units, udev
 * rules and config; that a second run changes nothing; that a new binary is an upgrade that changes only the binary;
 * and that uninstall.sh removes what install.sh added. Skipped, with the reason, when debootstrap cannot run here.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config.ts";
import { INSTALL, manifest, manifestDiff, modeOf, REPO, runScript, UNINSTALL, writeDummyBinary } from "./helpers.ts";

const CACHE = process.env.LTEPROXY_TEST_ROOTFS_CACHE ?? "/var/cache/lteproxy-test";
const APT_CACHE = join(CACHE, "apt-archives");

function prepare(): { root?: string; why?: string } {
  if (process.getuid?.() !== 0) return { why: "needs root (debootstrap, chroot)" };
  const r = spawnSync("bash", [join(import.meta.dir, "prepare-rootfs.sh")], { encoding: "utf8", timeout: 1_200_000 });
  if (r.status === 0) return { root: r.stdout.trim().split("\n").at(-1) };
  if (r.status === 3) return { why: r.stderr.trim().split("\n").at(-1) };
  throw new Error(`prepare-rootfs.sh failed (${r.status}):\n${r.stderr}`);
}

const prep = prepare();
if (!prep.root) console.warn(`SKIPPED installer end-to-end test: ${prep.why}`);

const work = mkdtempSync(join(tmpdir(), "ltp-installer-"));
const root = join(work, "root");
const bin = join(work, "lteproxy");
const EXCLUDE = ["var/log", "var/cache/apt", "var/cache/debconf", "var/lib/apt/lists", "tmp", "proc", "sys", "dev", "run"];
let first = { code: -1, out: "" };

afterAll(() => {
  // Nothing is mounted inside the root (the installer never mounts), so a plain recursive delete is safe.
  if (work.startsWith(tmpdir())) rmSync(work, { recursive: true, force: true });
}, 120_000);

let setupError: unknown;
if (prep.root) {
  try {
    setUp(prep.root);
  } catch (error) {
    setupError = error;
  }
}

function setUp(cached: string): void {
  // cp -a: the root holds device nodes and ownerships that fs.cpSync cannot copy.
  const cp = spawnSync("cp", ["-a", cached, root], { encoding: "utf8" });
  if (cp.status !== 0) throw new Error(`cannot copy the cached root: ${cp.stderr}`);
  // Debs downloaded by earlier runs: apt finds them in its archive cache and skips the download.
  if (existsSync(APT_CACHE)) for (const f of readdirSync(APT_CACHE)) if (f.endsWith(".deb")) cpSync(join(APT_CACHE, f), join(root, "var/cache/apt/archives", f));
  writeDummyBinary(bin, "1.0.0-test");
  first = runScript(INSTALL, ["--root", root, "--binary", bin]);
  mkdirSync(APT_CACHE, { recursive: true });
  for (const f of readdirSync(join(root, "var/cache/apt/archives"))) {
    if (f.endsWith(".deb") && !existsSync(join(APT_CACHE, f))) cpSync(join(root, "var/cache/apt/archives", f), join(APT_CACHE, f));
  }
}

const chroot = (argv: string[]) => spawnSync("chroot", [root, ...argv], { encoding: "utf8" });
const read = (rel: string) => readFileSync(join(root, rel), "utf8");
const owner = (rel: string) => {
  const st = statSync(join(root, rel));
  const name = (file: string, id: number) => read(file).split("\n").find((l) => l.split(":")[2] === String(id))?.split(":")[0];
  return `${name("etc/passwd", st.uid)}:${name("etc/group", st.gid)}`;
};

describe.skipIf(!prep.root)("install.sh --root on a fresh bookworm minbase", () => {
  test("the first run succeeds with numbered steps and prints the panel and admin password", () => {
    if (setupError) throw setupError;
    if (first.code !== 0) throw new Error(`install.sh exited ${first.code}:\n${first.out.slice(-4000)}`);
    for (let i = 1; i <= 10; i++) expect(first.out).toContain(`[${i}/10] `);
    expect(first.out).toMatch(/panel: +http:\/\/.+:8080\//);
    expect(first.out).toMatch(/login: +admin \/ [A-Za-z0-9]{16}/);
  });

  test("packages are installed in the root, nothing was started, no policy-rc.d is left behind", () => {
    for (const pkg of ["postgresql", "libqmi-utils", "udhcpc", "iproute2", "nftables"]) {
      expect(chroot(["dpkg-query", "-W", "-f=${Status}", pkg]).stdout).toBe("install ok installed");
    }
    expect(existsSync(join(root, "usr/sbin/policy-rc.d"))).toBe(false);
    // run/, not var/run/: var/run is an absolute symlink that would point at this host.
    expect(existsSync(join(root, "run/postgresql/15-main.pid"))).toBe(false);
  });

  test("users: lteproxy in dialout with no login shell, lteproxy-3proxy in group lteproxy", () => {
    const pw = chroot(["getent", "passwd", "lteproxy"]).stdout.trim().split(":");
    expect([pw[0], pw[5], pw[6]]).toEqual(["lteproxy", "/var/lib/lteproxy", "/usr/sbin/nologin"]);
    expect(chroot(["id", "-nG", "lteproxy"]).stdout.trim().split(" ").sort()).toEqual(["dialout", "lteproxy"]);
    expect(chroot(["id", "-gn", "lteproxy-3proxy"]).stdout.trim()).toBe("lteproxy");
    expect(chroot(["getent", "passwd", "lteproxy-3proxy"]).stdout).toContain(":/usr/sbin/nologin");
  });

  test("files, modes and owners", () => {
    const expected: Array<[string, string, string]> = [
      ["usr/local/bin/lteproxy", "0755", "root:root"],
      ["etc/lteproxy", "0750", "root:lteproxy"],
      ["etc/lteproxy/lteproxy.toml", "0600", "lteproxy:lteproxy"],
      ["etc/lteproxy/lteproxy.env", "0600", "lteproxy:lteproxy"],
      ["var/lib/lteproxy", "0700", "lteproxy:lteproxy"],
      ["etc/3proxy", "0750", "lteproxy:lteproxy"],
      ["etc/udev/rules.d/99-lteproxy-ec25.rules", "0644", "root:root"],
      ["etc/systemd/system/lteproxy.service", "0644", "root:root"],
      ["etc/systemd/system/lteproxy-proxy.service", "0644", "root:root"],
      ["etc/systemd/system/lteproxy-dns-relay.service", "0644", "root:root"],
      ["etc/systemd/system/lteproxy-db-setup.service", "0644", "root:root"],
      ["etc/systemd/system/3proxy@.service", "0644", "root:root"],
      ["etc/systemd/system/3proxy@.service.d/50-lteproxy-limits.conf", "0644", "root:root"],
      ["etc/polkit-1/rules.d/50-lteproxy.rules", "0644", "root:root"],
      ["etc/sysctl.d/90-lteproxy.conf", "0644", "root:root"],
      ["etc/nftables.d/lteproxy.nft", "0644", "root:root"],
      ["usr/local/lib/lteproxy/db-setup.sh", "0755", "root:root"],
      ["usr/local/lib/lteproxy/uninstall.sh", "0755", "root:root"],
    ];
    for (const [rel, mode, own] of expected) expect(`${rel} ${modeOf(root, rel)} ${owner(rel)}`).toBe(`${rel} ${mode} ${own}`);
    expect(read("usr/local/bin/lteproxy")).toBe(readFileSync(bin, "utf8"));
    for (const [rel, src] of [
      ["etc/udev/rules.d/99-lteproxy-ec25.rules", "udev/99-lteproxy-ec25.rules"],
      ["etc/systemd/system/lteproxy.service", "systemd/lteproxy.service"],
      ["etc/systemd/system/3proxy@.service", "systemd/3proxy@.service"],
      ["etc/systemd/system/lteproxy-dns-relay.service", "systemd/lteproxy-dns-relay.service"],
      ["etc/sysctl.d/90-lteproxy.conf", "appliance/sysctl.conf"],
    ] as const) expect(read(rel)).toBe(readFileSync(join(REPO, src), "utf8"));
    expect(read("etc/systemd/system/3proxy@.service.d/50-lteproxy-limits.conf")).toMatch(/CPUQuota=2%\nMemoryMax=128M/);
  });

  test("units are enabled the way systemctl enable would, nftables loads our table at boot", () => {
    const wants = "etc/systemd/system/multi-user.target.wants";
    for (const u of ["lteproxy.service", "lteproxy-proxy.service", "lteproxy-db-setup.service"]) {
      expect(readlinkSync(join(root, wants, u))).toBe(`/etc/systemd/system/${u}`);
    }
    // The built-in engine resolves through the modems itself: the 3proxy engine's DNS relay stays off.
    expect(existsSync(join(root, wants, "lteproxy-dns-relay.service"))).toBe(false);
    expect(existsSync(join(root, wants, "postgresql.service"))).toBe(true);
    expect(readlinkSync(join(root, "etc/systemd/system/sysinit.target.wants/nftables.service"))).toMatch(/nftables\.service$/);
    expect(read("etc/nftables.conf")).toContain('\ninclude "/etc/nftables.d/lteproxy.nft"\n');
  });

  test("the whole /etc/nftables.conf loads with nft inside the root (in a private network namespace)", () => {
    const r = spawnSync("unshare", ["-n", "chroot", root, "sh", "-c", "nft -f /etc/nftables.conf && nft list table inet lteproxy"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("tcp dport 3128-4127 drop");
    expect(r.stdout).toContain("tcp dport 8080 drop");
  });

  test("the config validates with lteproxy's own loader and holds fresh secrets", () => {
    const cfg = loadConfig({ file: join(root, "etc/lteproxy/lteproxy.toml"), env: {} });
    expect(cfg.http.port).toBe(8080);
    expect(cfg.proxy.engine).toBe("builtin");
    expect(cfg.proxy.supervisor).toBe("systemd");
    expect([cfg.proxy.port_min, cfg.proxy.port_max]).toEqual([3128, 4127]);
    expect(cfg.proxy.lan_networks).toEqual(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
    expect(cfg.paths).toMatchObject({ device_dir: "/dev/modems", runtime_dir: "/run/lteproxy", data_dir: "/var/lib/lteproxy" });
    expect(cfg.database.url).toMatch(/^postgres:\/\/lteproxy:[0-9a-f]{32}@127\.0\.0\.1:5432\/lteproxy$/);
    expect(cfg.auth.jwt_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(cfg.metrics.token).toMatch(/^[0-9a-f]{48}$/);
    const pw = /login: +admin \/ ([A-Za-z0-9]{16})/.exec(first.out)![1];
    expect(read("etc/lteproxy/lteproxy.env")).toContain(`\nLTEPROXY_ADMIN_PASSWORD=${pw}\n`);
  });

  test("a second run changes nothing", () => {
    const before = manifest(root, EXCLUDE);
    const second = runScript(INSTALL, ["--root", root, "--binary", bin]);
    expect(second.code).toBe(0);
    expect(manifestDiff(before, manifest(root, EXCLUDE))).toEqual([]);
    // Every file line says "unchanged" (=); nothing new (+) or updated (~).
    expect(second.out.split("\n").filter((l) => /^ {6}[+~] /.test(l))).toEqual([]);
    expect(second.out).toContain("already installed:");
  }, 300_000);

  test("a run with a new binary is an upgrade: only the binary changes, the secrets stay", () => {
    const before = manifest(root, EXCLUDE);
    const toml = read("etc/lteproxy/lteproxy.toml");
    writeDummyBinary(bin, "1.1.0-test");
    const up = runScript(INSTALL, ["--root", root, "--binary", bin]);
    expect(up.code).toBe(0);
    expect(up.out).toContain("lteproxy 1.1.0-test");
    expect(manifestDiff(before, manifest(root, EXCLUDE))).toEqual(["usr/local/bin/lteproxy"]);
    expect(read("etc/lteproxy/lteproxy.toml")).toBe(toml);
  }, 300_000);

  test("uninstall.sh removes what install.sh added and keeps the data; --purge removes the rest", () => {
    const un = runScript(UNINSTALL, ["--root", root]);
    expect(un.code).toBe(0);
    for (const rel of ["usr/local/bin/lteproxy", "etc/systemd/system/lteproxy.service", "etc/systemd/system/3proxy@.service.d",
      "etc/udev/rules.d/99-lteproxy-ec25.rules", "etc/sysctl.d/90-lteproxy.conf", "etc/nftables.d/lteproxy.nft",
      "etc/systemd/system/multi-user.target.wants/lteproxy.service", "etc/polkit-1/rules.d/50-lteproxy.rules"]) {
      expect(`${rel} exists: ${existsSync(join(root, rel))}`).toBe(`${rel} exists: false`);
    }
    expect(existsSync(join(root, "etc/lteproxy/lteproxy.toml"))).toBe(true);
    // /etc/nftables.conf is byte-identical to the package's again.
    expect(chroot(["dpkg", "--verify", "nftables"]).stdout).toBe("");
    const purge = runScript(UNINSTALL, ["--root", root, "--purge"]);
    expect(purge.code).toBe(0);
    expect(existsSync(join(root, "etc/lteproxy"))).toBe(false);
    expect(existsSync(join(root, "var/lib/lteproxy"))).toBe(false);
    expect(chroot(["getent", "passwd", "lteproxy"]).status).not.toBe(0);
    expect(chroot(["getent", "passwd", "lteproxy-3proxy"]).status).not.toBe(0);
  }, 300_000);
});
