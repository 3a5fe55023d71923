/**
 * Reading and writing /proc/sys behind an interface. /proc/sys/net belongs to the network namespace of the process
 * that opens it, so a namespace other than our own is reached through `ip netns exec <ns> sysctl`.
 * Keys are relative to /proc/sys and slash-separated ("net/ipv4/conf/wwan0/rp_filter").
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import type { CommandRunner } from "./ip-command.ts";

export interface SysctlAccess {
  /** Current values; a key that does not exist (interface gone) is absent from the map. */
  read(keys: string[]): Promise<Map<string, string>>;
  /** Writes each value. Throws SYSCTL_WRITE_FAILED naming the keys that failed. */
  write(values: Map<string, string>): Promise<void>;
}

function checkKey(key: string): void {
  if (!/^[A-Za-z0-9_./:@-]+$/.test(key) || key.split("/").some((p) => p === ".." || p === "")) {
    throw new AppError("SYSCTL_INVALID_KEY", `invalid sysctl key ${JSON.stringify(key)}`);
  }
}

/** Direct file access under `root` (default /proc/sys); tests point it at a temp dir. */
export function fileSysctl(root = "/proc/sys"): SysctlAccess {
  return {
    async read(keys) {
      const out = new Map<string, string>();
      for (const key of keys) {
        checkKey(key);
        try {
          out.set(key, (await readFile(join(root, key), "utf8")).trim());
        } catch {
          // Missing key: the interface is gone or not yet there. The caller treats it as "cannot set".
        }
      }
      return out;
    },
    async write(values) {
      const failed: string[] = [];
      for (const [key, value] of values) {
        checkKey(key);
        try {
          await writeFile(join(root, key), `${value}\n`);
        } catch (error) {
          failed.push(`${key}: ${(error as Error).message}`);
        }
      }
      if (failed.length) throw new AppError("SYSCTL_WRITE_FAILED", `cannot write ${failed.join(", ")}`, { failed });
    },
  };
}

/** sysctl(8) prints "a.b.c = v" with dots; dots inside a component (eth0.5) come out as slashes. */
const printedName = (key: string) => key.split("/").map((part) => part.replaceAll(".", "/")).join(".");

/** `ip netns exec <ns> sysctl …`: one process per read or write batch. */
export function netnsSysctl(netns: string, runner: CommandRunner = run): SysctlAccess {
  const exec = (args: string[]) => runner(["ip", "netns", "exec", netns, "sysctl", ...args], { check: false, timeoutMs: 10_000 });
  return {
    async read(keys) {
      keys.forEach(checkKey);
      const out = new Map<string, string>();
      if (keys.length === 0) return out;
      const res = await exec(["-e", ...keys]);
      const byName = new Map(keys.map((k) => [printedName(k), k]));
      for (const line of res.stdout.split("\n")) {
        const m = /^(\S+) = (.*)$/.exec(line.trim());
        const key = m && byName.get(m[1]!);
        if (m && key) out.set(key, m[2]!.trim());
      }
      return out;
    },
    async write(values) {
      if (values.size === 0) return;
      const args = [...values].map(([k, v]) => { checkKey(k); return `${k}=${v}`; });
      const res = await exec(["-q", "-w", ...args]);
      if (res.code !== 0) throw new AppError("SYSCTL_WRITE_FAILED", `sysctl in ${netns}: ${res.stderr.trim()}`, { stderr: res.stderr });
    },
  };
}
