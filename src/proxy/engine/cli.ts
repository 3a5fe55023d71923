/**
 * `lteproxy proxy [--config FILE]`: the data-plane process. It keeps serving whatever config it
 * last accepted when the control plane or PostgreSQL is down; it reloads on inotify and SIGHUP,
 * and drains on SIGTERM.
 */
import { dirname } from "node:path";
import { hasCode } from "../../lib/errors.ts";
import { childLogger } from "../../lib/logger.ts";
import { readProxyConfigFile, watchProxyConfigFile } from "./config-file.ts";
import { startProxyEngine } from "./engine.ts";
import { defaultConfigPath } from "./runtime-dir.ts";

const HELP = `Usage: lteproxy proxy [--config FILE] [--drain-ms N]

Runs the built-in proxy engine: one HTTP + SOCKS5 port per modem, in one process.

  --config FILE   proxy config written by the control plane
                  (default: $LTEPROXY_RUNTIME_DIR/proxy.json; runtime dir /run/lteproxy as root,
                  else $XDG_RUNTIME_DIR/lteproxy or /tmp/lteproxy-$UID)
  --drain-ms N    on SIGTERM, let connections finish for up to N ms (default 5000)
  -h, --help      this text

The file is reloaded when it changes (atomic rename) and on SIGHUP, without dropping
connections. A file that does not validate is refused; the previous config stays in force.
Counters: GET /stats and /healthz on the config's statsSocket (HTTP over a unix socket).
`;

interface Args {
  config: string;
  drainMs: number;
  help: boolean;
}

export function parseProxyArgs(argv: string[]): Args | string {
  const out: Args = { config: defaultConfigPath(), drainMs: 5000, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i]);
    if (a === "-h" || a === "--help") out.help = true;
    else if (a === "--config" || a.startsWith("--config=")) {
      const v = value();
      if (!v) return "--config needs a file";
      out.config = v;
    } else if (a === "--drain-ms" || a.startsWith("--drain-ms=")) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) return "--drain-ms needs a whole number of milliseconds";
      out.drainMs = n;
    } else return `unknown argument: ${a}`;
  }
  return out;
}

/** Entry point for `lteproxy proxy`; resolves with the exit code once the engine has stopped. */
export async function proxyCommand(argv: string[]): Promise<number> {
  const args = parseProxyArgs(argv);
  if (typeof args === "string") {
    process.stderr.write(`lteproxy proxy: ${args}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = childLogger("proxy");
  const path = args.config;

  // Start even without a usable file: the control plane may not have written it yet, and a data
  // plane that is up (with /healthz saying why it serves nothing) beats a restart loop.
  let initial: unknown = { version: "none", ports: [] };
  let initialError: string | null = null;
  try {
    initial = readProxyConfigFile(path).config;
  } catch (e) {
    initialError = e instanceof Error ? e.message : String(e);
    if (hasCode(e, "PROXY_CONFIG_MISSING")) log.warn({ path }, "no proxy config yet; waiting for it");
    else log.error({ err: e, path }, "proxy config refused; serving no ports until a valid one appears");
  }

  const engine = await startProxyEngine({ config: initial, runtimeDir: dirname(path), log, configPath: path });
  if (initialError) engine.noteConfigError(initialError);

  let lastText = "";
  const reloadFromFile = (why: string) => {
    try {
      const { config, text } = readProxyConfigFile(path);
      if (text === lastText && why === "inotify") return;
      lastText = text;
      engine.reload(config);
    } catch (e) {
      log.error({ err: e, path, why }, "proxy config refused; the previous one stays in force");
      engine.noteConfigError(e instanceof Error ? e.message : String(e));
    }
  };
  const unwatch = watchProxyConfigFile(path, () => reloadFromFile("inotify"));
  const onHup = () => reloadFromFile("SIGHUP");
  process.on("SIGHUP", onHup);

  return await new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, "stopping: no new connections, draining");
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      process.off("SIGHUP", onHup);
      unwatch();
      void engine.stop({ drainMs: args.drainMs }).then(() => resolve(0));
    };
    const onTerm = () => shutdown("SIGTERM");
    const onInt = () => shutdown("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
  });
}
