/**
 * `lteproxy dns-relay [--config FILE]`: the per-modem DNS relay for the 3proxy backend as its own process. It keeps
 * serving the last config it accepted; it reloads on inotify (the writer renames atomically) and on SIGHUP, and
 * stops on SIGTERM/SIGINT.
 */
import { hasCode } from "../../lib/errors.ts";
import { childLogger } from "../../lib/logger.ts";
import { parseFileDaemonArgs, runFileDaemon } from "../file-daemon.ts";
import { defaultDnsRelayConfigPath, readDnsRelayFile } from "./config-file.ts";
import { createDnsRelay } from "./relay.ts";

const HELP = `Usage: lteproxy dns-relay [--config FILE] [--timeout-ms N]

Per-modem DNS relay for the 3proxy backend. For every modem in the file it listens on
UDP 127.53.<port/256>.<port%256>:5353 and forwards each query from a socket bound to the
modem's address to the carrier's DNS servers, so names resolve through that modem.
No answer from any server, or no modem address: SERVFAIL, never another route.

  --config FILE    written by the control plane (default: $LTEPROXY_RUNTIME_DIR/dns-relay.json)
  --timeout-ms N   per server, before the next one is asked (default 1500)
  -h, --help       this text

The file is reloaded when it is replaced and on SIGHUP; a file that does not validate is
refused and the previous config stays in force.
`;

export function parseDnsRelayArgs(argv: string[]): { config: string; timeoutMs: number; help: boolean } | string {
  const r = parseFileDaemonArgs(argv, {
    config: defaultDnsRelayConfigPath(),
    numbers: { "timeout-ms": { default: 1500, min: 1, max: 60_000, error: "--timeout-ms needs a whole number of milliseconds (1-60000)" } },
  });
  return typeof r === "string" ? r : { config: r.config, timeoutMs: r.numbers["timeout-ms"], help: r.help };
}

/** Entry point for `lteproxy dns-relay`; resolves with the exit code once the relay has stopped. */
export async function dnsRelayCommand(argv: string[]): Promise<number> {
  const args = parseDnsRelayArgs(argv);
  if (typeof args === "string") {
    process.stderr.write(`lteproxy dns-relay: ${args}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = childLogger("dns-relay");
  const path = args.config;
  const relay = createDnsRelay({ timeoutMs: args.timeoutMs });

  let lastText: string | null = null;
  let reloading: Promise<void> = Promise.resolve();
  const reload = (why: string) => {
    reloading = reloading.then(async () => {
      try {
        const { config, text } = readDnsRelayFile(path);
        if (text === lastText && why === "inotify") return;
        await relay.apply(config.entries);
        lastText = text;
        log.info({ path, why, version: config.version, entries: config.entries.length }, "DNS relay config applied");
      } catch (e) {
        // Waiting for the control plane's first write is normal; anything else is a refused file.
        if (hasCode(e, "DNS_RELAY_MISSING") && lastText === null) log.warn({ path }, "no DNS relay config yet; waiting for it");
        else log.error({ err: e, path, why }, "DNS relay config refused; the previous one stays in force");
      }
    });
  };
  reload("start");
  return runFileDaemon({
    path,
    log,
    reload,
    stop: async (signal) => {
      log.info({ signal }, "DNS relay stopping");
      await reloading;
      await relay.close();
    },
  });
}
