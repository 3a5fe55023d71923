/**
 * Keeps a PostgreSQL restart from killing the control plane. postgres.js 3.4.9 batches small writes behind a
 * setImmediate; when the server closes the connection before that fires, `nextWrite` dereferences the nulled socket
 * and throws from the timer, outside any await, which crashes the process ("null is not an object (evaluating
 * 'socket.write')"; porsager/postgres#1066, #1154, #1208, fixes in open PRs #1168/#1209). Reproduced here by
 * tests/integration/outage/pg-restart.test.ts. That exception, and only that one, is logged and swallowed: the
 * connection is already gone and the pool reconnects. Everything else still ends the process, as without a handler.
 *
 *   installPgCrashGuard();   // first thing in `lteproxy serve`
 *
 * The real fix belongs in the driver (tests/integration/outage/fixtures/pg-driver-fix.ts has the patch).
 */
import { childLogger } from "../lib/logger.ts";

const log = childLogger("outage");

/** The postgres.js nextWrite-after-close TypeError. */
export function isPgNextWriteCrash(e: unknown): boolean {
  if (!(e instanceof TypeError)) return false;
  const stack = e.stack ?? "";
  return /socket\.write|reading 'write'/.test(e.message) && /postgres[\\/](?:cjs[\\/])?src[\\/]connection\.js/.test(stack) && stack.includes("nextWrite");
}

let installed: ((e: unknown) => void) | null = null;
export let swallowedPgCrashes = 0;

/**
 * Installs the process handler once. `onOther` decides about any other uncaught exception (default: log it and exit
 * 1, which is what an unhandled exception does anyway).
 */
export function installPgCrashGuard(onOther: (e: unknown) => void = defaultOther): () => void {
  if (installed) return () => undefined;
  const handler = (e: unknown) => {
    if (isPgNextWriteCrash(e)) {
      swallowedPgCrashes++;
      log.error({ err: (e as Error).message }, "postgres.js wrote to a closed connection (driver bug): ignored, the pool reconnects");
      return;
    }
    onOther(e);
  };
  process.on("uncaughtException", handler);
  installed = handler;
  return () => {
    process.off("uncaughtException", handler);
    installed = null;
  };
}

function defaultOther(e: unknown): void {
  console.error(e);
  process.exit(1);
}
