/** The atomic writer: mode, content, no temp files left, unchanged files keep their mtime, failures are AppErrors. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError } from "../../../src/lib/errors.ts";
import { writeFileAtomic, writeThreeProxyFiles } from "../../../src/proxy/three-proxy/atomic-write.ts";

const dir = mkdtempSync(join(tmpdir(), "ltp-atomic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  test("writes the content with mode 0640 regardless of umask, and leaves no temp file", () => {
    const old = process.umask(0o077);
    try {
      const path = join(dir, "a.cfg");
      expect(writeFileAtomic(path, "hello\n")).toBe(true);
      expect(readFileSync(path, "utf8")).toBe("hello\n");
      expect(statSync(path).mode & 0o777).toBe(0o640);
      expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    } finally {
      process.umask(old);
    }
  });

  test("replaces the inode (rename), so a reader holding the old file keeps the old content", () => {
    const path = join(dir, "b.cfg");
    writeFileAtomic(path, "one\n");
    const before = statSync(path).ino;
    writeFileAtomic(path, "two\n", { mode: 0o600 });
    expect(statSync(path).ino).not.toBe(before);
    expect(readFileSync(path, "utf8")).toBe("two\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("skipUnchanged keeps the file (and its mtime) when the content is the same", () => {
    const path = join(dir, "c.cfg");
    writeFileAtomic(path, "same\n");
    utimesSync(path, new Date(1_000_000_000), new Date(1_000_000_000));
    expect(writeFileAtomic(path, "same\n", { skipUnchanged: true })).toBe(false);
    expect(statSync(path).mtimeMs).toBe(1_000_000_000);
    expect(writeFileAtomic(path, "different\n", { skipUnchanged: true })).toBe(true);
    expect(statSync(path).mtimeMs).not.toBe(1_000_000_000);
  });

  test("a missing directory gives FILE_WRITE_FAILED and no stray files", () => {
    let caught: unknown;
    try {
      writeFileAtomic(join(dir, "nope", "x.cfg"), "x");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe("FILE_WRITE_FAILED");
  });

  test("a target that is a directory fails cleanly and removes the temp file", () => {
    const target = join(dir, "is-a-dir");
    mkdirSync(join(target, "inner"), { recursive: true });
    expect(() => writeFileAtomic(target, "x")).toThrow(AppError);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });
});

describe("writeThreeProxyFiles", () => {
  test("writes both files and reports whether anything changed", () => {
    const paths = { cfg: join(dir, "m.cfg"), passwd: join(dir, "m.passwd") };
    expect(writeThreeProxyFiles({ cfg: "cfg\n", passwd: "alice:CL:x\n" }, paths)).toBe(true);
    expect(writeThreeProxyFiles({ cfg: "cfg\n", passwd: "alice:CL:x\n" }, paths)).toBe(false);
    expect(writeThreeProxyFiles({ cfg: "cfg\n", passwd: "alice:CL:y\n" }, paths)).toBe(true);
    expect(readFileSync(paths.passwd, "utf8")).toBe("alice:CL:y\n");
    expect(statSync(paths.cfg).mode & 0o777).toBe(0o640);
    writeFileSync(paths.cfg, "edited by hand\n");
    expect(writeThreeProxyFiles({ cfg: "cfg\n", passwd: "alice:CL:y\n" }, paths)).toBe(true);
    expect(readFileSync(paths.cfg, "utf8")).toBe("cfg\n");
  });
});
