/**
 * `lteproxy demo`: the main job of a fresh checkout. Embedded PostgreSQL + control plane (+ simulated modems and
 * proxy ports as those subsystems land). Everything it starts is stopped on Ctrl-C.
 */
import { join } from "node:path";
import { loadConfig } from "./config.ts";
import { startApp } from "./app.ts";
import { setLogLevel } from "./lib/logger.ts";
import { waitForSignal } from "./lib/signals.ts";

export interface DemoOptions {
  modems: number;
  net: "lab" | "loopback" | "none";
  httpPort: number;
  dataDir?: string;
  configFile?: string;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const base = loadConfig({ file: opts.configFile });
  const dataDir = opts.dataDir ?? join(base.paths.data_dir, "demo");
  const config = loadConfig({
    file: opts.configFile,
    overrides: {
      http: { port: opts.httpPort },
      // the demo always uses its own embedded database, never the production one
      database: { url: "" },
      paths: { data_dir: dataDir },
      node: { id: "demo" },
    },
  });
  setLogLevel(process.env.LTEPROXY_LOG_LEVEL ?? "warn");
  const app = await startApp(config);
  console.log(`lteproxy demo: panel at ${app.url}`);
  console.log(`  data dir: ${dataDir} (embedded PostgreSQL)`);
  console.log("  Press Ctrl-C to stop.");
  await waitForSignal();
  await app.stop();
  return 0;
}
