/**
 * The config file contract between control plane and data plane: the control plane writes with
 * `writeProxyConfigFile` (tmp + fsync + rename, so the engine never reads half a file), the engine
 * reads with `readProxyConfigFile` and watches with `watchProxyConfigFile` (inotify on the
 * directory, because an atomic rename replaces the inode a file watch would be holding).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, watch, writeSync } from "node:fs";
import { basename, dirname } from "node:path";
import { AppError } from "../../lib/errors.ts";
import { parseProxyConfig, type ProxyConfig, type ProxyConfigInput } from "./config-schema.ts";

/** Reads and validates the file. Throws PROXY_CONFIG_MISSING, PROXY_CONFIG_JSON or PROXY_CONFIG_INVALID. */
export function readProxyConfigFile(path: string): { config: ProxyConfig; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppError("PROXY_CONFIG_MISSING", `cannot read proxy config ${path}`, { path }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AppError("PROXY_CONFIG_JSON", `proxy config ${path} is not JSON: ${(e as Error).message}`, { path });
  }
  return { config: parseProxyConfig(json), text };
}

/**
 * Atomically replaces `path` with the JSON of `config` (validated first, so the control plane
 * cannot hand the data plane a file it would refuse). Mode 0600: it holds password hashes.
 */
export function writeProxyConfigFile(path: string, config: ProxyConfigInput): void {
  parseProxyConfig(config);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(config, null, 2) + "\n");
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * Calls `onChange` (debounced) whenever `path` is created, replaced or written.
 * Returns a function that stops watching.
 */
export function watchProxyConfigFile(path: string, onChange: () => void, debounceMs = 50): () => void {
  const dir = dirname(path);
  const name = basename(path);
  mkdirSync(dir, { recursive: true });
  let timer: ReturnType<typeof setTimeout> | null = null;
  const watcher = watch(dir, { persistent: false }, (_event, file) => {
    // Some platforms omit the name; then any change in the directory triggers a (cheap) re-read.
    if (file !== null && file !== undefined && String(file) !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
  });
  watcher.on("error", () => {});
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
