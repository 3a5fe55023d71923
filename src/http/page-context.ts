/** Things every page needs: the user, the read-only banner, the node list for the fleet filter. */
import type { HttpEnv } from "./env.ts";
import { principalOf } from "./request-state.ts";
import type { PageUser } from "../../views/layout.tsx";
import { listNodes } from "./queries/misc.ts";

export const DB_DOWN_BANNER = "Database unreachable: the panel is read-only and may show stale data. Modems and proxies keep running.";

export function pageUser(request: Request): PageUser {
  const p = principalOf(request);
  return { username: p.username, role: p.role };
}

export function banner(env: HttpEnv): string | undefined {
  return env.ctx.db.healthy() ? undefined : DB_DOWN_BANNER;
}

let nodeCache: { at: number; ids: string[] } = { at: 0, ids: [] };

/** Node ids for the fleet filter (cached for 30 s; empty while the DB is down). */
export async function nodeIds(env: HttpEnv): Promise<string[]> {
  if (env.now() - nodeCache.at > 30_000) {
    try {
      nodeCache = { at: env.now(), ids: (await listNodes(env.ctx.sql)).map((n) => n.id) };
    } catch {
      return nodeCache.ids;
    }
  }
  return nodeCache.ids;
}

/** postgres.js connection failures (as opposed to a query bug, which should surface as a logged 500). */
export function isConnectionError(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? "");
  return /^(CONNECTION_|CONNECT_TIMEOUT|ECONN|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|57P0)/.test(code);
}

/** Runs a page's reads; while the database is unreachable returns `fallback` and the banner instead of a 500. */
export async function readOr<T>(env: HttpEnv, fallback: T, read: () => Promise<T>): Promise<{ value: T; banner?: string }> {
  try {
    return { value: await read(), banner: banner(env) };
  } catch (error) {
    if (env.ctx.db.healthy() && !isConnectionError(error)) throw error;
    return { value: fallback, banner: DB_DOWN_BANNER };
  }
}
