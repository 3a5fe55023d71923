/**
 * Telling "PostgreSQL is away" apart from "this statement is wrong", and waiting out the former. During a restart
 * (`pg_ctlcluster 15 main restart`, a failover) postgres.js rejects queries with connection codes or SQLSTATE class
 * 08 / 57P0x; those are worth retrying. A constraint violation or a syntax error is not, and must reach the caller.
 */
import { AppError } from "../lib/errors.ts";
import { backoffMs } from "../lib/clock.ts";

/** postgres.js and socket codes of a connection that failed or went away. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT",
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up / shutting down), too_many_connections
  "57P01", "57P02", "57P03", "53300",
  // ours: a statement abandoned after hanging on a half-dead connection (withDbTimeout)
  "DB_TIMEOUT",
]);

/** Codes that fail before the statement reached the server: the write certainly did not happen. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "CONNECT_TIMEOUT", "ENOTFOUND", "EAI_AGAIN", "57P03", "53300", "DB_UNAVAILABLE"]);

function codeOf(e: unknown): string {
  if (e && typeof e === "object" && "code" in e) return String((e as { code: unknown }).code ?? "");
  return "";
}

/** True when `e` says the database is unreachable (retry later), not that the statement was refused. */
export function isConnectionError(e: unknown): boolean {
  const code = codeOf(e);
  if (CONNECTION_CODES.has(code) || code.startsWith("08") || code === "DB_UNAVAILABLE") return true;
  // Bun's socket layer sometimes reports a refused connect without a code, only the message.
  const msg = e instanceof Error ? e.message : "";
  return !code && /ECONNREFUSED|connection (?:closed|terminated|refused|ended)|write after end/i.test(msg);
}

/** True when the failed statement may have been committed before the connection died (check before rewriting). */
export function mayHaveCommitted(e: unknown): boolean {
  return isConnectionError(e) && !NOT_SENT_CODES.has(codeOf(e));
}

/**
 * Abandons a statement that hangs (a connection that died mid-write can leave its query pending forever in
 * postgres.js 3.4.9). Rejects with DB_TIMEOUT, which counts as a connection error that may have committed.
 */
export function withDbTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new AppError("DB_TIMEOUT", `no answer from PostgreSQL within ${ms} ms`)), ms);
    }),
  ]);
}

export interface RetryOptions {
  /** Give up after this long without PostgreSQL (default 60 s); then DB_UNAVAILABLE is thrown. */
  waitMs?: number;
  /** Stops waiting early (shutdown): the last error is thrown. */
  signal?: AbortSignal;
  baseMs?: number;
  capMs?: number;
  /** One try is abandoned after this long (default 20 s). */
  attemptMs?: number;
}

/**
 * Runs `fn`, retrying with backoff while the database is unreachable. Other errors are thrown at once. Use for
 * idempotent statements of background jobs that may simply wait for PostgreSQL to come back.
 */
export async function retryDb<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await withDbTimeout(fn(), opts.attemptMs ?? 20_000);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      if (Date.now() >= deadline || opts.signal?.aborted) {
        throw new AppError("DB_UNAVAILABLE", `PostgreSQL unreachable: ${(error as Error).message}`, undefined, { cause: error });
      }
      await Bun.sleep(Math.min(backoffMs(attempt, opts.baseMs ?? 100, opts.capMs ?? 2000), Math.max(0, deadline - Date.now())));
    }
  }
}
