/** Shared pieces of the installer tests: running the scripts, a dummy lteproxy binary, a manifest of a tree. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const REPO = join(import.meta.dir, "../../..");
export const INSTALL = join(REPO, "appliance/install.sh");
export const UNINSTALL = join(REPO, "appliance/uninstall.sh");

export interface ScriptResult {
  code: number;
  out: string;
}

/** Runs a script to completion (stdout and stderr together, as an operator sees them). */
export function runScript(script: string, args: string[], timeoutMs = 600_000): ScriptResult {
  const r = spawnSync("bash", [script, ...args], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, LC_ALL: "C.UTF-8" } });
  return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** A stand-in for the real binary: the installer only runs `version` on it. */
export function writeDummyBinary(path: string, version: string): void {
  writeFileSync(path, `#!/bin/sh\ncase "$1" in\n  version) echo "lteproxy ${version} (commit test, built test)" ;;\n  *) echo "dummy lteproxy: $*" >&2; exit 1 ;;\nesac\n`, { mode: 0o755 });
}

export interface Entry {
  type: "file" | "dir" | "link";
  mode: number;
  uid: number;
  gid: number;
  /** For files: size, mtime and inode (any rewrite changes one of them), or the sha256 with `hash`; link target. */
  content: string;
}

/**
 * Every path under root (minus the excluded subtrees) with type, mode and owner. Files are compared by size, mtime
 * and inode, which is stricter than content (rewriting identical bytes counts as a change) and avoids hashing a
 * whole Debian root; `hash: true` uses sha256 instead.
 */
export function manifest(root: string, exclude: string[] = [], hash = false): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (exclude.some((x) => r === x || r.startsWith(`${x}/`))) continue;
      const p = join(root, r);
      const st = lstatSync(p);
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isSymbolicLink()) out.set(r, { type: "link", ...base, content: readlinkSync(p) });
      else if (st.isDirectory()) {
        out.set(r, { type: "dir", ...base, content: "" });
        walk(r);
      } else if (st.isFile()) {
        const content = hash ? createHash("sha256").update(readFileSync(p)).digest("hex") : `${st.size}:${st.mtimeMs}:${st.ino}`;
        out.set(r, { type: "file", ...base, content });
      }
    }
  };
  walk("");
  return out;
}

/** Paths whose entry differs between two manifests (added, removed or changed). */
export function manifestDiff(a: Map<string, Entry>, b: Map<string, Entry>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))).sort();
}

/** Mode and owner of a path inside the root, for assertions like `expect(stat(...)).toEqual(...)`. */
export function modeOf(root: string, rel: string): string {
  const st = lstatSync(join(root, rel));
  return (st.mode & 0o7777).toString(8).padStart(4, "0");
}
