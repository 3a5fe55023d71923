/**
 * Atomic file replacement for rendered configs: write a temp file in the same directory, fsync it, rename it over
 * the target, fsync the directory. 3proxy's `monitor` may reload at any second (3proxy.md §3), so it must never see
 * a half-written file; a reload from a truncated config leaves the instance alive with no listeners.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { AppError } from "../../lib/errors.ts";
import type { RenderedThreeProxy } from "./render.ts";
import type { ThreeProxyPaths } from "./model.ts";

export interface AtomicWriteOptions {
  /** Final mode, set with fchmod so the umask does not matter. Default 0640 (3proxy reads it through its group). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Leave the file alone (no new mtime, so no 3proxy reload) when it already holds exactly this content. */
  skipUnchanged?: boolean;
}

function sameContent(path: string, content: string): boolean {
  try {
    return readFileSync(path, "utf8") === content;
  } catch {
    return false;
  }
}

/** Replaces `path` with `content` atomically. Returns false when skipUnchanged found nothing to do. */
export function writeFileAtomic(path: string, content: string, opts: AtomicWriteOptions = {}): boolean {
  const { mode = 0o640, uid, gid, skipUnchanged = false } = opts;
  if (skipUnchanged && sameContent(path, content)) return false;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o600);
    const bytes = Buffer.from(content, "utf8");
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fchmodSync(fd, mode);
    if (uid !== undefined || gid !== undefined) fchownSync(fd, uid ?? -1, gid ?? -1);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new AppError("FILE_WRITE_FAILED", `cannot write ${path}: ${(error as Error).message}`, { path }, { cause: error });
  }
  // The rename is durable only once the directory entry is on disk.
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself already happened.
  }
  return true;
}

/**
 * Writes a rendered modem: the users file first, then the config, so a reload triggered by the config never reads
 * an older users file. Returns true when either file changed (the caller then health-checks the port).
 */
export function writeThreeProxyFiles(
  rendered: RenderedThreeProxy,
  paths: Pick<ThreeProxyPaths, "cfg" | "passwd">,
  opts: Omit<AtomicWriteOptions, "skipUnchanged"> = {},
): boolean {
  const passwdChanged = writeFileAtomic(paths.passwd, rendered.passwd, { ...opts, skipUnchanged: true });
  const cfgChanged = writeFileAtomic(paths.cfg, rendered.cfg, { ...opts, skipUnchanged: true });
  return passwdChanged || cfgChanged;
}
