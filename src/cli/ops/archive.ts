/**
 * The backup archive: one tar (gzip, or zstd for a name ending in .zst) holding
 *   manifest.json          what made it: lteproxy version, schema_migrations, server version, row counts
 *   database.dump          pg_dump --format=custom of the lteproxy database
 *   config/<file>          the config files (/etc/lteproxy/lteproxy.toml and lteproxy.env, when readable)
 * The manifest is checked before anything is restored.
 */
import * as v from "valibot";
import { mkdirSync } from "node:fs";
import { AppError } from "../../lib/errors.ts";
import { run } from "../../lib/exec.ts";

export const MANIFEST_FILE = "manifest.json";
export const DUMP_FILE = "database.dump";
export const CONFIG_DIR = "config";

export const ManifestSchema = v.object({
  format: v.literal("lteproxy-backup"),
  formatVersion: v.literal(1),
  lteproxy: v.object({ version: v.string(), commit: v.string() }),
  createdAt: v.string(),
  nodeId: v.string(),
  hostname: v.string(),
  database: v.object({ serverMajor: v.number(), name: v.string(), dumpTool: v.string() }),
  schemaMigrations: v.array(v.object({ version: v.number(), name: v.string(), checksum: v.string() })),
  rowCounts: v.record(v.string(), v.number()),
  /** Config files in the archive (config/<name>) and where they came from. */
  config: v.object({ files: v.array(v.object({ name: v.string(), from: v.string() })), skipped: v.array(v.string()) }),
});

export type BackupManifest = v.InferOutput<typeof ManifestSchema>;

export function parseManifest(text: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError("BACKUP_INVALID", "the backup's manifest.json is not JSON");
  }
  const r = v.safeParse(ManifestSchema, json);
  if (!r.success) {
    const issues = r.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
    throw new AppError("BACKUP_INVALID", `not an lteproxy backup manifest: ${issues.slice(0, 3).join("; ")}`, { issues });
  }
  return r.output;
}

const isZstd = (file: string) => /\.(tar\.)?zst$|\.tzst$/.test(file);

/** Packs the contents of `dir` into `file` (written by tar; the caller renames it into place). */
export async function packArchive(dir: string, file: string): Promise<void> {
  const compress = isZstd(file) ? ["--zstd"] : ["-z"];
  await run(["tar", ...compress, "-cf", file, "-C", dir, "."], { timeoutMs: 3_600_000 });
}

/** Unpacks `file` into `dir` after checking that every member is a plain relative path (no "..", no absolute). */
export async function unpackArchive(file: string, dir: string): Promise<string[]> {
  const compress = isZstd(file) ? ["--zstd"] : ["-z"];
  const list = await run(["tar", ...compress, "-tf", file], { check: false, timeoutMs: 600_000 });
  if (list.code !== 0) throw new AppError("BACKUP_INVALID", `${file} is not a readable backup archive: ${list.stderr.trim().split("\n")[0]}`);
  const members = list.stdout.split("\n").filter(Boolean);
  for (const m of members) {
    const clean = m.replace(/^\.\//, "");
    if (clean.startsWith("/") || clean.split("/").includes("..")) {
      throw new AppError("BACKUP_INVALID", `${file} holds an unsafe path ${JSON.stringify(m)}`);
    }
  }
  mkdirSync(dir, { recursive: true });
  await run(["tar", ...compress, "-xf", file, "-C", dir, "--no-same-owner", "--no-same-permissions"], { timeoutMs: 3_600_000 });
  return members.map((m) => m.replace(/^\.\//, "")).filter((m) => m !== "" && !m.endsWith("/"));
}
