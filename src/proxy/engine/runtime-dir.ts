/**
 * Where the data plane finds its config and puts its socket and spool by default.
 * `LTEPROXY_RUNTIME_DIR` wins; otherwise /run/lteproxy as root, else $XDG_RUNTIME_DIR/lteproxy,
 * else /tmp/lteproxy-<uid>.
 */
import { join } from "node:path";

export function defaultRuntimeDir(env: Record<string, string | undefined> = process.env): string {
  if (env.LTEPROXY_RUNTIME_DIR) return env.LTEPROXY_RUNTIME_DIR;
  const uid = typeof process.getuid === "function" ? process.getuid() : -1;
  if (uid === 0) return "/run/lteproxy";
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "lteproxy");
  return `/tmp/lteproxy-${uid}`;
}

/** `<runtime dir>/proxy.json`: the file the control plane writes and `lteproxy proxy` watches. */
export function defaultConfigPath(env: Record<string, string | undefined> = process.env): string {
  return join(defaultRuntimeDir(env), "proxy.json");
}

/** Defaults for the two paths the config may leave out, relative to the config file's directory. */
export function defaultPaths(runtimeDir: string): { statsSocket: string; logSpoolDir: string } {
  return { statsSocket: join(runtimeDir, "proxy-stats.sock"), logSpoolDir: join(runtimeDir, "connlog") };
}
