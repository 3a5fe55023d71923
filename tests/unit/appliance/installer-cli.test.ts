/**
 * install.sh and uninstall.sh as a command: help, clear errors with a non-zero exit and the step that failed, and
 * --dry-run changing nothing. Runs against empty staging dirs (--root), never the real system.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTALL, runScript, UNINSTALL, writeDummyBinary } from "../../integration/installer/helpers.ts";

const isRoot = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), "ltp-installer-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bin = join(work, "lteproxy");
writeDummyBinary(bin, "9.9.9-cli");

function freshRoot(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}
const base = (root: string) => ["--root", root, "--binary", bin, "--ignore-os", "--no-packages"];

describe("install.sh", () => {
  test("--help prints the options and exits 0; an unknown option exits 2", () => {
    const help = runScript(INSTALL, ["--help"], 10_000);
    expect(help.code).toBe(0);
    for (const opt of ["--root DIR", "--dry-run", "--binary PATH", "--lan", "--engine"]) expect(help.out).toContain(opt);
    const bad = runScript(INSTALL, ["--frobnicate"], 10_000);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("unknown option --frobnicate");
  });

  test.skipIf(!isRoot)("bad input stops with a clear message, the failing step and exit 1", () => {
    const cases: Array<[string[], string]> = [
      [["--root", join(work, "nope"), "--binary", bin], "--root " + join(work, "nope") + " is not a directory"],
      [[...base(freshRoot("a")).slice(0, 2), "--binary", join(work, "missing"), "--ignore-os"], `--binary ${join(work, "missing")} does not exist`],
      [[...base(freshRoot("b")), "--lan", "10.0.0.0/8,not-a-net"], "--lan: not-a-net is not an address or network"],
      [[...base(freshRoot("c")), "--proxy-ports", "4000-3000"], "--proxy-ports: need 1 <= A <= B <= 65535"],
      [[...base(freshRoot("d")), "--http-port", "http"], "--http-port must be 1-65535"],
      [[...base(freshRoot("e")), "--engine", "squid"], "--engine must be builtin, 3proxy or auto"],
    ];
    for (const [args, message] of cases) {
      const r = runScript(INSTALL, args, 30_000);
      expect(`${r.code} ${r.out.includes(`error: ${message}`)}`).toBe("1 true");
    }
    const step = runScript(INSTALL, [...base(freshRoot("f")), "--lan", "bogus"], 30_000);
    expect(step.out).toContain("(step 4/10: Writing the configuration)");
  }, 120_000);

  test.skipIf(!isRoot)("an unsupported OS is refused unless --ignore-os", () => {
    const root = freshRoot("os");
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/os-release"), 'ID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"\n');
    const r = runScript(INSTALL, ["--root", root, "--binary", bin, "--no-packages"], 30_000);
    expect(r.code).toBe(1);
    expect(r.out).toContain("error: unsupported OS Fedora Linux 40");
  });

  test.skipIf(!isRoot)("a failing command names itself and its step", () => {
    const root = freshRoot("broken");
    writeFileSync(join(root, "etc"), "a file where a directory belongs");
    const r = runScript(INSTALL, base(root), 30_000);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error: step 4\/10 \(Writing the configuration\) failed: `mkdir -p .*\/etc\/lteproxy` exited with 1/);
  });

  test("--dry-run writes nothing and says what it would do", () => {
    const root = freshRoot("dry");
    const r = runScript(INSTALL, [...base(root), "--dry-run"], 30_000);
    expect(r.code).toBe(0);
    expect(readdirSync(root)).toEqual([]);
    expect(r.out).toContain("+ /etc/lteproxy/lteproxy.toml (would write, mode 0600, lteproxy:lteproxy)");
    expect(r.out).toContain("+ /usr/local/bin/lteproxy (would write, mode 0755, root:root)");
    expect(r.out).toContain("dry run complete: nothing was changed");
  }, 60_000);
});

describe("uninstall.sh", () => {
  test("--help and --dry-run on a staged root change nothing", () => {
    expect(runScript(UNINSTALL, ["--help"], 10_000).out).toContain("--purge");
    if (!isRoot) return;
    const root = freshRoot("staged");
    expect(runScript(INSTALL, base(root), 60_000).code).toBe(0);
    const before = JSON.stringify(readdirSync(root, { recursive: true }).sort());
    const r = runScript(UNINSTALL, ["--root", root, "--purge", "--dry-run"], 30_000);
    expect(r.code).toBe(0);
    expect(r.out).toContain("would run: rm -rf");
    expect(JSON.stringify(readdirSync(root, { recursive: true }).sort())).toBe(before);
  }, 120_000);
});
