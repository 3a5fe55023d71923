/**
 * postgres.js client. One pool per process; LISTEN uses its own dedicated connection inside postgres.js.
 */
import postgres from "postgres";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("db");

export type Sql = postgres.Sql<Record<string, unknown>>;

export interface ConnectOptions {
  max?: number;
  applicationName?: string;
  /** Seconds to wait for a connection before failing a query. */
  connectTimeout?: number;
}

/** Opens a pool. Notices are logged at debug (migrations print many). */
export function connect(url: string, opts: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeout ?? 10,
    idle_timeout: 60,
    // Reconnect soon after a PostgreSQL restart (the default backoff grows to 20 s); seconds.
    backoff: (attempt: number) => Math.min(0.2 * 2 ** attempt, 2),
    onnotice: (notice) => log.debug({ notice: notice.message }, "postgres notice"),
    connection: { application_name: opts.applicationName ?? "lteproxy" },
    // int8 (bigserial ids, byte counters) as JS numbers: our values stay far below 2^53.
    types: { bigint: { to: 20, from: [20], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) } },
    transform: { undefined: null },
  }) as unknown as Sql;
}

/** Cheap reachability probe for /readyz and doctor. */
export async function ping(sql: Sql, timeoutMs = 2000): Promise<boolean> {
  try {
    await Promise.race([
      sql`select 1`,
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs)),
    ]);
    return true;
  } catch {
    return false;
  }
}
