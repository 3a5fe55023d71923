/**
 * Wires the system: the ONLY place that picks real or simulated parts. `serve` and `demo` both come here.
 */
import { hostname } from "node:os";
import type { Config } from "./config.ts";
import { openDatabase, type OpenDatabase } from "./db/open.ts";
import { migrate } from "./db/migrate.ts";
import { registerNode, heartbeat } from "./db/queries/nodes.ts";
import { EventStream } from "./events/event-stream.ts";
import { createHttpApp } from "./http/server.ts";
import { childLogger } from "./lib/logger.ts";
import { VERSION } from "./version.ts";

const log = childLogger("app");

export interface RunningApp {
  config: Config;
  db: OpenDatabase;
  events: EventStream;
  url: string;
  stop(): Promise<void>;
}

export async function startApp(config: Config): Promise<RunningApp> {
  const db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: config.database.max_connections });
  const cleanups: Array<() => Promise<void> | void> = [() => db.close()];
  try {
    const applied = await migrate(db.sql);
    if (applied.length) log.info({ applied }, "migrations applied");
    await registerNode(db.sql, { id: config.node.id, hostname: hostname(), version: VERSION });
    const beat = setInterval(() => {
      heartbeat(db.sql, config.node.id, { pid: process.pid }).catch((e) => log.warn({ err: e.message }, "heartbeat failed"));
    }, 10_000);
    cleanups.unshift(() => clearInterval(beat));

    const events = new EventStream(db.sql);
    await events.start();
    cleanups.unshift(() => events.stop());

    const app = createHttpApp({ sql: db.sql, nodeId: config.node.id });
    const tls = config.http.tls_cert && config.http.tls_key
      ? { cert: Bun.file(config.http.tls_cert), key: Bun.file(config.http.tls_key) }
      : undefined;
    app.listen({ hostname: config.http.host, port: config.http.port, tls });
    cleanups.unshift(async () => {
      await app.stop();
    });
    const shownHost = config.http.host === "0.0.0.0" ? "127.0.0.1" : config.http.host;
    const url = config.http.public_url || `${tls ? "https" : "http"}://${shownHost}:${app.server?.port ?? config.http.port}/`;
    log.info({ url, node: config.node.id }, "control plane listening");
    let stopped = false;
    return {
      config, db, events, url,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const c of cleanups) await Promise.resolve(c()).catch((e) => log.warn({ err: String(e) }, "cleanup failed"));
      },
    };
  } catch (error) {
    for (const c of cleanups) await Promise.resolve(c()).catch(() => undefined);
    throw error;
  }
}
