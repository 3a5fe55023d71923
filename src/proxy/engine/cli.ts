/**
 * `lteproxy proxy [--config FILE]`: the data-plane process. It keeps serving whatever config it
 * last accepted when the control plane or PostgreSQL is down; it reloads on inotify and SIGHUP,
 * and drains on SIGTERM.
 */
import { dirname } from "node:path";
import { hasCode } from "../../lib/errors.ts";
import { childLogger } from "../../lib/logger.ts";
import { parseFileDaemonArgs, runFileDaemon } from "../file-daemon.ts";
import { readProxyConfigFile } from "./config-file.ts";
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

export function parseProxyArgs(argv: string[]): { config: string; drainMs: number; help: boolean } | string {
  const r = parseFileDaemonArgs(argv, {
    config: defaultConfigPath(),
    numbers: { "drain-ms": { default: 5000, min: 0, max: Number.MAX_SAFE_INTEGER, error: "--drain-ms needs a whole number of milliseconds" } },
  });
  return typeof r === "string" ? r : { config: r.config, drainMs: r.numbers["drain-ms"], help: r.help };
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
  return runFileDaemon({
    path,
    log,
    reload: reloadFromFile,
    stop: (signal) => {
      log.info({ signal }, "stopping: no new connections, draining");
      return engine.stop({ drainMs: args.drainMs });
    },
  });
}
