#!/usr/bin/env bun
/**
 * CLI: lteproxy <command>. Every command has --help. Errors print a clear message and exit non-zero.
 */
import { loadConfig, type Config } from "./config.ts";
import { parseArgs, intFlag, strFlag, type ParsedArgs } from "./cli/args.ts";
import { AppError } from "./lib/errors.ts";
import { setLogLevel } from "./lib/logger.ts";
import { versionLine } from "./version.ts";
import { waitForSignal } from "./lib/signals.ts";
import { OPS_COMMANDS } from "./cli/ops/index.ts";

type Command = { summary: string; usage: string; run(argv: string[]): Promise<number> };

function configFrom(args: ParsedArgs, overrides: Record<string, Record<string, unknown>> = {}): Config {
  const config = loadConfig({ file: strFlag(args, "config"), overrides });
  setLogLevel(config.log.level);
  return config;
}

/** Opens the configured database for a CLI command that only reads/writes rows (the command parses its own flags). */
async function withDb(argv: string[], fn: (db: { sql: import("./db/client.ts").Sql }, config: Config) => Promise<number>): Promise<number> {
  const i = argv.findIndex((a) => a === "--config" || a.startsWith("--config="));
  const file = i === -1 ? undefined : argv[i]!.includes("=") ? argv[i]!.slice(argv[i]!.indexOf("=") + 1) : argv[i + 1];
  const config = loadConfig({ file });
  setLogLevel(config.log.level === "info" ? "warn" : config.log.level);
  if (argv.includes("--help") || argv.includes("-h")) return fn({ sql: undefined as never }, config);
  const { openDatabase } = await import("./db/open.ts");
  const db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: 3 });
  try {
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: "run the control plane (web panel, API, modem management)",
    usage: "lteproxy serve [--config FILE]\n\nStarts the control plane. Applies pending migrations first. Uses DATABASE_URL, or an embedded\nPostgreSQL in the data dir when none is set.",
    async run(argv) {
      const args = parseArgs(argv, { values: ["config"] });
      if (args.flags.help) return help("serve");
      // postgres.js is patched (patches/postgres@3.4.9.patch); the guard stays as a second line for the same bug.
      const { installPgCrashGuard } = await import("./health/outage-guard.ts");
      installPgCrashGuard();
      const config = configFrom(args);
      const { startApp } = await import("./app.ts");
      const app = await startApp(config);
      console.log(`lteproxy control plane listening on ${app.url}`);
      const { notifyReady, startWatchdog } = await import("./lib/sd-notify.ts");
      notifyReady();
      const stopWatchdog = startWatchdog();
      const sig = await waitForSignal();
      stopWatchdog();
      console.log(`${sig}: shutting down`);
      await app.stop();
      return 0;
    },
  },
  demo: {
    summary: "run the appliance with simulated modems and the embedded PostgreSQL",
    usage: "lteproxy demo [--modems N] [--net lab|loopback|none] [--http-port P] [--data-dir DIR]\n\nStarts an embedded PostgreSQL, the control plane and (as far as built) simulated modems and\nproxy ports. Prints the panel URL and login.",
    async run(argv) {
      const args = parseArgs(argv, { values: ["modems", "net", "http-port", "data-dir", "config"] });
      if (args.flags.help) return help("demo");
      const modems = intFlag(args, "modems", 30, 0, 200);
      const net = strFlag(args, "net") ?? (process.getuid?.() === 0 ? "lab" : "loopback");
      if (!["lab", "loopback", "none"].includes(net)) throw new AppError("CLI_USAGE", `--net = ${JSON.stringify(net)}: expected lab, loopback or none`);
      const { runDemo } = await import("./demo.ts");
      return runDemo({
        modems, net: net as "lab" | "loopback" | "none",
        httpPort: intFlag(args, "http-port", 8080, 0, 65535),
        dataDir: strFlag(args, "data-dir"),
        configFile: strFlag(args, "config"),
      });
    },
  },
  migrate: {
    summary: "apply pending database migrations",
    usage: "lteproxy migrate [--config FILE] [--status]\n\nApplies sql/NNN_*.sql migrations embedded in this binary, each in a transaction.",
    async run(argv) {
      const args = parseArgs(argv, { values: ["config"], booleans: ["status"] });
      if (args.flags.help) return help("migrate");
      const config = configFrom(args);
      const { openDatabase } = await import("./db/open.ts");
      const { migrate, migrationStatus } = await import("./db/migrate.ts");
      const db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: 2 });
      try {
        if (args.flags.status) {
          const s = await migrationStatus(db.sql);
          console.log(`applied: ${s.applied.map((a) => a.name).join(", ") || "none"}`);
          console.log(`pending: ${s.pending.map((p) => p.name).join(", ") || "none"}`);
          if (s.modified.length) console.log(`MODIFIED after apply: ${s.modified.map((m) => m.name).join(", ")}`);
          return s.modified.length ? 1 : 0;
        }
        const applied = await migrate(db.sql);
        console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
        return 0;
      } finally {
        await db.close();
      }
    },
  },
  doctor: {
    summary: "check the box: database, migrations, tools, devices",
    usage: "lteproxy doctor [--config FILE]\n\nPrints a table of checks (ok/warn/fail). Exits 1 when any check fails.",
    async run(argv) {
      const args = parseArgs(argv, { values: ["config"] });
      if (args.flags.help) return help("doctor");
      const config = configFrom(args);
      const { checkDatabase, checkTools, checkDeviceDir, formatChecks } = await import("./cli/doctor.ts");
      const { openDatabase } = await import("./db/open.ts");
      let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
      let openError: string | undefined;
      try {
        db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: 2 });
      } catch (error) {
        openError = (error as Error).message;
      }
      try {
        const { extraDoctorChecks } = await import("./cli/ops/doctor-extra.ts");
        const results = [
          ...(await checkDatabase(db?.sql, openError)),
          ...checkTools(config),
          checkDeviceDir(config.paths.device_dir),
          ...(await extraDoctorChecks(config, db?.sql)),
        ];
        console.log(formatChecks(results));
        return results.some((r) => r.level === "fail") ? 1 : 0;
      } finally {
        await db?.close();
      }
    },
  },
  modems: {
    summary: "list this node's modems (slot, IMEI, state, operator, signal, WAN IP, port) from the database",
    usage: "lteproxy modems [--json] [--config FILE]",
    async run(argv) {
      return withDb(argv, async (deps, config) => {
        const { modemsCommand } = await import("./cli/modems.ts");
        return modemsCommand(argv, { sql: deps.sql, nodeId: config.node.id });
      });
    },
  },
  rotate: {
    summary: "rotate modems' public IPs (unique-IP guarantee) through the running control plane",
    usage: "lteproxy rotate <imei|slot|all> [--method data|airplane|reboot] [--wait] [--timeout S] [--json] [--config FILE]",
    async run(argv) {
      return withDb(argv, async (deps, config) => {
        const { rotateCommand } = await import("./cli/rotate.ts");
        return rotateCommand(argv, { sql: deps.sql, nodeId: config.node.id });
      });
    },
  },
  at: {
    summary: "send one AT command to a modem (through the running control plane when there is one)",
    usage: "lteproxy at <imei|slot> '<command>' [--config FILE]\n\nOne command, no chaining; the console allow-list applies and every attempt is audited.",
    async run(argv) {
      return withDb(argv, async (deps, config) => {
        const { atCommand } = await import("./cli/modems.ts");
        return atCommand(argv, { sql: deps.sql, nodeId: config.node.id, deviceDir: config.paths.device_dir });
      });
    },
  },
  proxies: {
    summary: "list each modem's proxy port with host, protocols, credentials, state and public IP",
    usage: "lteproxy proxies [--json] [--host HOST] [--config FILE]\n\nWhat to wire into a tool, per modem. --host overrides the address shown (default proxy.public_host,\nthen this machine's hostname).",
    async run(argv) {
      const args = parseArgs(argv, { values: ["config", "host"], booleans: ["json"] });
      if (args.flags.help) return help("proxies");
      const config = configFrom(args);
      const { openDatabase } = await import("./db/open.ts");
      const { listProxies, formatProxies } = await import("./cli/proxies.ts");
      const { hostname } = await import("node:os");
      const db = await openDatabase({ url: config.database.url, dataDir: config.paths.data_dir, max: 2 });
      try {
        const host = strFlag(args, "host") ?? (config.proxy.public_host || hostname());
        const list = await listProxies(db.sql, config.node.id, host);
        console.log(args.flags.json ? JSON.stringify(list, null, 2) : formatProxies(list));
        return 0;
      } finally {
        await db.close();
      }
    },
  },
  ...OPS_COMMANDS,
  cert: {
    summary: "make a self-signed TLS certificate for the panel (this box's names and addresses)",
    usage: "lteproxy cert [--out DIR] [--names a,b] [--ips x,y] [--days N] [--force] [--config FILE]",
    async run(argv) {
      const { certCommand, CERT_ARGS } = await import("./cli/cert.ts");
      return certCommand(argv, configFrom(parseArgs(argv, CERT_ARGS)));
    },
  },
  jwt: {
    summary: "rotate or list the panel's session signing keys",
    usage: "lteproxy jwt rotate|list [--json] [--config FILE]",
    async run(argv) {
      return withDb(argv, async (deps) => {
        const { jwtCommand } = await import("./cli/jwt.ts");
        return jwtCommand(argv, deps.sql);
      });
    },
  },
  proxy: {
    summary: "run the built-in proxy engine (the data plane; one process serves every modem port)",
    usage: "lteproxy proxy [--config FILE]\n\nServes HTTP and SOCKS5 on every modem port from the JSON config the control plane\nwrites (default $LTEPROXY_RUNTIME_DIR/proxy.json). Keeps serving when the control plane or PostgreSQL is down.",
    async run(argv) {
      const { proxyCommand } = await import("./proxy/engine/cli.ts");
      return proxyCommand(argv);
    },
  },
  "dns-relay": {
    summary: "per-modem DNS relay for the 3proxy engine (names resolve through each modem, never the uplink)",
    usage:
      "lteproxy dns-relay [--config FILE] [--timeout-ms N]\n\nAnswers 3proxy's nserver on 127.53.<port/256>.<port%256>:5353 for each modem port by asking that modem's\n" +
      "carrier DNS from the modem's address. Reads $LTEPROXY_RUNTIME_DIR/dns-relay.json (written by the control plane).",
    async run(argv) {
      const { dnsRelayCommand } = await import("./proxy/dns-relay/cli.ts");
      return dnsRelayCommand(argv);
    },
  },
  sim: {
    summary: "the lab: simulated EC25 modems (and a virtual network), fault injection (sim ctl), lab qmicli",
    usage: "lteproxy sim --help",
    async run(argv) {
      const { simCommand } = await import("./sim/cli.ts");
      return simCommand(argv);
    },
  },
  version: {
    summary: "print version, commit and build date",
    usage: "lteproxy version",
    async run(argv) {
      const args = parseArgs(argv);
      if (args.flags.help) return help("version");
      console.log(versionLine());
      return 0;
    },
  },
};

function help(command?: string): number {
  if (command && COMMANDS[command]) {
    console.log(COMMANDS[command].usage);
    return 0;
  }
  const w = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  console.log("usage: lteproxy <command> [options]\n\ncommands:");
  for (const [name, c] of Object.entries(COMMANDS)) console.log(`  ${name.padEnd(w)}  ${c.summary}`);
  console.log("\nRun 'lteproxy <command> --help' for a command's options.");
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") return help(rest[0]);
  if (command === "--version") return COMMANDS.version!.run([]);
  const cmd = COMMANDS[command];
  if (!cmd) {
    console.error(`lteproxy: unknown command '${command}'. Run 'lteproxy --help'.`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (error) {
    if (error instanceof AppError) {
      console.error(`lteproxy ${command}: ${error.message}`);
      return error.code === "CLI_USAGE" ? 2 : 1;
    }
    console.error(`lteproxy ${command}: ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
