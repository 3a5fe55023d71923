/**
 * Opens the database the configuration names, or starts the embedded default when none is given.
 */
import { join } from "node:path";
import { connect, type Sql } from "./client.ts";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded.ts";
import { childLogger } from "../lib/logger.ts";

const log = childLogger("db");

export interface OpenDatabase {
  sql: Sql;
  url: string;
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

export async function openDatabase(opts: { url: string; dataDir: string; max?: number; applicationName?: string }): Promise<OpenDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let url = opts.url;
  if (!url) {
    log.info({ dataDir: opts.dataDir }, "no DATABASE_URL: starting the embedded PostgreSQL");
    embedded = await startEmbeddedPostgres({ dataDir: join(opts.dataDir, "db") });
    url = embedded.url;
  }
  const sql = connect(url, { max: opts.max, applicationName: opts.applicationName });
  return {
    sql,
    url,
    embedded,
    async close() {
      await sql.end({ timeout: 5 }).catch(() => undefined);
      await embedded?.stop();
    },
  };
}
