/**
 * Preloaded by bun test (bunfig.toml). Quiet logs; stop the shared embedded PostgreSQL at the end of the run.
 */
import { afterAll } from "bun:test";
import { stopSharedTestPostgres } from "./helpers/db.ts";

process.env.NODE_ENV = "test";
process.env.LTEPROXY_LOG_LEVEL ??= "silent";

afterAll(async () => {
  await stopSharedTestPostgres();
});
