/**
 * `lteproxy demo`: the main job of a fresh checkout. Embedded PostgreSQL + simulated EC25 modems (+ the lab network
 * as root) + the control plane + live proxy ports. Prints the panel URL, the login and the proxy table; Ctrl-C stops
 * and removes everything it started.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { loadConfig, type Config } from "./config.ts";
import { startApp, type AppParts, type RunningApp } from "./app.ts";
import { setLogLevel } from "./lib/logger.ts";
import { waitForSignal } from "./lib/signals.ts";
import { startSimLab, type SimLab } from "./sim/lab.ts";
import { createLabNetwork, newLabId, type LabNetwork } from "./sim/net/index.ts";
import { formatProxies, proxyTableIfReady } from "./cli/proxies.ts";

export const DEMO_PASSWORD = "lteproxy-demo";

export interface DemoOptions {
  modems: number;
  net: "lab" | "loopback" | "none";
  httpPort: number;
  dataDir?: string;
  configFile?: string;
  /** Simulator speed (1 = realistic timings). */
  timeScale?: number;
  /** Use this database instead of the demo's own embedded one (tests). */
  databaseUrl?: string;
  /** Health timings, webhook and observers for the app's own health (lab tests). */
  health?: AppParts["health"];
}

export interface RunningDemo {
  app: RunningApp;
  lab: SimLab;
  net?: LabNetwork;
  config: Config;
  stop(): Promise<void>;
}

/** Starts the lab and the appliance on it (also used by the end-to-end tests). */
export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const base = loadConfig({ file: opts.configFile });
  const dataDir = opts.dataDir ?? join(base.paths.data_dir, "demo");
  const runtimeDir = join(dataDir, "run");
  mkdirSync(runtimeDir, { recursive: true });
  const labId = newLabId("d");
  const net = opts.net === "none" ? undefined : createLabNetwork(opts.net, { labId, runDir: runtimeDir });
  const lab = await startSimLab({ modems: opts.modems, net, labId, timeScale: opts.timeScale ?? 0.2 });
  try {
    const info = net?.info();
    const parts: AppParts = {
      netMode: opts.net === "loopback" ? "loopback" : "real",
      nsExec: info?.boxNs ? ["ip", "netns", "exec", info.boxNs] : undefined,
      manager: { devRoot: lab.info.devRoot, pollMs: 10_000, fastPollMs: 1000 },
      // the lab runs faster than life: the 5 s airplane hold (ec25.md §6) shrinks with it
      rotation: { airplaneHoldMs: Math.max(200, Math.round(5000 * (opts.timeScale ?? 0.2))) },
      health: opts.health,
    };
    const config = loadConfig({
      file: opts.configFile,
      overrides: {
        http: { port: opts.httpPort },
        // the demo always uses its own embedded database, never the production one
        database: { url: opts.databaseUrl ?? "" },
        paths: { data_dir: dataDir, runtime_dir: runtimeDir, device_dir: lab.info.deviceDir, sysfs_root: lab.info.sysfsRoot },
        node: { id: "demo" },
        // a known login for the demo's own database (first run creates it); production generates a one-time one
        auth: { admin_password: process.env.LTEPROXY_ADMIN_PASSWORD || DEMO_PASSWORD },
        net: {
          driver: opts.net === "none" ? "none" : "qmi",
          qmicli: lab.info.qmicli,
          netns: info?.boxNs ?? "",
          qmi_data_format: "none",
        },
        proxy: {
          listen: opts.net === "loopback" ? "127.0.0.1" : "0.0.0.0",
          public_host: info?.lanIp ?? "127.0.0.1",
        },
        health: { check_url: info?.echoUrl ? `${info.echoUrl}/ip` : "" },
      },
    });
    const app = await startApp(config, parts);
    return {
      app, lab, net, config,
      async stop() {
        await app.stop({ stopDataPlane: true });
        await lab.stop();
      },
    };
  } catch (error) {
    await lab.stop().catch(() => undefined);
    throw error;
  }
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  setLogLevel(process.env.LTEPROXY_LOG_LEVEL ?? "warn");
  const startedAt = new Date();
  const demo = await startDemo(opts);
  const { app, lab, config } = demo;
  console.log(`lteproxy demo: panel at ${app.url}`);
  console.log(`  login: admin / ${process.env.LTEPROXY_ADMIN_PASSWORD ? "(LTEPROXY_ADMIN_PASSWORD)" : DEMO_PASSWORD}`);
  console.log(`  ${opts.modems} simulated EC25 modems (${opts.net} network); device dir ${lab.info.deviceDir}`);
  console.log(`  data dir ${config.paths.data_dir} (embedded PostgreSQL)`);
  console.log(`  fault injection: lteproxy sim ctl <slot|imei|all> <action>   (control socket ${lab.info.ctlSocket ?? "-"})`);
  void (async () => {
    // Show the proxy table once the modems are online.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const list = await proxyTableIfReady(app.db.sql, {
        nodeId: config.node.id, host: config.proxy.public_host, modems: opts.modems, since: startedAt,
        // without a lab network there is no public-IP probe
        probed: config.health.check_url !== "",
      }).catch(() => null);
      if (list) {
        console.log(`\nproxy ports (HTTP and SOCKS5 on each):\n${formatProxies(list)}\n`);
        const echo = demo.net?.info().echoUrl;
        const first = list[0]!;
        if (echo) {
          const target = demo.net?.info().echoHost && opts.net === "lab" ? `http://${demo.net.info().echoHost}/ip` : `${echo}/ip`;
          console.log(`try: curl -x ${first.url_http} ${target}    (answers the modem's public IP)\n`);
        }
        return;
      }
      await Bun.sleep(1000);
    }
  })();
  console.log("  Press Ctrl-C to stop.");
  await waitForSignal();
  await demo.stop();
  return 0;
}
