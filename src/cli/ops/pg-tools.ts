/**
 * pg_dump / pg_restore for backup and restore. They must be at least as new as the server: pg_dump refuses to dump
 * a newer server ("server version mismatch"). Candidates: the bin dir of the embedded cluster (findPgBinDir: next to
 * initdb), LTEPROXY_PG_BINDIR, every /usr/lib/postgresql/<N>/bin (Debian installs one per major), then PATH.
 * The password never appears on a command line: it goes through PGPASSWORD.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "../../db/client.ts";
import { findPgBinDir } from "../../db/embedded.ts";
import { AppError } from "../../lib/errors.ts";
import { run } from "../../lib/exec.ts";

export interface PgTool {
  path: string;
  major: number;
}

export async function serverMajor(sql: Sql): Promise<number> {
  const r = await sql`select current_setting('server_version_num')::int as n`;
  return Math.floor(Number(r[0]!.n) / 10_000);
}

function candidates(tool: string): string[] {
  const out: string[] = [];
  try {
    out.push(join(findPgBinDir(), tool));
  } catch {
    // no embedded/system cluster binaries: other candidates below
  }
  if (process.env.LTEPROXY_PG_BINDIR) out.push(join(process.env.LTEPROXY_PG_BINDIR, tool));
  if (existsSync("/usr/lib/postgresql")) {
    for (const v of readdirSync("/usr/lib/postgresql").filter((d) => /^\d+$/.test(d))) out.push(`/usr/lib/postgresql/${v}/bin/${tool}`);
  }
  const onPath = Bun.which(tool);
  if (onPath) out.push(onPath);
  return [...new Set(out)].filter((p) => existsSync(p));
}

async function toolMajor(path: string): Promise<number | undefined> {
  const r = await run([path, "--version"], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
  const m = r && /\(PostgreSQL\)\s+(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

/**
 * The best `tool` for a server of major version `major`: the same major if there is one, else the oldest newer one.
 * Throws PG_TOOL_NOT_FOUND naming what to install.
 */
export async function findPgTool(tool: "pg_dump" | "pg_restore", major: number): Promise<PgTool> {
  const found: PgTool[] = [];
  for (const path of candidates(tool)) {
    const m = await toolMajor(path);
    if (m !== undefined) found.push({ path, major: m });
  }
  const usable = found.filter((t) => t.major >= major).sort((a, b) => a.major - b.major);
  if (usable[0]) return usable[0];
  const seen = found.map((t) => `${t.path} (${t.major})`).join(", ") || "none";
  throw new AppError("PG_TOOL_NOT_FOUND", `no ${tool} for PostgreSQL ${major} (found: ${seen}): install postgresql-client-${major} ` +
    "or set LTEPROXY_PG_BINDIR to a directory holding it", { tool, major });
}

/** A libpq URL without its password, and the environment that carries the password instead. */
export function pgConnection(url: string): { url: string; env: Record<string, string>; secrets: string[] } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  return { url: u.toString(), env: password ? { PGPASSWORD: password } : {}, secrets: password ? [password, encodeURIComponent(password)] : [] };
}

/** Tables of the public schema with their row counts (what a backup manifest records and a restore checks). */
export async function tableRowCounts(sql: Sql): Promise<Record<string, number>> {
  const tables = await sql`select tablename from pg_tables where schemaname = 'public' order by tablename`;
  const out: Record<string, number> = {};
  for (const t of tables) {
    const name = t.tablename as string;
    const r = await sql`select count(*)::bigint as n from ${sql(name)}`;
    out[name] = Number(r[0]!.n);
  }
  return out;
}
